import { ContainerGroup } from './container-group';
import { Step, type DagNode } from './step';
import { WaitForCallback } from './wait-for-callback';
import { MapStep } from './map';
import type { Workflow, WorkflowParameters } from './workflow';

/** Pods one run of a workflow starts, against a naive rendering with one pod per step. */
export interface PodsPerRun {
  readonly workflow: string;
  /** Pods this library's rendering starts: container steps and groups (per fan-out item), a map's split and merge pods and iterations, plus the one agent pod that runs every HTTP step. */
  readonly pods: number;
  /** Pods if every step (group members, service calls and lifecycle events included) were its own pod. */
  readonly naivePods: number;
  /** Items assumed for a fan-out over a list known only at run time. */
  readonly assumedFanOut: number;
  /** HTTP steps per run (lifecycle events, service tasks), all in the shared agent pod. */
  readonly httpSteps: number;
  /** Of `pods`, the split and merge pods of Map steps (two per map), the price of a Map besides its iterations. */
  readonly mapPods: number;
}

function items(node: DagNode, assumed: number): number {
  return node.literalItems?.length ?? (node.fanOut ? assumed : 1);
}

/** Counts the pods one run of `workflow` starts (every step assumed to run, none retried). */
export function podsPerRun(workflow: Workflow<WorkflowParameters>, assumedFanOut = workflow.assumedFanOut): PodsPerRun {
  // the running hook and the completed event are HTTP steps (the claim is the state service's, before the run).
  let httpSteps = 2;
  let pods = 0;
  let naive = 2;
  let mapPods = 0;
  const count = (node: DagNode) => {
    const n = items(node, assumedFanOut);
    if (node instanceof ContainerGroup) {
      pods += n;
      naive += n * node.members.length;
    } else if (node instanceof Step) {
      if (node.task.kind === 'service') httpSteps += n;
      else pods += n;
      naive += n;
    } else if (node instanceof MapStep) {
      // a split and a merge pod, then per iteration (the assumed items, per batch) a pod per container step of it
      pods += n * 2;
      mapPods += n * 2;
      naive += n * 2;
      const iterations = n * Math.ceil(assumedFanOut / node.batchSize);
      for (const task of node.iterationTasks) {
        if (task.kind === 'service') httpSteps += iterations;
        else pods += iterations;
        naive += iterations;
      }
    } else if (node instanceof WaitForCallback) {
      // its HTTP call opens the task; the suspend node that waits is no pod, naive or not
      httpSteps += n;
      naive += n;
    }
  };
  workflow.nodes.forEach(count);
  workflow.exitHandlerSteps.forEach(count);
  return { workflow: workflow.templateName, pods: pods + (httpSteps > 0 ? 1 : 0), naivePods: naive, assumedFanOut, httpSteps, mapPods };
}

/** A plain-text table of pods per run. */
export function formatPodsTable(rows: readonly PodsPerRun[]): string {
  const header = ['workflow', 'pods/run', 'naive pods/run', 'saved', 'http steps (agent pod)', 'map split/merge pods', 'assumed fan-out'];
  const body = rows.map((r) => [
    r.workflow, String(r.pods), String(r.naivePods), `${Math.round((1 - r.pods / r.naivePods) * 100)}%`, String(r.httpSteps), String(r.mapPods), String(r.assumedFanOut),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
