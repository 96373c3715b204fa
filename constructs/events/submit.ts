import { parameters, type TriggerParameter } from './sensor';

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
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A `k8s` trigger action creating a Workflow from `workflow`'s WorkflowTemplate. A fixed
 * `metadata.name` (never `generateName`) makes a second delivery of the same event fail with
 * AlreadyExists instead of starting a second run; `create` needs only the `create` verb.
 */
export function submitAction(workflow: SubmitTarget, dependency: string, submission: Submission, by: string): Record<string, unknown> {
  const names = Object.keys(submission.arguments);
  const declared = new Set(workflow.parameterNames);
  for (const name of names) {
    if (!declared.has(name)) {
      throw new Error(`${by}: passes parameter "${name}" to workflow ${workflow.templateName}, which declares only ${[...declared].join(', ')}`);
    }
  }
  const args = names.map((name) => ({ name, value: '' }));
  return {
    k8s: {
      operation: 'create',
      source: {
        resource: {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Workflow',
          metadata: {
            namespace: workflow.namespace,
            ...(submission.labels ? { labels: { ...submission.labels } } : {}),
          },
          spec: { workflowTemplateRef: { name: workflow.templateName }, arguments: { parameters: args } },
        },
      },
      parameters: parameters(dependency, [
        { dest: 'metadata.name', dataTemplate: submission.nameTemplate },
        ...names.map((name, i) => ({ dest: `spec.arguments.parameters.${i}.value`, ...submission.arguments[name] })),
      ]),
    },
  };
}
