/**
 * Manifests of a fixture app of the test's own (not workflows/): the test builds tasks and
 * workflows into `app`, and the events layer is added as documented, so the library's
 * constructs are exercised end to end without depending on the organisation's workflows.
 */
import type { App } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { synthesize, type Workflow, type WorkflowParameters } from '../../../constructs';
import { PlatformEvents } from '../../../constructs/events';
import type { Doc } from './argo';

export interface FixtureManifests {
  readonly docs: Doc[];
  find(kind: string, name: string): Doc;
  /** The task-library template a workflow's DAG task runs (following its templateRef). */
  taskTemplate(workflow: string, task: string): Doc;
}

export function fixtureManifests(app: App, workflows: readonly Workflow<WorkflowParameters>[]): FixtureManifests {
  new PlatformEvents(app, 'events', { workflows });
  const docs = [...synthesize(app).values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as Doc)).filter(Boolean);
  const find = (kind: string, name: string): Doc => {
    const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
    if (!doc) throw new Error(`the fixture app has no ${kind}/${name}`);
    return doc;
  };
  return {
    docs,
    find,
    taskTemplate(workflow, task) {
      const wf = find('WorkflowTemplate', workflow);
      const main = (wf.spec.templates as Doc[]).find((t) => t.name === wf.spec.entrypoint)!;
      const dagTask = (main.dag.tasks as Doc[]).find((t) => t.name === task);
      if (!dagTask?.templateRef) throw new Error(`${workflow} has no DAG task ${task} with a templateRef`);
      const lib = find('WorkflowTemplate', dagTask.templateRef.name);
      return (lib.spec.templates as Doc[]).find((t) => t.name === dagTask.templateRef.template)!;
    },
  };
}
