/**
 * A Map step (constructs/map.ts) run the way the Argo Workflows v4 controller runs its DAG
 * template, for one node of a run:
 * - the map's DAG (split -> item -> merge) through runDag (dag.go depends/when/phase), the
 *   split and merge pods run for real with Argo's S3 artifact handling over a local folder
 *   (script-pod.ts);
 * - `item`'s `withParam` expanded as workflow/controller/dag.go expandTask and
 *   operator.go processItem do: one node per list entry, a string entry as `{{item}}`, an
 *   object entry's keys as `{{item.<key>}}`; an empty list makes the task Skipped ("Skipped,
 *   empty params"); the task group is Failed (or Error) when one of its children is, else
 *   Succeeded (dag.go executeDAGTask, groupPhase), whatever their `continueOn`;
 * - an iteration is a task (`templateRef`, played by the caller) or the map's iteration DAG
 *   template, run with runDag over its steps (each played by the caller), its inputs from the
 *   item task's arguments.
 * The caller plays every task a step runs: it gets the step's rendered arguments and the task
 * template, writes the output payload itself and says how the node ended (retries applied,
 * e.g. with runRetryNode).
 */
import { inputVariables, renderTags, type Doc } from './argo';
import { runDag, type DagRun, type TaskOutcome } from './dag';
import type { ArgoRun } from './run';
import { runScriptPod, type LocalS3, type ScriptNode } from './script-pod';

export interface TaskCall {
  /** The DAG task's name: `item` for a map of one task, the iteration step's name otherwise. */
  readonly step: string;
  /** The iteration's index (`00000`). */
  readonly index: string;
  /** The task template the step runs (its templateRef followed). */
  readonly template: Doc;
  /** The step's arguments as the controller renders them. */
  readonly args: Readonly<Record<string, string>>;
}

export interface MapIterationRun {
  readonly index: string;
  /** The item task's rendered arguments (input, index, selected values...). */
  readonly args: Readonly<Record<string, string>>;
  readonly phase: TaskOutcome['phase'];
  /** For an iteration DAG: its steps' phases. */
  readonly steps?: DagRun['phases'];
}

export interface MapRun {
  readonly phase: DagRun['phase'];
  readonly phases: DagRun['phases'];
  readonly split?: ScriptNode;
  readonly merge?: ScriptNode;
  readonly iterations: readonly MapIterationRun[];
}

/** Runs DAG task `taskName` of `run`'s entry DAG, a Map step, with `scope` (the run's variables). */
export function runMapStep(
  run: ArgoRun,
  taskName: string,
  s3: LocalS3,
  podRoot: string,
  taskTemplate: (templateRef: Doc) => Doc,
  play: (call: TaskCall) => TaskOutcome,
): MapRun {
  const scope = run.scope();
  const task = run.dagTasks.find((t) => t.name === taskName);
  if (!task) throw new Error(`no DAG task ${taskName}`);
  const template = run.templateNamed(String(task.template));
  const renderArgs = (t: Doc, vars: Record<string, string>) =>
    Object.fromEntries(((t.arguments?.parameters ?? []) as Doc[]).map((p) => [p.name, renderTags(String(p.value), vars, `${t.name} argument ${p.name}`)]));
  const local: Record<string, string> = { ...scope, ...inputVariables(template, renderArgs(task, scope)) };
  const result: { split?: ScriptNode; merge?: ScriptNode; iterations: MapIterationRun[] } = { iterations: [] };

  const pod = (t: Doc, name: 'split' | 'merge'): TaskOutcome => {
    const podTemplate = run.templateNamed(String(t.template));
    const node = runScriptPod(podTemplate, { ...local, ...inputVariables(podTemplate, renderArgs(t, local)) }, s3, `${podRoot}/${name}`);
    result[name] = node;
    for (const [k, v] of Object.entries(node.outputs)) local[`tasks.${t.name}.outputs.parameters.${k}`] = v;
    return { phase: node.exitCode === 0 ? 'Succeeded' : 'Failed', exitCode: node.exitCode, parameters: node.outputs };
  };

  const iteration = (t: Doc): TaskOutcome => {
    const entries = JSON.parse(renderTags(String(t.withParam), local, `${t.name} withParam`)) as unknown[];
    if (!Array.isArray(entries)) throw new Error('withParam value could not be parsed as a JSON list');
    if (entries.length === 0) return { phase: 'Skipped' };
    let group: TaskOutcome['phase'] = 'Succeeded';
    for (const entry of entries) {
      const item: Record<string, string> = typeof entry === 'string' ? { item: entry }
        : Object.fromEntries(Object.entries(entry as Record<string, unknown>).map(([k, v]) => [`item.${k}`, String(v)]));
      const args = renderArgs(t, { ...local, ...item });
      const index = args.index ?? args.input!.replace(/^.*\/split\/(\d+)\.json$/, '$1');
      let phase: TaskOutcome['phase'];
      let steps: DagRun['phases'] | undefined;
      if (t.templateRef) {
        phase = play({ step: String(t.name), index, template: taskTemplate(t.templateRef), args }).phase;
      } else {
        const dagTemplate = run.templateNamed(String(t.template));
        const inner = { ...scope, ...inputVariables(dagTemplate, args) };
        const dag = runDag(dagTemplate.dag.tasks as Doc[], inner, (step) =>
          play({ step: String(step.name), index, template: taskTemplate(step.templateRef), args: renderArgs(step, inner) }));
        phase = dag.phase;
        steps = dag.phases;
      }
      result.iterations.push({ index, args, phase, ...(steps ? { steps } : {}) });
      if (phase === 'Failed' || phase === 'Error') group = phase;
    }
    return { phase: group };
  };

  // The item task's expansion is done by `iteration`; runDag sees the task group as one node.
  const tasks = (template.dag.tasks as Doc[]).map((t) => (t.withParam ? { ...t, withParam: undefined } : t));
  const dag = runDag(tasks, local, (t) => {
    const original = (template.dag.tasks as Doc[]).find((x) => x.name === t.name)!;
    if (original.withParam) return iteration(original);
    return pod(t, t.name === 'split' ? 'split' : 'merge');
  });
  return { phase: dag.phase, phases: dag.phases, ...result };
}
