/**
 * How sensors read cirrus payloads, as GJSON paths and Go (RE2) regular expressions that
 * Argo Events data filters and trigger parameters evaluate. Argo Events filters cannot test
 * that a path is *absent*, so each payload is reduced to one "route key" that always exists:
 * a GJSON multipath listing only the parts that are present, e.g. `["cog"]` for
 * `process: [{workflow: cog}, ...]`, `[["a","b"]]` when the first link runs two workflows in
 * parallel, `[]` for a payload without a usable `process`. Routing is then "the key names W
 * and every name in it is known"; INVALID is "the key is not of that form".
 * SNS-wrapped SQS messages carry the payload as a JSON string in `Message`; `@fromstr` reads it.
 */

const FORMS = ['process.workflow', 'process.0.workflow', 'process.0.#.workflow'];

/** Route key of an ingress event: `[url?, workflow name(s)]` of a raw or SNS-wrapped payload. */
export const INGRESS_ROUTE_KEY = `body|[url,Message|@fromstr|url,${FORMS.join(',')},${FORMS.map((f) => `Message|@fromstr|${f}`).join(',')}]`;

/**
 * Reference key of an ingress event: `{"url": ..., "process": ...}` of the raw payload, or
 * `{"sns-url": ..., "sns-process": ...}` of an SNS-wrapped one, members present only when the
 * payload has them. A bare reference (cirrus' form for payloads over ~120 KB) gives exactly
 * `{"url":"s3://..."}` or `{"sns-url":"s3://..."}`: any `process` at all, even a malformed one,
 * adds a member, so such payloads keep their normal routing (or INVALID record).
 */
export const INGRESS_REFERENCE_KEY = 'body|{"url":url,"process":process,"sns-url":Message|@fromstr|url,"sns-process":Message|@fromstr|process}';

/** Matches the reference key of a bare `s3://bucket/key` reference. */
export const BARE_S3_REFERENCE = '^\\{"(?:sns-)?url":"s3://[^"/]+/[^"]+"\\}$';

/** The `url` of a raw or SNS-wrapped payload. */
export const INGRESS_URL_KEY = 'body|[url,Message|@fromstr|url]|0';

/** The payload as the workflow's `input`: the SNS `Message` text, else the body JSON (inline payload or `{"url": ...}` reference). */
export const INGRESS_INPUT_KEY = 'body|[Message,@this]|0';

/** The payload's own `id` (cirrus payload id), when it carries one. */
export const INGRESS_PAYLOAD_ID_KEY = 'body|[Message|@fromstr|id,id]|0';

/** `replace` of the first process element (object or array form). */
export const INGRESS_REPLACE_KEY = 'body|[process.replace,process.0.replace,Message|@fromstr|process.replace,Message|@fromstr|process.0.replace]|0';

/** Route key of a `run.finished` event: `[length of next, next workflow name(s)]`; `[]` when next is absent. */
export const CHAIN_ROUTE_KEY = 'body|[next.#,next.0.workflow,next.0.#.workflow]';

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function nameForms(names: readonly string[]): string {
  const name = `"(?:${[...names].sort().map(escape).join('|')})"`;
  return `(?:${name}|\\[${name}(?:,${name})*\\])`;
}

/** Matches a route key that names `workflow` (alone or in a parallel group). */
export function namesWorkflow(workflow: string): string {
  return `[\\[,]"${escape(workflow)}"[,\\]]`;
}

/** Matches a well-formed ingress route key whose workflow names are all in `known`. */
export function validIngressKey(known: readonly string[]): string {
  return `^\\[(?:"(?:s3|https)://[^"]+",)?${nameForms(known)}\\]$`;
}

/** Matches a well-formed chain route key: no next link (`[]`, `[0]`) or next links all in `known`. */
export function validChainKey(known: readonly string[]): string {
  return `^\\[(?:0?|[1-9][0-9]*,${nameForms(known)})\\]$`;
}

/** Anchored exact match of a literal string. */
export function exactly(value: string): string {
  return `^${escape(value)}$`;
}

/** Anchored match of any of the literal strings. */
export function oneOf(values: readonly string[]): string {
  return `^(?:${[...values].sort().map(escape).join('|')})$`;
}

/** A Go template string literal (JSON string syntax is valid Go syntax for it). */
export function goString(value: string): string {
  return JSON.stringify(value);
}

/**
 * `dataTemplate` of a deterministic Workflow name: `<prefix>-<16 hex of sha256(identity)>`,
 * where `identity` is a Go template pipeline. The prefix is cut so the name stays a valid
 * 63-character label value (Argo labels pods with it).
 */
export function runNameTemplate(prefix: string, identityPipeline: string): string {
  const cut = prefix.slice(0, 46).replace(/-+$/, '');
  return `${cut}-{{ ${identityPipeline} | sha256sum | trunc 16 }}`;
}

/**
 * Run name derived from the upstream run's uid: a `run.finished` event without a uid fails the
 * trigger (and is dead-lettered) instead of hashing an empty value that every such event shares.
 */
export function runNameFromUpstream(prefix: string, link: string): string {
  return `{{ if not .Input.body.uid }}{{ fail "run.finished event has no uid" }}{{ end }}${runNameTemplate(prefix, `print .Input.body.uid ${goString(`/${link}`)}`)}`;
}
