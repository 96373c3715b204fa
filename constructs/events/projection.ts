import type { Construct } from 'constructs';
import type { Workflow, WorkflowParameters } from '../workflow';

/**
 * A validation naming projections declared after the sensors were built (their triggers would
 * not send them to the state service), like then() links added after the events layer.
 */
export function projectionsFrozen(scope: Construct, workflows: readonly Workflow<WorkflowParameters>[]): void {
  const seen = new Map(workflows.map((w) => [w, w.payload.parameterNames.join(',')]));
  scope.node.addValidation({
    validate: () => workflows
      .filter((w) => w.payload.parameterNames.join(',') !== seen.get(w))
      .map((w) => `${w.node.path}.payload was read after the events layer was created, so the sensors do not send that projection; create PlatformEvents after building the workflows`),
  });
}
