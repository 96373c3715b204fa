import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { describeFilterProblem, itemFilterProblem } from '../expressions/item-filter';
import { failAt } from '../names';
import { Workflow, type WorkflowParameters } from '../workflow';
import type { DeliveryPolicy } from './delivery';
import type { SecretKey } from './event-sources';
import { LIFECYCLE_EVENT, LIFECYCLE_SOURCE } from './names';
import { exactly, goString, oneOf, runNameFromUpstream } from './routing';
import { EventsSensor, parameters, type TriggerParameter } from './sensor';
import { PerFeatureCallback } from './per-feature';
import { HTTP_SUCCESS_POLICY, type StateServiceTarget } from './state-service';
import { submitAction } from './submit';

/** Final states of a run (SWOOP names). */
export const FINAL_STATES = ['successful', 'failed', 'canceled', 'timed_out', 'invalid'] as const;
export type FinalState = (typeof FINAL_STATES)[number];
/** A final state, or `!state` for every final state but that one. */
export type StateSelector = FinalState | `!${FinalState}`;

/** Where a callback parameter's value comes from; the sensor sees payloads inline or by URL only. */
export class CallbackParameter {
  /** A fixed value. */
  public static fixed(value: string): CallbackParameter {
    return new CallbackParameter({ value });
  }

  /** A property of the finished run. */
  public static run(field: 'workflow' | 'name' | 'uid' | 'state' | 'startedAt' | 'finishedAt' | 'error' | 'payloadId' | 'parentRun'): CallbackParameter {
    const key = field === 'name' ? 'run' : field;
    return new CallbackParameter({ dataKey: `body.${key}`, value: '' });
  }

  /**
   * The input payload, or one value in it (a GJSON path such as `features.0.id`) when the
   * input was inline; empty when the input was a URL or the path does not exist.
   */
  public static input(path?: string): CallbackParameter {
    return new CallbackParameter({ dataKey: path ? `body.input|@fromstr|${path}` : 'body.input', value: '' });
  }

  /** The output payload's URL (empty unless the run succeeded). */
  public static output(): CallbackParameter {
    return new CallbackParameter({ dataKey: 'body.output', value: '' });
  }

  private constructor(public readonly source: Omit<TriggerParameter, 'dest'>) {}
}

export interface HttpTargetProps {
  readonly url: string;
  /** @default 'POST' */
  readonly method?: 'POST' | 'PUT' | 'PATCH';
  /** Fixed headers. @default Content-Type: application/json */
  readonly headers?: Record<string, string>;
  /** A header whose value is read from a Secret, e.g. `{ header: 'Authorization', secret: {...} }`. @default none */
  readonly auth?: { readonly header?: string; readonly secret: SecretKey };
  /** @default 30 seconds */
  readonly timeout?: Duration;
}

/** What a callback does. */
export abstract class CallbackTarget {
  /** POST the parameters as a JSON object; only 2xx answers count as delivered. */
  public static http(props: HttpTargetProps): CallbackTarget {
    return new HttpTarget(props);
  }

  /** Start a workflow; parameters are passed as its workflow parameters (it must declare them). */
  public static workflow(workflow: Workflow<WorkflowParameters>): CallbackTarget {
    return new WorkflowTarget(workflow);
  }

  /** Write the finished-run event to the sensor log (a notification sink the log pipeline ships). */
  public static log(): CallbackTarget {
    return new LogTarget();
  }

  /** @internal */
  public abstract render(ctx: TargetContext): { action: Record<string, unknown>; extra?: Record<string, unknown> };
}

/** @internal */
export interface TargetContext {
  readonly path: string;
  readonly id: string;
  readonly dependency: string;
  readonly parameters: Readonly<Record<string, CallbackParameter>>;
  readonly perFeature?: { readonly filter?: string };
  /** The state service that submits workflow targets (POST /submit). */
  readonly state: StateServiceTarget;
}

class HttpTarget extends CallbackTarget {
  constructor(public readonly props: HttpTargetProps) {
    super();
    if (!/^https?:\/\//.test(props.url)) throw new Error(`callback URL "${props.url}" must start with http:// or https://`);
  }

  public render(ctx: TargetContext): { action: Record<string, unknown>; extra?: Record<string, unknown> } {
    if (ctx.perFeature) throw new Error(`${ctx.path}: a perFeature HTTP callback is rendered by its handler (Callback)`);
    const auth = this.props.auth;
    return {
      action: {
        http: {
          url: this.props.url,
          method: this.props.method ?? 'POST',
          headers: { 'Content-Type': 'application/json', ...this.props.headers },
          ...(auth ? { secureHeaders: [{ name: auth.header ?? 'Authorization', valueFrom: { secretKeyRef: { name: auth.secret.name, key: auth.secret.key } } }] } : {}),
          // Receivers de-duplicate at-least-once deliveries by this key: one value per run and callback.
          dynamicHeaders: parameters(ctx.dependency, [{ dest: 'Idempotency-Key', dataTemplate: `{{ .Input.body.uid }}/${ctx.id}` }]),
          timeout: (this.props.timeout ?? Duration.seconds(30)).toSeconds(),
          payload: parameters(ctx.dependency, Object.entries(ctx.parameters).map(([dest, p]) => ({ dest, ...p.source }))),
        },
      },
      extra: HTTP_SUCCESS_POLICY,
    };
  }
}

class WorkflowTarget extends CallbackTarget {
  constructor(private readonly workflow: Workflow<WorkflowParameters>) {
    super();
    if (!Workflow.isWorkflow(workflow)) throw new Error('CallbackTarget.workflow() needs a Workflow construct');
  }

  public render(ctx: TargetContext): { action: Record<string, unknown>; extra: Record<string, unknown> } {
    const args: Record<string, Omit<TriggerParameter, 'dest'>> = {};
    for (const [name, p] of Object.entries(ctx.parameters)) args[name] = p.source;
    args['parent-run'] ??= { dataKey: 'body.run' };
    if (ctx.perFeature) {
      // The sensor sees the output only as a URL, so the handler workflow fans out over its items.
      args.input ??= ctx.perFeature.filter === undefined
        ? { dataKey: 'body.output' }
        : { dataTemplate: `{{ dict "url" .Input.body.output "feature_filter" ${goString(ctx.perFeature.filter)} | toJson }}` };
    }
    if (!args.input) failAt(ctx.path, `workflow target ${this.workflow.templateName} needs an "input" parameter; add e.g. input: CallbackParameter.output() or CallbackParameter.input()`);
    return submitAction(this.workflow, ctx.dependency, {
      nameTemplate: runNameFromUpstream(this.workflow.templateName, ctx.id),
      arguments: args,
      startedBy: 'callback',
    }, ctx.path, ctx.state);
  }
}

class LogTarget extends CallbackTarget {
  public render(ctx: TargetContext): { action: Record<string, unknown> } {
    if (ctx.perFeature) perFeatureNeedsWorkflow(ctx.path);
    return { action: { log: {} } };
  }
}

function perFeatureNeedsWorkflow(path: string): never {
  failAt(path, 'type perFeature needs an HTTP or a workflow target: a log line per item has no reader (CallbackTarget.http({...}) or CallbackTarget.workflow(handler))');
}

export interface CallbackProps {
  /** The workflow whose runs trigger the callback. */
  readonly workflow: Workflow<WorkflowParameters>;
  /** Final states that trigger it; `!state` means every final state but that one. @default every final state */
  readonly when?: readonly StateSelector[];
  /** One callback per run, or one per output item (successful runs only). @default 'single' */
  readonly type?: 'single' | 'perFeature';
  /** Filter over output items for `perFeature` (cirrus' jsonpath-ng dialect), e.g. `@.properties.'eo:cloud_cover' < 10`; checked at synth. @default every item */
  readonly featureFilter?: string;
  /** Values sent to the target, by name. @default none */
  readonly parameters?: Readonly<Record<string, CallbackParameter>>;
  readonly target: CallbackTarget;
  readonly delivery?: DeliveryPolicy;
}

/** Resolves a `when` list to upper-case states; a state mixed with its own negation is an error. */
export function resolveWhen(when: readonly string[] | undefined, path: string): string[] {
  const list = when ?? FINAL_STATES;
  if (list.length === 0) failAt(path, 'when is empty; list final states (successful, failed, canceled, timed_out, invalid) or omit it for all');
  const positive = new Set<string>();
  const negative = new Set<string>();
  for (const entry of list) {
    const negated = entry.startsWith('!');
    const state = negated ? entry.slice(1) : entry;
    if (!(FINAL_STATES as readonly string[]).includes(state)) failAt(path, `when has "${entry}"; use ${FINAL_STATES.join(', ')} (or !state)`);
    (negated ? negative : positive).add(state);
  }
  const mixed = [...positive].filter((s) => negative.has(s));
  if (mixed.length) failAt(path, `when mixes ${mixed.map((s) => `${s} and !${s}`).join(', ')}; a state and its negation contradict each other`);
  const chosen = new Set(positive);
  if (negative.size) for (const s of FINAL_STATES) if (!negative.has(s)) chosen.add(s);
  return FINAL_STATES.filter((s) => chosen.has(s)).map((s) => s.toUpperCase());
}

/** A SWOOP callback: when a run of `workflow` ends in one of the `when` states, the target is called. */
export class Callback extends Construct {
  /** Upper-case states (as the state service sends them) that trigger the callback. */
  public readonly states: readonly string[];

  constructor(scope: Construct, id: string, props: CallbackProps & { readonly sensor: EventsSensor; readonly state: StateServiceTarget }) {
    super(scope, id);
    const path = this.node.path;
    if (!Workflow.isWorkflow(props.workflow)) failAt(path, 'workflow must be a Workflow construct');
    this.states = resolveWhen(props.when, path);
    const perFeature = (props.type ?? 'single') === 'perFeature';
    if (!perFeature && props.featureFilter !== undefined) failAt(path, 'featureFilter applies only to type perFeature');
    const filterProblem = props.featureFilter === undefined ? undefined : itemFilterProblem(props.featureFilter);
    if (filterProblem) failAt(path, describeFilterProblem('featureFilter', props.featureFilter!, filterProblem));
    if (perFeature && this.states.some((s) => s !== 'SUCCESSFUL')) {
      failAt(path, `type perFeature needs output items, which only successful runs have; set when to ["successful"] (it selects ${this.states.join(', ')})`);
    }
    for (const name of Object.keys(props.parameters ?? {})) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) failAt(path, `parameter name "${name}" must be letters, digits, '-' and '_'`);
    }
    const dependency = `${id}-${props.workflow.templateName}`;
    props.sensor.addDependency({
      name: dependency,
      eventSourceName: LIFECYCLE_SOURCE,
      eventName: LIFECYCLE_EVENT,
      data: [
        { path: 'body.event', type: 'string', value: [exactly('run.finished')] },
        { path: 'body.workflow', type: 'string', value: [exactly(props.workflow.templateName)] },
        { path: 'body.state', type: 'string', value: [oneOf(this.states)] },
      ],
    }, path);
    const rendered: { action: Record<string, unknown>; extra?: Record<string, unknown> } = perFeature && props.target instanceof HttpTarget
      ? this.perFeatureHttp(id, dependency, props.workflow.namespace, props.target.props, props)
      : props.target.render({
        state: props.state,
        path,
        id,
        dependency,
        parameters: props.parameters ?? {},
        ...(perFeature ? { perFeature: { filter: props.featureFilter } } : {}),
      });
    props.sensor.addTrigger({ name: `callback-${id}`, dependency, action: rendered.action, extra: rendered.extra, delivery: props.delivery }, path);
  }

  /**
   * perFeature over HTTP, with no user code: a platform WorkflowTemplate (per-feature.ts)
   * posts once per selected feature; the sensor submits it with a name derived from the
   * finished run's uid, so a repeated run.finished starts nothing new.
   */
  private perFeatureHttp(id: string, dependency: string, namespace: string, http: HttpTargetProps, props: CallbackProps & { readonly state: StateServiceTarget }): { action: Record<string, unknown>; extra: Record<string, unknown> } {
    const parameterNames = Object.keys(props.parameters ?? {});
    const handler = new PerFeatureCallback(this, 'Handler', {
      namespace,
      callbackId: id,
      url: http.url,
      method: http.method ?? 'POST',
      headers: { 'Content-Type': 'application/json', ...http.headers },
      ...(http.auth ? { auth: { header: http.auth.header ?? 'Authorization', secret: http.auth.secret } } : {}),
      ...(props.featureFilter !== undefined ? { featureFilter: props.featureFilter } : {}),
      parameterNames,
      timeoutSeconds: (http.timeout ?? Duration.seconds(30)).toSeconds(),
    });
    const args: Record<string, Omit<TriggerParameter, 'dest'>> = {
      output: { dataKey: 'body.output' },
      uid: { dataKey: 'body.uid' },
    };
    parameterNames.forEach((name, i) => {
      args[`p${i}`] = props.parameters![name]!.source;
    });
    return submitAction(handler, dependency, {
      nameTemplate: runNameFromUpstream(handler.templateName, id),
      arguments: args,
      startedBy: 'callback',
    }, this.node.path, props.state);
  }
}
