/**
 * Offline Argo Events simulator: loads EventSource/Sensor manifests and tells which triggers
 * an event fires and with which resources, applying Argo Events v1.9 semantics as its source
 * code does them (pkg/sensors/dependencies/filter.go, pkg/sensors/triggers/params.go,
 * listener.go): dependency matching, expr/data/context/time filters with their logical
 * operators, trigger `conditions` (events are remembered per trigger until its condition
 * holds, then consumed), trigger and template parameters (`dataKey`, `dataTemplate`,
 * `contextKey`, `contextTemplate`, `value`, `useRawData`, `operation`) applied to `dest`,
 * HTTP trigger payload construction, and Kubernetes `create` against a store of names, so
 * a second create of the same name reports AlreadyExists.
 * Not simulated (they throw, naming the feature): Lua `script` filters, `transform`, trigger
 * types other than k8s, argoWorkflow, http and log.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type GjsonType, getPath, parseResult, rawJson, resultBool, resultFloat, resultString, resultType, resultValue, type PathResult } from './simulator/gjson';
import { compareUtf8, goJsonMarshal } from './simulator/go-values';
import { marshalRawMessage } from './simulator/json-text';
import { renderGoTemplate } from './simulator/go-template';
import { evaluateExpression, expressionNames } from './simulator/govaluate';
import { setPath } from './simulator/sjson';

type Json = Record<string, unknown>;

export interface EventContext {
  readonly id: string;
  readonly source: string;
  readonly subject: string;
  readonly type: string;
  readonly specversion: string;
  readonly datacontenttype: string;
  /** RFC 3339. */
  readonly time: string;
}

/** One event as an EventSource publishes it on the bus. */
export interface SimulatedEvent {
  readonly eventSourceName: string;
  readonly eventName: string;
  /** The decoded JSON event data (for a webhook: `{header, body}`). */
  readonly data: unknown;
  readonly context: EventContext;
  /**
   * The event data bytes as the event source marshalled them, when the event was built from a
   * raw request or message (`webhookRequest`, `sqsMessage`); otherwise they are derived from
   * `data` at delivery time (`eventText`), so a test may still edit `data`.
   */
  readonly text?: string;
}

/** The bytes sensors read: what Go's json.Marshal made of the event source's struct. */
export function eventText(event: SimulatedEvent): string {
  return event.text ?? marshalRawMessage(JSON.stringify(event.data));
}

let eventCounter = 0;

function context(eventSourceName: string, eventName: string, type: string, time?: string): EventContext {
  eventCounter += 1;
  return {
    id: `sim-${eventCounter}`,
    source: eventSourceName,
    subject: eventName,
    type,
    specversion: '1.0',
    datacontenttype: 'application/json',
    time: time ?? '2026-01-01T12:00:00Z',
  };
}

/**
 * net/http's header map: names canonicalized (`idempotency-key` -> `Idempotency-Key`; a name
 * with a byte outside HTTP's token characters is kept as written), values of one name merged
 * in order, names sorted as Go sorts map keys when it marshals them.
 */
export function goHttpHeader(headers: Record<string, string | readonly string[]>): Record<string, string[]> {
  const merged = new Map<string, string[]>();
  for (const [name, values] of Object.entries(headers)) {
    const key = canonicalHeaderKey(name);
    merged.set(key, [...(merged.get(key) ?? []), ...(typeof values === 'string' ? [values] : values)]);
  }
  return Object.fromEntries([...merged].sort(([a], [b]) => compareUtf8(a, b)));
}

/** textproto.CanonicalMIMEHeaderKey. */
export function canonicalHeaderKey(name: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/** An event of a webhook EventSource: data is `{header, body}` (header values are lists, as Go's http.Header). */
export function webhookEvent(eventSourceName: string, eventName: string, body: unknown, headers: Record<string, string> = {}): SimulatedEvent {
  const header = goHttpHeader({ 'Content-Type': 'application/json', ...headers });
  return { eventSourceName, eventName, data: { header, body }, context: context(eventSourceName, eventName, 'webhook') };
}

/**
 * A webhook request exactly as sent: the body text is embedded as the event source embeds it
 * (json.RawMessage), so a body that is not one JSON value throws, as the event source answers
 * it with an error and publishes nothing.
 */
export function webhookRequest(eventSourceName: string, eventName: string, body: string, headers: Record<string, string | readonly string[]>): SimulatedEvent {
  const text = `{"header":${goJsonMarshal(goHttpHeader(headers))},"body":${marshalRawMessage(body)}}`;
  return { eventSourceName, eventName, data: JSON.parse(text) as unknown, text, context: context(eventSourceName, eventName, 'webhook') };
}

/** An event of an SQS EventSource with `jsonBody: true`: data is `{messageId, messageAttributes, body}`. */
export function sqsEvent(eventSourceName: string, eventName: string, body: unknown, messageId: string): SimulatedEvent {
  return { eventSourceName, eventName, data: { messageId, messageAttributes: {}, body }, context: context(eventSourceName, eventName, 'sqs') };
}

/** An SQS message exactly as received (`jsonBody: true`); a body that is not JSON throws (the event source drops it). */
export function sqsMessage(eventSourceName: string, eventName: string, body: string, messageId: string): SimulatedEvent {
  const text = `{"messageId":${goJsonMarshal(messageId)},"messageAttributes":{},"body":${marshalRawMessage(body)}}`;
  return { eventSourceName, eventName, data: JSON.parse(text) as unknown, text, context: context(eventSourceName, eventName, 'sqs') };
}

/** The envelope SNS wraps a message in when it delivers to SQS without raw message delivery. */
export function snsEnvelope(message: unknown, messageId: string, topicArn = 'arn:aws:sns:us-west-2:123456789012:swoop'): Json {
  return {
    Type: 'Notification',
    MessageId: messageId,
    TopicArn: topicArn,
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: '2026-01-01T12:00:00.000Z',
    SignatureVersion: '1',
  };
}

/** An event with explicit data and context fields (e.g. to test context or time filters). */
export function rawEvent(eventSourceName: string, eventName: string, data: unknown, overrides: Partial<EventContext> = {}): SimulatedEvent {
  return { eventSourceName, eventName, data, context: { ...context(eventSourceName, eventName, 'webhook'), ...overrides } };
}

// ------------------------------------------------------------------------ filters

export interface FilterOutcome {
  readonly pass: boolean;
  /** Filter errors Argo Events logs (a missing path is an error, and the event is discarded in "and" mode). */
  readonly errors: string[];
}

/** Port of filter.go `filterEvent` for one dependency. */
export function filterEvent(dependency: Json, event: SimulatedEvent): FilterOutcome {
  const filters = dependency.filters as Json | undefined;
  if (dependency.transform !== undefined) throw new Error(`dependency ${String(dependency.name)}: transform is not supported by the simulator`);
  if (!filters) return { pass: true, errors: [] };
  if (filters.script) throw new Error(`dependency ${String(dependency.name)}: Lua script filters are not supported by the simulator`);
  const or = dependency.filtersLogicalOperator === 'or';
  const errors: string[] = [];
  const run = (fn: () => boolean): boolean => {
    try {
      return fn();
    } catch (e) {
      errors.push((e as Error).message);
      return false;
    }
  };
  const text = eventText(event);
  const expr = run(() => filterExprs(filters.exprs as Json[] | undefined, filters.exprLogicalOperator === 'or', text));
  if (!or && errors.length) return { pass: false, errors };
  const data = run(() => filterData(filters.data as Json[] | undefined, filters.dataLogicalOperator === 'or', text));
  if (!or && errors.length) return { pass: false, errors };
  const ctx = filterContext(filters.context as Json | undefined, event.context);
  const time = run(() => filterTime(filters.time as Json | undefined, event.context.time));
  if (!or && errors.length) return { pass: false, errors };
  if (or) {
    const pass =
      (filters.exprs !== undefined && expr) ||
      (filters.data !== undefined && data) ||
      (filters.context !== undefined && ctx) ||
      (filters.time !== undefined && time);
    return { pass, errors };
  }
  return { pass: expr && data && ctx && time, errors };
}

function filterExprs(filters: Json[] | undefined, or: boolean, data: string): boolean {
  if (!filters) return true;
  const errors: string[] = [];
  for (const filter of filters) {
    const parameters: Record<string, unknown> = {};
    let missing = false;
    for (const field of (filter.fields as Json[] | undefined) ?? []) {
      const r = getPath(data, String(field.path));
      if (!r.exists) {
        const msg = `expr filter error (path '${String(field.path)}' does not exist)`;
        if (!or) throw new Error(msg);
        errors.push(msg);
        missing = true;
        break;
      }
      parameters[String(field.name)] = resultValue(r);
    }
    if (missing || Object.keys(parameters).length === 0) continue;
    let result: unknown;
    try {
      result = evaluateExpression(String(filter.expr), parameters);
    } catch (e) {
      if (!or) throw new Error(`expr filter error (${(e as Error).message})`);
      errors.push((e as Error).message);
      continue;
    }
    if (result === true && or) return true;
    if (result !== true && !or) return false;
  }
  if (or) {
    if (errors.length) throw new Error(`expr filter errors [${errors.join(' / ')}]`);
    return false;
  }
  return true;
}

function filterData(filters: Json[] | undefined, or: boolean, data: string): boolean {
  if (!filters || filters.length === 0) return true;
  const errors: string[] = [];
  const fail = (msg: string): void => {
    if (!or) throw new Error(`data filter error (${msg})`);
    errors.push(msg);
  };
  for (const f of filters) {
    let result: PathResult = getPath(data, String(f.path));
    if (!result.exists) {
      fail(`path '${String(f.path)}' does not exist`);
      continue;
    }
    const values = (f.value as string[] | undefined) ?? [];
    if (values.length === 0) {
      fail('no values specified');
      continue;
    }
    if (f.template) {
      const out = renderGoTemplate(String(f.template), { Input: resultString(result) });
      if (out === '' || out === '<no value>') {
        fail(`template '${String(f.template)}' evaluated to empty string or no value`);
        continue;
      }
      // gjson.Parse(strconv.Quote(out)): the template's output as a string value.
      result = parseResult(JSON.stringify(out));
    }
    const comparator = (f.comparator as string | undefined) ?? '';
    let matched: boolean;
    switch (f.type) {
      case 'bool':
        matched = values.some((v) => parseGoBool(v) === resultBool(result));
        break;
      case 'number': {
        const actual = resultFloat(result);
        matched = values.some((v) => compareNumber(actual, parseGoFloat(v), comparator));
        break;
      }
      case 'string': {
        const text = resultString(result);
        matched = values.some((v) => {
          const hit = new RegExp(goRegex(v)).test(text);
          if (comparator === '=' || comparator === '') return hit;
          if (comparator === '!=') return !hit;
          return false;
        });
        break;
      }
      default:
        fail(`unsupported JSON type '${String(f.type)}'`);
        continue;
    }
    if (matched && or) return true;
    if (!matched && !or) return false;
  }
  if (or) {
    if (errors.length) throw new Error(`data filter errors [${errors.join(' / ')}]`);
    return false;
  }
  return true;
}

function compareNumber(actual: number, expected: number, comparator: string): boolean {
  switch (comparator) {
    case '>=':
      return actual >= expected;
    case '>':
      return actual > expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '!=':
      return actual !== expected;
    case '=':
    case '':
      return actual === expected;
    default:
      return false;
  }
}

function parseGoBool(v: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new Error(`strconv.ParseBool: parsing "${v}": invalid syntax`);
}

function parseGoFloat(v: string): number {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v.trim()) || v.trim() !== v) throw new Error(`strconv.ParseFloat: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** Go RE2 and JavaScript agree on the syntax the platform uses; reject RE2-only or JS-only forms loudly. */
function goRegex(v: string): string {
  if (/\(\?[=!<]/.test(v) || /\\[1-9]/.test(v)) throw new Error(`regular expression "${v}" uses lookaround or backreferences, which Go's RE2 rejects`);
  return v.replace(/\(\?P</g, '(?<');
}

function filterContext(expected: Json | undefined, actual: EventContext): boolean {
  if (!expected) return true;
  return (['type', 'subject', 'source', 'datacontenttype'] as const).every((k) => !expected[k] || expected[k] === actual[k]);
}

function filterTime(filter: Json | undefined, time: string): boolean {
  if (!filter) return true;
  const at = new Date(time);
  const zone = (filter.timezone as string | undefined) ?? 'UTC';
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(at);
  const now = seconds(parts);
  const start = seconds(String(filter.start));
  const stop = seconds(String(filter.stop));
  return start < stop ? now >= start && now < stop : now >= start || now < stop;
}

function seconds(hms: string): number {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(hms);
  if (!m) throw new Error(`time filter error (cannot parse "${hms}")`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
}

// ------------------------------------------------------------------------ parameters

type ParamType = GjsonType;

/** Port of params.go `ResolveParamValue`; undefined when the dependency has no event and no default. */
export function resolveParamValue(src: Json, events: Record<string, SimulatedEvent>): { value: string; type: ParamType } | undefined {
  const event = events[String(src.dependencyName)];
  const fallback = src.value !== undefined ? { value: String(src.value), type: 'String' as const } : undefined;
  if (!event) return fallback;
  const { contextKey, contextTemplate, dataKey, dataTemplate } = src as Record<string, string | undefined>;
  if (!contextKey && !contextTemplate && !dataKey && !dataTemplate) {
    return fallback ?? { value: JSON.stringify({ context: event.context, data: event.data }), type: 'String' };
  }
  const useData = Boolean(dataKey || dataTemplate);
  const payload = useData ? eventText(event) : JSON.stringify(event.context);
  const template = useData ? dataTemplate : contextTemplate;
  const key = useData ? dataKey : contextKey;
  const errors: string[] = [];
  if (template) {
    try {
      const out = renderGoTemplate(template, { Input: resultValue(parseResult(payload)) });
      if (out !== '' && out !== '<no value>') return { value: out, type: 'String' };
      errors.push(`template evaluated to empty string or no value: ${template}`);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (key) {
    const r = getPath(payload, key);
    if (r.exists) {
      const type = resultType(r);
      return { value: type === 'JSON' || type === 'Null' ? rawJson(r) : resultString(r), type };
    }
    errors.push(`key ${key} does not exist in the event payload`);
  }
  if (fallback) return fallback;
  throw new Error(`unable to resolve '${String(src.dependencyName)}' parameter value: ${errors.join('; ')}`);
}

/** Port of params.go `ApplyParams`: each parameter's value set at its `dest`. */
export function applyParameters(target: unknown, parameters: Json[] | undefined, events: Record<string, SimulatedEvent>): unknown {
  let out = target;
  for (const param of parameters ?? []) {
    const src = param.src as Json;
    const resolved = resolveParamValue(src, events);
    if (!resolved) continue;
    let { value, type } = resolved;
    const dest = String(param.dest);
    const op = (param.operation as string | undefined) ?? '';
    if (op === 'append' || op === 'prepend') {
      const current = getPath(out as object, dest);
      if (current.exists) {
        type = 'String';
        value = op === 'append' ? resultString(current) + value : value + resultString(current);
      }
    } else if (op !== '' && op !== 'overwrite') throw new Error(`unsupported trigger parameter operation: ${op}`);
    out = setPath(out, dest, type !== 'String' && src.useRawData ? (JSON.parse(value) as unknown) : value);
  }
  return out;
}

/** Port of params.go `ConstructPayload` (HTTP and other request bodies). */
export function constructPayload(parameters: Json[] | undefined, events: Record<string, SimulatedEvent>): unknown {
  let payload: unknown = undefined;
  for (const param of parameters ?? []) {
    const src = param.src as Json;
    const resolved = resolveParamValue(src, events);
    if (!param.dest) {
      if (resolved) return resolved.value;
      continue;
    }
    if (!resolved) continue;
    payload = setPath(payload, String(param.dest), resolved.type !== 'String' && src.useRawData ? (JSON.parse(resolved.value) as unknown) : resolved.value);
  }
  return payload;
}

// ------------------------------------------------------------------------ simulator

export type TriggerAction =
  | {
      readonly type: 'k8s' | 'argoWorkflow';
      readonly operation: string;
      readonly resource: Json;
      /** `kind/namespace/name` of the object. */
      readonly object: string;
      readonly outcome: 'created' | 'already-exists';
    }
  | {
      readonly type: 'http';
      readonly method: string;
      readonly url: string;
      readonly headers: Record<string, string>;
      /** Header name to `secret <name>/<key>` (or `configmap ...`). */
      readonly secureHeaders: Record<string, string>;
      readonly body: unknown;
      /** Response statuses the trigger's policy counts as delivered; undefined: no policy, any response. */
      readonly allowedStatuses?: readonly number[];
    }
  | { readonly type: 'log' }
  /** The action could not be built (a parameter did not resolve): Argo retries, then dead-letters it. */
  | { readonly type: 'failed'; readonly error: string };

export interface Firing {
  readonly sensor: string;
  readonly trigger: string;
  /** Dependency name to the event it consumed. */
  readonly events: Record<string, SimulatedEvent>;
  readonly action: TriggerAction;
  readonly atLeastOnce: boolean;
  /** Set when the action fails (AlreadyExists): Argo retries, then runs this dead-letter trigger. */
  readonly deadLetterTrigger?: string;
}

export interface DependencyOutcome {
  readonly sensor: string;
  readonly dependency: string;
  readonly pass: boolean;
  readonly errors: string[];
}

export interface Delivery {
  readonly event: SimulatedEvent;
  readonly dependencies: DependencyOutcome[];
  readonly firings: Firing[];
}

export class Simulator {
  /** Loads every YAML document under a directory (recursively) or from one file. */
  public static fromPath(path: string): Simulator {
    return new Simulator(loadYamlDocuments(path));
  }

  private readonly sensors: Json[];
  private readonly eventSources: Json[];
  private readonly pending = new Map<string, Record<string, SimulatedEvent>>();
  private readonly objects = new Set<string>();
  private generated = 0;

  public constructor(documents: unknown[]) {
    const docs = documents.filter((d): d is Json => d !== null && typeof d === 'object');
    this.sensors = docs.filter((d) => d.kind === 'Sensor');
    this.eventSources = docs.filter((d) => d.kind === 'EventSource');
  }

  /** `eventSourceName/eventName` of every event the loaded EventSources define. */
  public get events(): string[] {
    return this.eventSources.flatMap((es) => {
      const name = String((es.metadata as Json).name);
      return Object.entries(es.spec as Json)
        .filter(([k, v]) => !['eventBusName', 'replicas', 'service', 'template'].includes(k) && v && typeof v === 'object')
        .flatMap(([, v]) => Object.keys(v as Json).map((e) => `${name}/${e}`));
    });
  }

  /** Names (`kind/namespace/name`) of the objects created so far. */
  public get createdObjects(): string[] {
    return [...this.objects].sort();
  }

  public deliver(event: SimulatedEvent): Delivery {
    if (!this.events.includes(`${event.eventSourceName}/${event.eventName}`)) {
      throw new Error(`no EventSource defines ${event.eventSourceName}/${event.eventName} (known: ${this.events.join(', ')})`);
    }
    const dependencies: DependencyOutcome[] = [];
    const firings: Firing[] = [];
    for (const sensor of this.sensors) {
      const sensorName = String((sensor.metadata as Json).name);
      const namespace = String((sensor.metadata as Json).namespace ?? 'default');
      const spec = sensor.spec as Json;
      const deps = (spec.dependencies as Json[] | undefined) ?? [];
      const matched = new Set<string>();
      for (const dep of deps) {
        if (dep.eventSourceName !== event.eventSourceName || dep.eventName !== event.eventName) continue;
        const outcome = filterEvent(dep, event);
        dependencies.push({ sensor: sensorName, dependency: String(dep.name), ...outcome });
        if (outcome.pass) matched.add(String(dep.name));
      }
      if (matched.size === 0) continue;
      for (const trigger of (spec.triggers as Json[] | undefined) ?? []) {
        const template = trigger.template as Json;
        const triggerName = String(template.name);
        const expression = (template.conditions as string | undefined) ?? deps.map((d) => String(d.name)).join(' && ');
        const names = expressionNames(expression, { hyphenatedNames: true });
        const key = `${sensorName}/${triggerName}`;
        const pending = { ...(this.pending.get(key) ?? {}) };
        for (const n of names) if (matched.has(n)) pending[n] = event;
        this.pending.set(key, pending);
        const satisfied = Object.fromEntries(names.map((n) => [n, n in pending]));
        if (evaluateExpression(expression, satisfied, { hyphenatedNames: true }) !== true) continue;
        this.pending.set(key, {});
        firings.push(this.fireOrFail(sensorName, namespace, trigger, pending));
      }
    }
    return { event, dependencies, firings };
  }

  private fireOrFail(sensor: string, namespace: string, trigger: Json, events: Record<string, SimulatedEvent>): Firing {
    try {
      return this.fire(sensor, namespace, trigger, events);
    } catch (e) {
      const dlq = trigger.dlqTrigger as Json | undefined;
      return {
        sensor,
        trigger: String((trigger.template as Json).name),
        events,
        atLeastOnce: trigger.atLeastOnce === true,
        action: { type: 'failed', error: (e as Error).message },
        ...(dlq ? { deadLetterTrigger: String((dlq.template as Json).name) } : {}),
      };
    }
  }

  private fire(sensor: string, namespace: string, trigger: Json, events: Record<string, SimulatedEvent>): Firing {
    const template = applyParameters(trigger.template, trigger.parameters as Json[] | undefined, events) as Json;
    const name = String(template.name);
    const atLeastOnce = trigger.atLeastOnce === true;
    const dlq = trigger.dlqTrigger as Json | undefined;
    const deadLetter = dlq ? String((dlq.template as Json).name) : undefined;
    for (const type of ['k8s', 'argoWorkflow'] as const) {
      const t = template[type] as Json | undefined;
      if (!t) continue;
      const source = t.source as Json;
      const base = source.resource ?? (typeof source.inline === 'string' ? parseAllDocuments(source.inline)[0].toJS() : undefined);
      if (!base) throw new Error(`trigger ${name}: only source.resource and source.inline are supported by the simulator`);
      const resource = applyParameters(base, t.parameters as Json[] | undefined, events) as Json;
      const metadata = (resource.metadata as Json | undefined) ?? {};
      let objectName = metadata.name as string | undefined;
      if (!objectName && metadata.generateName) objectName = `${String(metadata.generateName)}sim${++this.generated}`;
      if (!objectName) throw new Error(`trigger ${name}: the resource has neither metadata.name nor metadata.generateName`);
      const operation = String(t.operation ?? (type === 'k8s' ? 'create' : 'submit'));
      const object = `${String(resource.kind)}/${String(metadata.namespace ?? namespace)}/${objectName}`;
      const exists = this.objects.has(object);
      if (operation === 'create' || operation === 'submit') this.objects.add(object);
      const outcome = (operation === 'create' || operation === 'submit') && exists ? 'already-exists' : 'created';
      return {
        sensor,
        trigger: name,
        events,
        atLeastOnce,
        action: { type, operation, resource, object, outcome },
        ...(outcome === 'already-exists' && deadLetter ? { deadLetterTrigger: deadLetter } : {}),
      };
    }
    const http = template.http as Json | undefined;
    if (http) {
      const policy = ((trigger.policy as Json | undefined)?.status as Json | undefined)?.allow as number[] | undefined;
      const secureHeaders: Record<string, string> = {};
      for (const h of (http.secureHeaders as Json[] | undefined) ?? []) {
        const from = h.valueFrom as Json;
        const ref = (from.secretKeyRef ?? from.configMapKeyRef) as Json;
        secureHeaders[String(h.name)] = `${from.secretKeyRef ? 'secret' : 'configmap'} ${String(ref.name)}/${String(ref.key)}`;
      }
      return {
        sensor,
        trigger: name,
        events,
        atLeastOnce,
        action: {
          type: 'http',
          method: String(http.method ?? 'POST'),
          url: String(http.url),
          headers: { ...(http.headers as Record<string, string> | undefined), ...(constructPayload(http.dynamicHeaders as Json[] | undefined, events) as Record<string, string> | undefined) },
          secureHeaders,
          body: constructPayload(http.payload as Json[] | undefined, events),
          ...(policy ? { allowedStatuses: policy } : {}),
        },
      };
    }
    if (template.log) return { sensor, trigger: name, events, atLeastOnce, action: { type: 'log' } };
    throw new Error(`trigger ${name}: only k8s, argoWorkflow, http and log triggers are supported by the simulator`);
  }
}

export function loadYamlDocuments(path: string): unknown[] {
  const files = statSync(path).isDirectory() ? walkYaml(path) : [path];
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
      return doc.toJS() as unknown;
    }),
  );
}

function walkYaml(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) return walkYaml(full);
      return /\.ya?ml$/.test(entry) ? [full] : [];
    });
}

/**
 * One line per firing, for people: which trigger, what it does, with which resource. Runs
 * handed to the state service (`POST .../submit`, docs/state.md "Submissions") are shown as the
 * Workflow it creates; `submitted` collects their names across deliveries, so a repeated name
 * (which the service answers without creating anything) is marked.
 */
export function describeDelivery(delivery: Delivery, submitted: Set<string> = new Set()): string[] {
  const lines = [`event ${delivery.event.eventSourceName}/${delivery.event.eventName}`];
  if (delivery.firings.length === 0) lines.push('  no trigger fires');
  for (const f of delivery.firings) {
    const a = f.action;
    const head = `  ${f.sensor} -> ${f.trigger}: `;
    if (a.type === 'k8s' || a.type === 'argoWorkflow') {
      const spec = (a.resource.spec as Json | undefined) ?? {};
      const ref = (spec.workflowTemplateRef as Json | undefined)?.name;
      lines.push(`${head}${a.operation} ${a.object}${ref ? ` from WorkflowTemplate ${String(ref)}` : ''}: ${a.outcome === 'created' ? 'created' : 'AlreadyExists (nothing new starts)'}`);
      if (f.deadLetterTrigger) lines.push(`    after retries the dead-letter trigger ${f.deadLetterTrigger} records it`);
      for (const p of ((spec.arguments as Json | undefined)?.parameters as Json[] | undefined) ?? []) {
        lines.push(`    ${String(p.name)} = ${truncate(String(p.value ?? ''))}`);
      }
    } else if (a.type === 'http' && /\/submit$/.test(a.url) && typeof (a.body as Json | undefined)?.name === 'string') {
      const b = a.body as Json;
      const name = String(b.name);
      lines.push(`${head}submit Workflow/${String(b.namespace)}/${name} from WorkflowTemplate ${String(b.workflow)} to the state service (${a.method} ${a.url})`);
      lines.push(b.claim === 'true'
        ? '    the service claims the payload first; a refused claim creates nothing'
        : '    the service creates it without a claim (platform template)');
      if (submitted.has(name)) lines.push('    this run name was submitted before: the service answers 200 and nothing new starts');
      submitted.add(name);
      for (const [k, v] of Object.entries((b.arguments as Json | undefined) ?? {})) lines.push(`    ${k} = ${truncate(String(v))}`);
    } else if (a.type === 'http') {
      const secure = Object.entries(a.secureHeaders).map(([k, v]) => `${k} from ${v}`);
      lines.push(`${head}${a.method} ${a.url}${secure.length ? ` (${secure.join(', ')})` : ''}`);
      lines.push(`    body ${truncate(JSON.stringify(a.body))}`);
    } else if (a.type === 'failed') {
      lines.push(`${head}FAILS: ${a.error}`);
      if (f.deadLetterTrigger) lines.push(`    after retries the dead-letter trigger ${f.deadLetterTrigger} records it`);
    } else {
      lines.push(`${head}log the event`);
    }
  }
  return lines;
}

function truncate(s: string, max = 160): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
