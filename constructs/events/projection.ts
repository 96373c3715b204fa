import type { Construct } from 'constructs';
import { projectionDataKey, type ProjectionSources } from '../payload';
import type { Workflow, WorkflowParameters } from '../workflow';
import type { TriggerParameter } from './sensor';

/** Where an ingress event holds the payload: the body itself, or an SNS envelope's `Message`. */
export const INGRESS_PROJECTION_SOURCES: ProjectionSources = {
  processes: ['process', 'process.0', 'Message|@fromstr|process', 'Message|@fromstr|process.0'],
  payloads: ['', 'Message|@fromstr|'],
};

/** A `run.finished` event holds the next run's process element (`next.0`), never its items. */
export const NEXT_PROJECTION_SOURCES: ProjectionSources = { processes: ['next.0'], payloads: [] };

/**
 * Trigger arguments filling `workflow`'s payload projections (constructs/payload.ts) from the
 * event: a gjson `dataKey` where the event holds the value, '' where it does not (a missing
 * value is '' too, as `projectPayload` says, so the trigger never fails on it).
 */
export function projectionArguments(workflow: Workflow<WorkflowParameters>, sources: ProjectionSources): Record<string, Omit<TriggerParameter, 'dest'>> {
  return Object.fromEntries(Object.entries(workflow.payload.declaration).map(([name, path]) => {
    const dataKey = projectionDataKey(path, sources);
    return [name, dataKey === undefined ? { value: '' } : { dataKey, value: '' }];
  }));
}

/**
 * A validation naming projections declared after the sensors were built (their triggers would
 * not fill them), like then() links added after the events layer.
 */
export function projectionsFrozen(scope: Construct, workflows: readonly Workflow<WorkflowParameters>[]): void {
  const seen = new Map(workflows.map((w) => [w, w.payload.parameterNames.join(',')]));
  scope.node.addValidation({
    validate: () => workflows
      .filter((w) => w.payload.parameterNames.join(',') !== seen.get(w))
      .map((w) => `${w.node.path}.payload was read after the events layer was created, so the sensors do not fill that projection; create PlatformEvents after building the workflows`),
  });
}
