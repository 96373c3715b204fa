import { Workflow } from '../workflow';
import { parameters, type TriggerParameter } from './sensor';
import { HTTP_SUCCESS_POLICY, type StateServiceTarget } from './state-service';

/** A WorkflowTemplate a trigger can submit: a user `Workflow` or a platform template such as `PayloadDispatch`. */
export interface SubmitTarget {
  readonly templateName: string;
  readonly namespace: string;
  readonly parameterNames: readonly string[];
}

/** Values for a submitted run: its deterministic name and workflow parameters by name. */
export interface Submission {
  /** `dataTemplate` rendering `metadata.name`; a failure fails the trigger (no fallback name). */
  readonly nameTemplate: string;
  /** Workflow parameter name to where its value comes from. */
  readonly arguments: Readonly<Record<string, Omit<TriggerParameter, 'dest'>>>;
  /** Value of the Workflow's label `swoop.dev/started-by`. */
  readonly startedBy?: string;
}

/** An sjson path component: `.`, `*`, `?` and `\` are escaped so a parameter name is one key. */
function sjsonKey(name: string): string {
  return name.replace(/[.*?\\]/g, '\\$&');
}

/**
 * An `http` trigger handing the run to the state service's `POST /submit` (docs/state.md,
 * "Submissions"), which claims the payload in SQL and creates the Workflow (`workflowTemplateRef`,
 * the arguments, a fixed `metadata.name`) only when the claim is accepted: a duplicate starts
 * no Workflow and no pod. Platform templates (no `payload-id` parameter: dispatch, per-feature
 * callbacks) are created without a claim. A workflow's payload projections travel as
 * `projection` (`{"<parameter>": "<path>"}`): the service fills those parameters itself. The name is computed here, from the delivery, so a
 * redelivery is the same run: the service answers 200 and creates nothing. Only 2xx counts as
 * delivered; anything else is retried (retryStrategy) and then dead-lettered.
 */
export function submitAction(
  workflow: SubmitTarget, dependency: string, submission: Submission, by: string, state: StateServiceTarget,
): { action: Record<string, unknown>; extra: Record<string, unknown> } {
  const names = Object.keys(submission.arguments);
  const declared = new Set(workflow.parameterNames);
  for (const name of names) {
    if (!declared.has(name)) {
      throw new Error(`${by}: passes parameter "${name}" to workflow ${workflow.templateName}, which declares only ${[...declared].join(', ')}`);
    }
    // sjson would make an all-digit key an array index.
    if (/^\d+$/.test(name)) throw new Error(`${by}: parameter "${name}" of workflow ${workflow.templateName} is all digits, which a trigger payload cannot carry as a key; rename it`);
  }
  const claims = Workflow.isWorkflow(workflow);
  // The state service fills the payload projections from the payload it claims (constructs/payload.ts); the trigger says which.
  const projection = claims ? Object.entries(workflow.payload.declaration) : [];
  return {
    action: {
      http: {
        url: `${state.url.replace(/\/+$/, '')}/submit`,
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        secureHeaders: [{ name: 'Authorization', valueFrom: { secretKeyRef: { name: state.authorization.name, key: state.authorization.key } } }],
        // The service claims (one SQL call) and creates (one API call, 10 s timeout) within this.
        timeout: 30,
        payload: parameters(dependency, [
          { dest: 'workflow', value: workflow.templateName },
          { dest: 'namespace', value: workflow.namespace },
          { dest: 'claim', value: String(claims) },
          ...(submission.startedBy ? [{ dest: 'startedBy', value: submission.startedBy }] : []),
          { dest: 'name', dataTemplate: submission.nameTemplate },
          ...names.map((name) => ({ dest: `arguments.${sjsonKey(name)}`, ...submission.arguments[name] })),
          ...projection.map(([name, path]) => ({ dest: `projection.${sjsonKey(name)}`, value: path })),
        ]),
      },
    },
    extra: HTTP_SUCCESS_POLICY,
  };
}
