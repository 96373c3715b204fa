import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { checkBoolean, checkParameterSpecs, isJsonList } from './checks';
import { failAt } from './errors';
import { dnsLabelProblem, labelValueProblem, parameterNameProblem } from './names';
import { INPUT_PARAM, OUTPUT_PARAM, TASK_ENTRY_TEMPLATE } from './platform';
import {
  backoffProblems, errorNamesProblems, rulesExpression, rulesProblems, type ErrorNames, type RetryBackoff, type RetryRule,
} from './retry';

/** An input parameter a task declares. A parameter without `default` is required at every step. */
export interface InputParameterSpec {
  /** Shown in the Argo UI. @default none */
  readonly description?: string;
  /** Value when a step does not pass one; its presence makes the parameter optional. @default required */
  readonly default?: string;
  /** Allowed values. @default any */
  readonly enum?: readonly string[];
}

/** An output parameter: a small value the task writes to a file. */
export interface OutputParameterSpec {
  /** File the container writes the value to. */
  readonly path: string;
  /** Value when the file is missing. @default the step fails when the file is missing */
  readonly default?: string;
  readonly description?: string;
  /** The file holds a JSON list, so steps may fan out over it (`forEach`). @default false: one value */
  readonly list?: boolean;
}

/** An input artifact, fetched from the artifact repository into `path` before the task starts. */
export interface InputArtifactSpec {
  readonly path: string;
  /** The step may omit it. @default false */
  readonly optional?: boolean;
}

/** An output artifact, uploaded from `path` to the workflow's artifact repository. */
export interface OutputArtifactSpec {
  readonly path: string;
  /** Do not fail when the file is missing. @default false */
  readonly optional?: boolean;
  /** Store as-is instead of tar+gzip. @default true (no archive, so other tools read it directly) */
  readonly raw?: boolean;
}

export type InputParameters = Record<string, InputParameterSpec>;
export type OutputParameters = Record<string, OutputParameterSpec>;
export type InputArtifacts = Record<string, InputArtifactSpec>;
export type OutputArtifacts = Record<string, OutputArtifactSpec>;
/** No declarations. */
export type None = Record<never, never>;

/** Typed inputs of a task; parameter and artifact names become types (see Workflow.addStep). */
export interface TaskInputs<IP extends InputParameters, IA extends InputArtifacts> {
  readonly parameters?: IP;
  readonly artifacts?: IA;
}

export interface TaskOutputs<OP extends OutputParameters, OA extends OutputArtifacts> {
  readonly parameters?: OP;
  readonly artifacts?: OA;
}

/**
 * How the Argo controller retries a failed attempt: either one `limit` with a `policy`, or
 * `rules` that match failures by declared error name, class or message (constructs/retry.ts).
 */
export interface RetryPolicy {
  /** Retries after the first attempt. @default the largest rule limit when `rules` are given; required otherwise */
  readonly limit?: number;
  /** Which failures are retried; not with `rules`, whose `on` says it. @default 'Always' (spot interruptions surface as errors, program failures as failures) */
  readonly policy?: 'Always' | 'OnFailure' | 'OnError' | 'OnTransientError';
  /** Retry rules, first match decides (Step Functions retriers). @default none: `policy` decides */
  readonly rules?: readonly RetryRule[];
  /** Wait `delay * factor^(n-1)` (at most `cap`) before retry n; stop retrying once `maxDuration` has passed. @default retry at once */
  readonly backoff?: RetryBackoff;
}

/** A task's `retry` prop: a policy, or just its rules (with the default backoff). */
export type RetrySpec = RetryPolicy | readonly RetryRule[];

/** The policy a `retry` prop means; rules alone take `defaultBackoff`. */
export function normalizeRetry(spec: RetrySpec | undefined, fallback: RetryPolicy): RetryPolicy {
  if (spec === undefined) return fallback;
  if (Array.isArray(spec)) return { rules: spec as readonly RetryRule[], backoff: fallback.backoff };
  return spec as RetryPolicy;
}

/** Retries the policy allows at most. */
export function retryLimit(retry: RetryPolicy): number {
  if (retry.rules?.length) return Math.max(...retry.rules.map((r) => r.limit));
  return retry.limit ?? 0;
}

/** Problems of a policy; `exitCodes` is false for HTTP steps, which have none. */
export function retryProblems(retry: RetryPolicy, errors: ErrorNames, opts: { exitCodes: boolean } = { exitCodes: true }): string[] {
  const problems: string[] = [];
  if (retry.rules !== undefined) {
    if (retry.rules.length === 0) problems.push('retry rules are empty; give at least one rule or use limit');
    if (retry.policy !== undefined) problems.push('retry has both policy and rules; the rules decide, so name the classes in their on (Failed, Error, transient) and drop policy');
    if (retry.limit !== undefined) problems.push("retry has both limit and rules; the limit is the largest rule's, so drop limit");
    problems.push(...rulesProblems(retry.rules, errors, opts));
  } else if (retry.limit === undefined) {
    problems.push('retry needs a limit or rules');
  } else if (retry.limit < 0 || !Number.isInteger(retry.limit)) {
    problems.push(`retry limit is ${retry.limit}; use a whole number >= 0`);
  }
  problems.push(...backoffProblems(retry.backoff));
  return problems;
}

export function renderRetry(retry: RetryPolicy, errors: ErrorNames = {}): Record<string, unknown> {
  const rules = retry.rules?.length ? retry.rules : undefined;
  return {
    limit: retryLimit(retry),
    retryPolicy: rules ? 'Always' : retry.policy ?? 'Always',
    ...(rules ? { expression: rulesExpression(rules, errors) } : {}),
    ...(retry.backoff
      ? {
          backoff: {
            duration: `${retry.backoff.delay.toSeconds()}s`,
            factor: retry.backoff.factor ?? 2,
            ...(retry.backoff.cap ? { cap: `${retry.backoff.cap.toSeconds()}s` } : {}),
            ...(retry.backoff.maxDuration ? { maxDuration: `${retry.backoff.maxDuration.toSeconds()}s` } : {}),
          },
        }
      : {}),
  };
}

export interface TaskBaseProps<IP extends InputParameters, OP extends OutputParameters, IA extends InputArtifacts, OA extends OutputArtifacts> {
  /** WorkflowTemplate name of the task. @default the construct id */
  readonly name?: string;
  /** Version label (`app.kubernetes.io/version`). @default none */
  readonly version?: string;
  /** What the task does, shown in the Argo UI. @default none */
  readonly description?: string;
  readonly inputs?: TaskInputs<IP, IA>;
  readonly outputs?: TaskOutputs<OP, OA>;
  /** Named failures: error name -> exit code, e.g. `{ throttled: 75 }`, for retry rules and catches. @default none */
  readonly errors?: ErrorNames;
}

export type TaskKind = 'container' | 'service';

/**
 * A reusable unit of work with the swoop task interface: it reads the payload at `input`
 * and writes its output payload to `output`. Synthesized once, as its own WorkflowTemplate
 * in a TaskLibrary, and referenced by workflows with `templateRef`.
 */
export abstract class Task<
  IP extends InputParameters = None,
  OP extends OutputParameters = None,
  IA extends InputArtifacts = None,
  OA extends OutputArtifacts = None,
> extends Construct {
  /** True for any Task, across copies of this library. */
  public static isTask(x: unknown): x is Task<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts> {
    return x !== null && typeof x === 'object' && (x as { [TASK_MARK]?: boolean })[TASK_MARK] === true;
  }

  /** WorkflowTemplate `metadata.name`. */
  public readonly taskName: string;
  public abstract readonly kind: TaskKind;
  public readonly inputParameters: IP;
  public readonly outputParameters: OP;
  public readonly inputArtifacts: IA;
  public readonly outputArtifacts: OA;
  public readonly version?: string;
  public readonly description?: string;
  /** Named failures (error name -> exit code) retry rules and catches may name. */
  public readonly errors: ErrorNames;
  /** The WorkflowTemplate; use `addJsonPatch` on it to set any field the props do not cover. */
  public abstract readonly workflowTemplate: ApiObject;

  /** The task's WorkflowTemplate, its spec rendered at synthesis (after every prop is known). */
  protected newWorkflowTemplate(namespace: string, labels: Record<string, string>, renderSpec: () => unknown): ApiObject {
    return new ApiObject(this, 'WorkflowTemplate', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'WorkflowTemplate',
      metadata: {
        name: this.taskName,
        namespace,
        labels,
        ...(this.description ? { annotations: { 'workflows.argoproj.io/description': this.description } } : {}),
      },
      spec: Lazy.any({ produce: renderSpec }),
    });
  }

  protected constructor(scope: Construct, id: string, props: TaskBaseProps<IP, OP, IA, OA>) {
    if (scope.node.tryFindChild(id)) {
      failAt(`${scope.node.path}/${id}`, `the task library already has a task with the id "${id}"; give each task its own id`);
    }
    super(scope, id);
    Object.defineProperty(this, TASK_MARK, { value: true });
    checkParameterSpecs(this.node.path, 'inputs.parameters', props.inputs?.parameters);
    for (const [name, spec] of Object.entries(props.outputs?.parameters ?? {})) checkBoolean(this.node.path, `outputs.parameters.${name}.list`, (spec as { list?: unknown })?.list);
    this.taskName = props.name ?? id;
    this.version = props.version;
    this.description = props.description;
    this.errors = props.errors ?? {};
    this.inputParameters = (props.inputs?.parameters ?? {}) as IP;
    this.outputParameters = (props.outputs?.parameters ?? {}) as OP;
    this.inputArtifacts = (props.inputs?.artifacts ?? {}) as IA;
    this.outputArtifacts = (props.outputs?.artifacts ?? {}) as OA;
    this.node.addValidation({ validate: () => this.validateInterface() });
  }

  /** How workflows call this task. */
  public get templateRef(): { name: string; template: string } {
    return { name: this.taskName, template: TASK_ENTRY_TEMPLATE };
  }

  /** Input parameter names a step must pass (no default). */
  public get requiredParameters(): string[] {
    return Object.entries(this.inputParameters)
      .filter(([, spec]) => spec.default === undefined)
      .map(([name]) => name);
  }

  /** The `inputs` block of the task's template: the task interface plus declared inputs. */
  protected renderInputs(): Record<string, unknown> {
    return {
      parameters: [
        { name: INPUT_PARAM, description: 'input payload: s3:// or https:// URL of a payload document, or the payload JSON inline' },
        { name: OUTPUT_PARAM, description: 'URL where the task writes its output payload' },
        ...Object.entries(this.inputParameters).map(([name, spec]) => ({
          name,
          ...(spec.default !== undefined ? { value: spec.default } : {}),
          ...(spec.enum ? { enum: [...spec.enum] } : {}),
          ...(spec.description ? { description: spec.description } : {}),
        })),
      ],
      artifacts: Object.entries(this.inputArtifacts).map(([name, spec]) => ({
        name,
        path: spec.path,
        ...(spec.optional ? { optional: true } : {}),
      })),
    };
  }

  private validateInterface(): string[] {
    const errors: string[] = errorNamesProblems(this.errors);
    const nameProblem = dnsLabelProblem('task name', this.taskName);
    if (nameProblem) errors.push(nameProblem);
    const versionProblem = this.version !== undefined ? labelValueProblem('version', this.version) : undefined;
    if (versionProblem) errors.push(versionProblem);
    for (const name of Object.keys(this.inputParameters)) {
      if (name === INPUT_PARAM || name === OUTPUT_PARAM) {
        errors.push(`input parameter "${name}" is reserved by the task interface (the payload locations); rename it`);
      }
      const problem = parameterNameProblem('input parameter', name);
      if (problem) errors.push(problem);
      const spec = this.inputParameters[name];
      if (spec.enum && spec.default !== undefined && !spec.enum.includes(spec.default)) {
        errors.push(`input parameter "${name}" default "${spec.default}" is not one of its enum values (${spec.enum.join(', ')}); make the default one of them`);
      }
    }
    for (const name of Object.keys(this.outputParameters)) {
      if (name === OUTPUT_PARAM) errors.push(`output parameter "${name}" is reserved by the task interface (the output payload URL); rename it`);
      const spec = this.outputParameters[name];
      if (spec.list === true && spec.default !== undefined && !isJsonList(spec.default)) {
        errors.push(`output parameter "${name}" is declared a list but its default ${JSON.stringify(spec.default)} is not a JSON list; give a default like '[]' or drop list`);
      }
      const problem = parameterNameProblem('output parameter', name);
      if (problem) errors.push(problem);
    }
    for (const name of [...Object.keys(this.inputArtifacts), ...Object.keys(this.outputArtifacts)]) {
      const problem = parameterNameProblem('artifact', name);
      if (problem) errors.push(problem);
    }
    return errors;
  }
}

const TASK_MARK = Symbol.for('swoop-platform.Task');
