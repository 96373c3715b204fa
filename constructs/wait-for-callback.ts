/**
 * A step that waits for an external system's answer, Step Functions' `.waitForTaskToken`
 * (docs/callbacks.md). Rendered as one DAG task calling a small DAG of two nodes, neither of
 * them a pod:
 * - `send`: an HTTP template (the workflow's agent pod) asking the state service to open the
 *   step's task (`POST {state-url}/tasks`); the service mints the token, stores its hash and
 *   delivers it to `send`, so the token never appears in the Workflow's status;
 * - `wait`: a `suspend` node with a `valueFrom.supplied` output parameter `output`, which the
 *   state service completes through the Argo Server's `/set` when the answer comes:
 *   Succeeded with the answer's output, or Failed with `<error>: <cause>`.
 * The step is gated by the claim like every step, and its output (`step.output`) is the
 * answer's output: a payload URL, or a payload as JSON text.
 */
import { Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import type { HttpTargetProps } from './events/callbacks';
import { sqsQueueUrlProblem } from '../state/sqs-queue-url';
import { EnvironmentValue } from './environment';
import { renderRetry } from './task';
import { STATE_TOKENS_SECRET, STATE_URL_KEY, STATE_WRITER_TOKEN_KEY } from './platform';
import { type Condition, index, quote, Ref, type Value } from './refs';
import { DagNode, PlatformCallNode, type WorkflowContext } from './step';

/** Where a wait step's task token goes. */
export class TaskTokenTarget {
  /**
   * The state service POSTs (or PUTs/PATCHes) `{"taskToken", "workflow", "run", "step",
   * "input", "parameters", "heartbeatSeconds", "timeoutSeconds"}` to `url`, with the fixed
   * `headers`, the `auth` header from a Secret, and `Idempotency-Key: <run uid>/<step>`.
   * Only a 2xx answer counts as delivered.
   */
  public static http(props: HttpTargetProps): TaskTokenTarget {
    return new TaskTokenTarget(props);
  }

  /**
   * The state service sends the same JSON as an SQS message (with @aws-sdk/client-sqs, its
   * own AWS identity) to `queueUrl`, which must be one of its TASK_TOKEN_QUEUES; message
   * attribute `Idempotency-Key: <run uid>/<step>`; a FIFO queue gets the run uid as group.
   * `queueUrl` is the URL, or `env.value(key)` to read it from the environment the run
   * runs in (ConfigMap swoop-platform); either way `npm run synth` requires the stack to list
   * the queue in `taskTokenQueues`.
   */
  public static sqs(props: SqsTargetProps): TaskTokenTarget {
    return new TaskTokenTarget(undefined, props);
  }

  private constructor(
    public readonly http?: HttpTargetProps,
    public readonly sqs?: SqsTargetProps,
  ) {}
}

export interface SqsTargetProps {
  /** `https://sqs.<region>.amazonaws.com/<account>/<queue>`, or `env.value(key)` holding one. */
  readonly queueUrl: string | EnvironmentValue;
}

/**
 * The send template's input parameter holding the SQS queue URL: a literal `value`, or a
 * `valueFrom.configMapKeyRef` the controller resolves when the step runs (ProcessArgs), so
 * the manifests name the key, never the value. `taskTokenQueueReads` finds wait steps' queues by it.
 */
export const SQS_QUEUE_PARAMETER = 'sqs-queue-url';

export interface WaitForCallbackProps {
  /** Where the task token goes. */
  readonly send: TaskTokenTarget;
  /** The payload handed to the external system with the token. @default the workflow's input */
  readonly input?: Value;
  /** Small values sent with the token, by name. @default none */
  readonly parameters?: Readonly<Record<string, Value>>;
  /** Fail the step when no heartbeat or answer comes for this long (Step Functions HeartbeatSeconds). @default no heartbeat */
  readonly heartbeat?: Duration;
  /** Fail the step when no answer comes this long after the token was sent (TimeoutSeconds). @default the workflow's timeout */
  readonly timeout?: Duration;
  /** Run only when the condition holds. @default always */
  readonly when?: Condition;
  /** Steps to wait for besides those whose outputs this step reads. @default none */
  readonly dependsOn?: readonly DagNode[];
}

/** The suspend node's name inside the step's DAG; the state service resumes `<run>.<step>.wait`. */
export const WAIT_NODE = 'wait';
const SEND_NODE = 'send';

// The open is retried through a brief state-service or receiver outage (5 s doubling, ~5 min).
const SEND_RETRY = renderRetry({ limit: 6, policy: 'Always', backoff: { delay: Duration.seconds(5), factor: 2, maxDuration: Duration.minutes(5) } });

export class WaitForCallback extends PlatformCallNode {
  /** The answer's output: the output payload URL the external system gave, or its JSON text. */
  public readonly output: Ref;
  private readonly props: WaitForCallbackProps;
  private readonly defaultInput: Value;
  private readonly workflowTemplateName: string;
  private readonly defaultTimeout: Duration;

  /** @internal use Workflow.addWaitForCallback */
  constructor(scope: Construct, context: WorkflowContext, name: string, props: WaitForCallbackProps,
    defaults: { input: Value; workflowTemplateName: string; timeout: Duration }) {
    super(scope, context, name, {
      ...(props.input !== undefined ? { input: props.input } : {}),
      ...(props.when !== undefined ? { when: props.when } : {}),
      ...(props.dependsOn !== undefined ? { dependsOn: props.dependsOn } : {}),
    });
    this.props = props;
    this.defaultInput = defaults.input;
    this.workflowTemplateName = defaults.workflowTemplateName;
    this.defaultTimeout = defaults.timeout;
    this.output = new Ref(`{{tasks.${name}.outputs.parameters.output}}`, `${index('tasks', name)}.outputs.parameters.output`, 'step-payload', this);
  }

  /** The Argo template the DAG task calls. */
  public get templateName(): string {
    return `swoop-wait-${this.name}`;
  }

  /**
   * The step's output exported to the workflow's scope (Argo `globalName`): the exit handler,
   * which posts the run's `completed` event, is outside the DAG, where `tasks.*` is undefined.
   */
  public get globalOutputName(): string {
    return `${this.templateName}-output`;
  }

  /** The step's output as the exit handler reads it (Argo sets it when the step's DAG completes). */
  public get workflowOutputExpression(): string {
    return index('workflow.outputs.parameters', this.globalOutputName);
  }

  protected get input(): Value {
    return this.props.input ?? this.defaultInput;
  }

  protected get parameters(): Record<string, Value> {
    return { ...(this.props.parameters ?? {}) };
  }

  private get timeoutSeconds(): number {
    return (this.props.timeout ?? this.defaultTimeout).toMilliseconds() / 1000;
  }

  /** The step's three templates: its DAG, the HTTP call that opens the task, the suspend node. @internal */
  public renderTemplates(): Record<string, unknown>[] {
    const http = this.props.send.http;
    const sqs = this.props.send.sqs;
    const paramNames = Object.keys(this.parameters);
    const inputs = { parameters: [{ name: 'input' }, ...paramNames.map((p) => ({ name: `param-${p}` }))] };
    const passInputs = inputs.parameters.map((p) => ({ name: p.name, value: `{{inputs.parameters.${p.name}}}` }));
    const send = http
      ? toExpression({
          url: http.url,
          method: http.method ?? 'POST',
          headers: { 'Content-Type': 'application/json', ...http.headers },
          ...(http.auth ? { authHeader: http.auth.header ?? 'Authorization' } : {}),
        })
      // The queue comes from the send template's input parameter, whatever its source.
      : `{'sqs': {'queueUrl': ${index('inputs.parameters', SQS_QUEUE_PARAMETER)} } }`;
    const body = [
      ['namespace', 'workflow.namespace'],
      ['workflow', quote(this.workflowTemplateName)],
      ['run', 'workflow.name'],
      ['uid', 'workflow.uid'],
      ['step', quote(this.name)],
      // Argo names a DAG task's node <DAG node>.<task>; the workflow's entry DAG node is the run.
      ['node', `workflow.name + ${quote(`.${this.name}.${WAIT_NODE}`)}`],
      ['timeoutSeconds', String(this.timeoutSeconds)],
      ...(this.props.heartbeat ? [['heartbeatSeconds', String(this.props.heartbeat.toMilliseconds() / 1000)]] : []),
      ['input', "inputs.parameters['input']"],
      ['parameters', `{${paramNames.map((p) => `${quote(p)}: ${index('inputs.parameters', `param-${p}`)}`).join(', ')} }`],
      ['send', send],
    ];
    return [
      {
        name: this.templateName,
        inputs,
        outputs: { parameters: [{ name: 'output', globalName: this.globalOutputName, valueFrom: { parameter: `{{tasks.${WAIT_NODE}.outputs.parameters.output}}` } }] },
        dag: {
          tasks: [
            { name: SEND_NODE, template: `${this.templateName}-send`, arguments: { parameters: passInputs } },
            { name: WAIT_NODE, template: `${this.templateName}-suspend`, depends: SEND_NODE },
          ],
        },
      },
      {
        name: `${this.templateName}-send`,
        inputs: sqs ? { parameters: [...inputs.parameters, sqsQueueParameter(sqs.queueUrl)] } : inputs,
        http: {
          url: `{{workflow.parameters.${STATE_URL_KEY}}}/tasks`,
          method: 'POST',
          headers: [
            { name: 'Content-Type', value: 'application/json' },
            { name: 'Authorization', valueFrom: { secretKeyRef: { name: STATE_TOKENS_SECRET, key: STATE_WRITER_TOKEN_KEY } } },
            // The receiver's credential travels to the state service, which sends it on and never stores it.
            ...(http?.auth ? [{ name: 'X-Swoop-Send-Authorization', valueFrom: { secretKeyRef: { name: http.auth.secret.name, key: http.auth.secret.key } } }] : []),
          ],
          body: `{{=toJson({${body.map(([k, v]) => `${quote(k!)}: ${v}`).join(', ')} })}}`,
          successCondition: 'response.statusCode >= 200 && response.statusCode < 300',
          timeoutSeconds: 30,
        },
        retryStrategy: SEND_RETRY,
      },
      {
        name: `${this.templateName}-suspend`,
        suspend: {},
        outputs: { parameters: [{ name: 'output', valueFrom: { supplied: {} } }] },
      },
    ];
  }

  protected validateSpecific(): string[] {
    const errors: string[] = [];
    const send = this.props.send;
    if (!(send instanceof TaskTokenTarget)) errors.push('send must be TaskTokenTarget.http({ url, ... }) or TaskTokenTarget.sqs({ queueUrl })');
    else if (send.sqs) {
      const queueUrl: unknown = send.sqs.queueUrl;
      const problem = queueUrl instanceof EnvironmentValue ? undefined : sqsQueueUrlProblem(queueUrl);
      if (problem) errors.push(`send queueUrl ${problem}`);
    } else if (!/^https?:\/\/\S+$/.test(send.http!.url)) errors.push(`send url "${send.http!.url}" must start with http:// or https://`);
    else if ([send.http!.url, ...Object.values(send.http!.headers ?? {})].some((v) => /\{\{|\}\}/.test(v))) errors.push('send url and headers must be literal: Argo would read "{{" or "}}" in them as a tag');
    const whole = (what: string, d: Duration | undefined) => {
      if (d === undefined) return;
      const s = d.toMilliseconds() / 1000;
      if (!Number.isInteger(s) || s < 1) errors.push(`${what} must be a whole number of seconds, at least 1 (got ${s})`);
    };
    whole('heartbeat', this.props.heartbeat);
    whole('timeout', this.props.timeout);
    const seconds = (d: Duration) => d.toMilliseconds() / 1000;
    if (this.props.heartbeat && seconds(this.props.heartbeat) >= this.timeoutSeconds) {
      errors.push(`heartbeat (${seconds(this.props.heartbeat)} s) must be shorter than the timeout (${this.timeoutSeconds} s), or it never fires`);
    }
    if (this.props.timeout && seconds(this.props.timeout) > this.defaultTimeout.toSeconds()) {
      errors.push(`timeout (${seconds(this.props.timeout)} s) is longer than the workflow's timeout (${this.defaultTimeout.toSeconds()} s), which would end the run first; shorten it or raise the workflow's timeout`);
    }
    for (const name of Object.keys(this.parameters)) {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) errors.push(`parameter name "${name}" must be lower-case letters, digits and '-'`);
    }
    return errors;
  }
}

function sqsQueueParameter(queueUrl: string | EnvironmentValue): Record<string, unknown> {
  return queueUrl instanceof EnvironmentValue
    ? { name: SQS_QUEUE_PARAMETER, valueFrom: queueUrl.valueFrom }
    : { name: SQS_QUEUE_PARAMETER, value: queueUrl };
}

/** Where a wait step of `manifest` sends task tokens by SQS: its send template, and the URL or the swoop-platform key holding it. */
export interface TaskTokenQueueRead {
  /** `<kind>/<name>` of the manifest. */
  readonly resource: string;
  /** The send template. */
  readonly template: string;
  readonly queueUrl?: string;
  /** The key of ConfigMap swoop-platform the URL is read from at run time. */
  readonly key?: string;
}

/** Every SQS queue the wait steps of a synthesized WorkflowTemplate (or Workflow) send task tokens to. */
export function taskTokenQueueReads(manifest: unknown): TaskTokenQueueRead[] {
  const doc = manifest as { kind?: string; metadata?: { name?: string }; spec?: { templates?: unknown } } | null;
  const templates = Array.isArray(doc?.spec?.templates) ? (doc!.spec!.templates as Record<string, any>[]) : [];
  const resource = `${doc?.kind}/${doc?.metadata?.name}`;
  return templates.flatMap((t) => {
    const p = (t?.http ? (t.inputs?.parameters ?? []) as Record<string, any>[] : []).find((x) => x?.name === SQS_QUEUE_PARAMETER);
    if (!p) return [];
    const key = p.valueFrom?.configMapKeyRef?.key;
    return [{ resource, template: String(t.name), ...(typeof key === 'string' ? { key } : { queueUrl: String(p.value) }) }];
  });
}

/** A JSON-like value as an Argo (expr-lang) expression literal. */
function toExpression(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return `[${v.map(toExpression).join(', ')}]`;
  // ' }' so nested objects never end in "}}", which would end Argo's {{=...}} tag early.
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${quote(k)}: ${toExpression(x)}`).join(', ')} }`;
  return String(v);
}
