/**
 * The runs sensor triggers hand to the state service (`POST /submit`, docs/state.md
 * "Submissions"), read from simulated firings with the service's own parser and the Workflow
 * object it would create before filling the payload projections (state/submit.ts), so a
 * trigger whose body the service would refuse fails here. Whether a run is created is the service's decision (claim, AlreadyExists),
 * tested against it in test/state/submit.test.ts and test/e2e.
 */
import { parseSubmit, type SubmitRequest, workflowObject } from '../../state/submit';
import type { Firing } from '../../tools/simulator';

export interface Submitted {
  readonly trigger: string;
  readonly template: string;
  readonly name: string;
  readonly params: Record<string, string>;
  /** Whether the service claims the payload first (user workflows) or not (platform templates). */
  readonly claim: boolean;
  readonly startedBy: string;
  /** The Workflow the service creates when the claim is accepted. */
  readonly resource: Record<string, any>;
  readonly request: SubmitRequest;
  readonly url: string;
  readonly allowedStatuses?: readonly number[];
}

export function isSubmit(f: Firing): boolean {
  return f.action.type === 'http' && /\/submit$/.test(f.action.url);
}

export function submissions(firings: readonly Firing[]): Submitted[] {
  return firings.filter(isSubmit).map((f) => {
    const a = f.action as Extract<Firing['action'], { type: 'http' }>;
    const request = parseSubmit(a.body);
    return {
      trigger: f.trigger,
      template: request.workflow,
      name: request.name,
      params: { ...request.arguments },
      claim: request.claim,
      startedBy: request.startedBy,
      resource: workflowObject(request),
      request,
      url: a.url,
      ...(a.allowedStatuses ? { allowedStatuses: a.allowedStatuses } : {}),
    };
  });
}
