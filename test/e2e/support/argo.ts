/**
 * Renders a synthesized WorkflowTemplate's lifecycle templates the way the Argo Workflows
 * v4 controller and agent do for one concrete run, so their HTTP requests can be sent to
 * the real state service. What it models, from the controller source:
 * - workflow parameters (operator.go setGlobalParameters): template defaults overridden by
 *   submitted arguments; `valueFrom.configMapKeyRef` read from a ConfigMap that must carry
 *   the label `workflows.argoproj.io/configmap-type: Parameter` (required since v4.0);
 *   `enum` enforced; a parameter without value is an error;
 * - template input parameters (common/util.go ProcessArgs): arguments, then `value` or
 *   `default`, then `valueFrom.configMapKeyRef` from the same labelled ConfigMaps;
 * - global variables: `workflow.name|uid|namespace|creationTimestamp` (RFC 3339, plus the
 *   strftime/`.s`/`.RFC3339` variants), `workflow.status`, and `workflow.failures` as Argo
 *   stores it: the JSON list passed through Go's strconv.Quote;
 * - simple tags `{{name}}` (flat lookup) and expression tags `{{=expr}}` evaluated in an env
 *   whose dotted keys are expanded into nested maps after dropping every key that is the
 *   prefix of another (util/expr/env removeConflicts) -- which is why, in an expression,
 *   `workflow.creationTimestamp` is a map and only `.RFC3339` is the string;
 * - HTTP templates (agent): headers from literals or Secret keys, the body, and
 *   `successCondition` over `response.statusCode|body|headers`.
 * Any tag it cannot resolve throws, naming the tag, so a typo in generated templates fails.
 */
import { goJsonMarshal } from '../../../tools/simulator/go-values';
import { evaluate, type Env } from './expr';

export type Doc = Record<string, any>;

/** The cluster objects a run reads: ConfigMaps (data and labels) and Secrets (string data), by name. */
export interface ClusterObjects {
  readonly configMaps: Readonly<Record<string, { readonly labels?: Readonly<Record<string, string>>; readonly data: Readonly<Record<string, string>> }>>;
  readonly secrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** One submitted Workflow, as a sensor trigger or `argo submit --from workflowtemplate/...` creates it. */
export interface Submission {
  readonly name: string;
  readonly uid: string;
  /** RFC 3339 without fraction, as metadata.creationTimestamp is serialized. */
  readonly creationTimestamp: string;
  readonly namespace?: string;
  readonly arguments: Readonly<Record<string, string>>;
}

/** Node outputs a DAG `when` may read, by task name. */
export type TaskOutputs = Readonly<Record<string, { readonly result?: string; readonly parameters?: Readonly<Record<string, string>> }>>;

export interface FailedNode {
  readonly displayName: string;
  readonly message: string;
  readonly templateName: string;
  readonly phase: 'Failed' | 'Error';
  readonly podName: string;
  readonly finishedAt: string;
}

const PARAMETER_CONFIGMAP_LABEL = 'workflows.argoproj.io/configmap-type';
const STRFTIME_CHARS = 'aAbBcCdDeFgGhHIjkLmMnprRsStTuUVwWxXyYzZ';

/** Go's strconv.Quote for the ASCII JSON text Argo quotes (JSON string escaping agrees there). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** `workflow.failures` as the controller stores it: strconv.Quote(json.Marshal(failed nodes)). */
export function workflowFailures(nodes: readonly FailedNode[]): string {
  return goQuote(nodes.length === 0 ? 'null' : JSON.stringify(nodes));
}

/** A `configMapKeyRef`'s value as the controller's ConfigMap store finds it: only ConfigMaps with the parameter label. */
function configMapValue(ref: { name: string; key: string }, cluster: ClusterObjects): { value: string } | { problem: string } {
  const cm = cluster.configMaps[ref.name];
  if (!cm) return { problem: `ConfigMap ${ref.name} does not exist` };
  if (cm.labels?.[PARAMETER_CONFIGMAP_LABEL] !== 'Parameter') return { problem: `ConfigMap ${ref.name} lacks the label ${PARAMETER_CONFIGMAP_LABEL}: Parameter (required by Argo v4)` };
  if (!(ref.key in cm.data)) return { problem: `ConfigMap ${ref.name} has no key ${ref.key}` };
  return { value: cm.data[ref.key]! };
}

/** Workflow parameter values of a run: template defaults, submitted arguments, ConfigMap values. */
export function resolveParameters(template: Doc, submitted: Readonly<Record<string, string>>, cluster: ClusterObjects): Record<string, string> {
  const where = `WorkflowTemplate ${template.metadata?.name}`;
  const declared = (template.spec?.arguments?.parameters ?? []) as Doc[];
  const names = new Set(declared.map((p) => String(p.name)));
  for (const name of Object.keys(submitted)) {
    if (!names.has(name)) throw new Error(`${where}: argument "${name}" is not a declared parameter (declared: ${[...names].join(', ')})`);
  }
  const values: Record<string, string> = {};
  for (const p of declared) {
    const name = String(p.name);
    let value: string | undefined = submitted[name] ?? (p.value !== undefined ? String(p.value) : undefined);
    if (value === undefined && p.valueFrom?.configMapKeyRef) {
      const found = configMapValue(p.valueFrom.configMapKeyRef, cluster);
      if ('value' in found) value = found.value;
      else if (p.valueFrom.default !== undefined) value = String(p.valueFrom.default);
      else throw new Error(`${where}: failed to set global parameter ${name}: ${found.problem}`);
    }
    if (value === undefined) throw new Error(`${where}: parameter "${name}" has no value: submit it or give it a default`);
    if (Array.isArray(p.enum) && !p.enum.map(String).includes(value)) {
      throw new Error(`${where}: parameter "${name}" is "${value}", not one of its enum values ${p.enum.join(', ')}`);
    }
    values[name] = value;
  }
  return values;
}

function strftime(char: string, d: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  switch (char) {
    case 'Y': return String(d.getUTCFullYear());
    case 'y': return pad(d.getUTCFullYear() % 100);
    case 'm': return pad(d.getUTCMonth() + 1);
    case 'd': return pad(d.getUTCDate());
    case 'H': return pad(d.getUTCHours());
    case 'M': return pad(d.getUTCMinutes());
    case 'S': return pad(d.getUTCSeconds());
    case 'A': return days[d.getUTCDay()]!;
    case 'a': return days[d.getUTCDay()]!.slice(0, 3);
    case 'B': return months[d.getUTCMonth()]!;
    case 'b': case 'h': return months[d.getUTCMonth()]!.slice(0, 3);
    case 'Z': return 'UTC';
    case 'z': return '+0000';
    case 's': return String(Math.floor(d.getTime() / 1000));
    default: return `%${char}`; // values of the other letters do not matter to these tests, only that the keys exist
  }
}

/** The controller's global variables for a run (flat keys, as in woc.globalParams). */
export function globalVariables(
  template: Doc, run: Submission, parameters: Readonly<Record<string, string>>,
  extra: { status?: string; failures?: string; outputs?: Readonly<Record<string, string>> } = {},
): Record<string, string> {
  const created = new Date(run.creationTimestamp);
  if (Number.isNaN(created.getTime()) || !/Z$/.test(run.creationTimestamp)) throw new Error(`creationTimestamp "${run.creationTimestamp}" is not RFC 3339 UTC`);
  const g: Record<string, string> = {
    'workflow.name': run.name,
    'workflow.namespace': run.namespace ?? String(template.metadata?.namespace ?? 'default'),
    'workflow.uid': run.uid,
    'workflow.mainEntrypoint': String(template.spec?.entrypoint),
    'workflow.serviceAccountName': String(template.spec?.serviceAccountName ?? ''),
    'workflow.creationTimestamp': run.creationTimestamp,
    'workflow.creationTimestamp.RFC3339': run.creationTimestamp,
    'workflow.parameters': JSON.stringify(Object.entries(parameters).map(([name, value]) => ({ name, value }))),
  };
  for (const c of STRFTIME_CHARS) g[`workflow.creationTimestamp.${c}`] = strftime(c, created);
  for (const [name, value] of Object.entries(parameters)) g[`workflow.parameters.${name}`] = value;
  if (extra.status !== undefined) g['workflow.status'] = extra.status;
  if (extra.failures !== undefined) g['workflow.failures'] = extra.failures;
  // Output parameters exported with `globalName`, once their node completed (operator.go
  // addParamToGlobalScope: globalParams["workflow.outputs.parameters.<globalName>"]).
  for (const [name, value] of Object.entries(extra.outputs ?? {})) g[`workflow.outputs.parameters.${name}`] = value;
  return g;
}

/**
 * `inputs.parameters.*` of a template called with `args` (a DAG task's arguments, already
 * rendered), as common/util.go ProcessArgs resolves them: a declared input takes its `value`,
 * else its `default`; an argument replaces both and drops the input's `valueFrom`; a
 * remaining `valueFrom.configMapKeyRef` is read from `cluster` (replacing any value), falling
 * back to `valueFrom.default`, else "unable to retrieve inputs.parameters.<name> from
 * ConfigMap". An undeclared argument or an input left without value is an error, as the
 * controller reports it.
 */
export function inputVariables(template: Doc, args: Readonly<Record<string, string>> = {}, cluster?: ClusterObjects): Record<string, string> {
  const declared = (template.inputs?.parameters ?? []) as Doc[];
  const names = new Set(declared.map((p) => String(p.name)));
  for (const name of Object.keys(args)) {
    if (!names.has(name)) throw new Error(`template ${template.name}: argument "${name}" is not one of its inputs (${[...names].join(', ') || 'none'})`);
  }
  const vars: Record<string, string> = {};
  for (const p of declared) {
    const supplied = p.name in args;
    let value = supplied ? args[p.name] : p.value !== undefined ? String(p.value) : p.default !== undefined ? String(p.default) : undefined;
    const ref = supplied ? undefined : p.valueFrom?.configMapKeyRef as { name: string; key: string } | undefined;
    if (ref) {
      if (!cluster) throw new Error(`template ${template.name}: input parameter "${p.name}" reads ConfigMap ${ref.name}; give the cluster objects`);
      const found = configMapValue(ref, cluster);
      if ('value' in found) value = found.value;
      else if (p.valueFrom.default !== undefined) value = String(p.valueFrom.default);
      else throw new Error(`template ${template.name}: unable to retrieve inputs.parameters.${p.name} from ConfigMap: ${found.problem}`);
    }
    if (value === undefined) throw new Error(`template ${template.name}: input parameter "${p.name}" has no value`);
    vars[`inputs.parameters.${p.name}`] = value;
  }
  return vars;
}

/** Flat dotted keys to the nested env of an expression, dropping keys that prefix others (util/expr/env). */
export function expressionEnv(flat: Readonly<Record<string, unknown>>): Env {
  const keys = Object.keys(flat).sort();
  const env: Record<string, any> = {};
  keys.forEach((key, i) => {
    if (i < keys.length - 1 && keys[i + 1]!.startsWith(`${key}.`)) return;
    const parts = key.split('.');
    let node = env;
    for (const part of parts.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part];
    }
    node[parts[parts.length - 1]!] = flat[key];
  });
  return env;
}

/** Replaces every `{{...}}` tag of `text`; throws on any tag it cannot resolve. */
export function renderTags(text: string, scope: Readonly<Record<string, string>>, where: string): string {
  let env: Env | undefined;
  return text.replace(/\{\{(.*?)\}\}/gs, (_, raw: string) => {
    const tag = raw.trim();
    if (tag.startsWith('=')) {
      env ??= expressionEnv(scope);
      let result: unknown;
      try {
        result = evaluate(tag.slice(1), env);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
      if (result === null || result === undefined) throw new Error(`${where}: expression {{${raw}}} evaluated to nil`);
      // Argo inserts a string result as is and anything else as its json.Marshal text.
      return typeof result === 'string' ? result : goJsonMarshal(result);
    }
    if (!(tag in scope)) throw new Error(`${where}: cannot resolve {{${tag}}} (not a variable of this run)`);
    return scope[tag]!;
  });
}

export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly successCondition: string;
  readonly timeoutMs: number;
}

export interface HttpOutcome {
  readonly request: HttpRequest;
  readonly status: number;
  readonly body: string;
  /** The template's successCondition evaluated on the response, as the agent does. */
  readonly succeeded: boolean;
}

/** The request an HTTP template sends for this run (headers from literals or Secrets). */
export function renderHttp(template: Doc, scope: Readonly<Record<string, string>>, cluster: ClusterObjects): HttpRequest {
  const where = `template ${template.name}`;
  const http = template.http as Doc | undefined;
  if (!http) throw new Error(`${where} is not an HTTP template`);
  const headers: Record<string, string> = {};
  for (const h of (http.headers ?? []) as Doc[]) {
    if (h.value !== undefined) headers[h.name] = renderTags(String(h.value), scope, `${where} header ${h.name}`);
    else if (h.valueFrom?.secretKeyRef) {
      const ref = h.valueFrom.secretKeyRef as { name: string; key: string };
      const value = cluster.secrets[ref.name]?.[ref.key];
      if (value === undefined) throw new Error(`${where} header ${h.name}: Secret ${ref.name} has no key ${ref.key}`);
      headers[h.name] = value;
    } else throw new Error(`${where} header ${h.name} has neither value nor valueFrom.secretKeyRef`);
  }
  if (!http.successCondition) throw new Error(`${where} has no successCondition; the lifecycle templates must say what counts as delivered`);
  return {
    method: String(http.method ?? 'GET'),
    url: renderTags(String(http.url), scope, `${where} url`),
    headers,
    body: http.body === undefined ? '' : renderTags(String(http.body), scope, `${where} body`),
    successCondition: String(http.successCondition),
    timeoutMs: Number(http.timeoutSeconds ?? 30) * 1000,
  };
}

export async function sendHttp(request: HttpRequest): Promise<HttpOutcome> {
  const res = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.body === '' ? undefined : request.body,
    signal: AbortSignal.timeout(request.timeoutMs),
  });
  const body = await res.text();
  const headers = Object.fromEntries([...res.headers.entries()].map(([k, v]) => [k, [v]]));
  // The variables Argo's agent offers (docs/http-template.md): header values are lists, as Go's http.Header.
  const requestHeaders = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, [v]]));
  const verdict = evaluate(request.successCondition, { request: { method: request.method, url: request.url, body: request.body, headers: requestHeaders }, response: { statusCode: res.status, body, headers } });
  if (typeof verdict !== 'boolean') throw new Error(`successCondition ${request.successCondition} gave ${String(verdict)}, not a bool`);
  return { request, status: res.status, body, succeeded: verdict };
}

/** Renders a DAG task's `when` with the outputs of earlier tasks; Argo then reads "true"/"false". */
export function evaluateWhen(task: Doc, scope: Readonly<Record<string, string>>, outputs: TaskOutputs): boolean {
  if (task.when === undefined) return true;
  const withTasks: Record<string, string> = { ...scope };
  for (const [name, out] of Object.entries(outputs)) {
    if (out.result !== undefined) withTasks[`tasks.${name}.outputs.result`] = out.result;
    for (const [p, v] of Object.entries(out.parameters ?? {})) withTasks[`tasks.${name}.outputs.parameters.${p}`] = v;
  }
  const rendered = renderTags(String(task.when), withTasks, `DAG task ${task.name} when`);
  if (rendered !== 'true' && rendered !== 'false') throw new Error(`DAG task ${task.name}: when rendered to "${rendered}", which Argo cannot read as a boolean`);
  return rendered === 'true';
}
