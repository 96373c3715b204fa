/**
 * Input checking for the HTTP API. Bodies are flat JSON objects of strings (and one number), so a small
 * explicit checker gives better messages than a schema engine: every error names the
 * field and says what is expected. Nothing is written unless this passes.
 */
import { ARGO_PHASES, type ArgoPhase, RUN_STATES, type RunState, isRunState } from './states';
import { parseTimestamp } from './timestamp';

/** A client error: HTTP status, the offending field, and what to do. */
export class InputError extends Error {
  constructor(
    readonly status: 400 | 404 | 413,
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

export interface LifecycleEvent {
  readonly type: 'running' | 'completed';
  readonly workflow: string;
  readonly run: string;
  readonly uid: string;
  readonly payloadId: string;
  readonly parentRun: string;
  readonly phase: ArgoPhase;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly message: string;
  readonly failures: string;
  readonly input: string;
  readonly output: string;
  /**
   * running events only: the workflow's activeDeadlineSeconds, counted from startedAt; null
   * when it has none. Lets the service end runs whose completion never arrives.
   */
  readonly deadlineSeconds: number | null;
}

/** From ingress: a payload naming no known workflow, or malformed (contracts.md). */
export interface InvalidEvent {
  readonly type: 'invalid';
  /** where ingress got it (e.g. the event source name) */
  readonly source: string;
  readonly message: string;
  /** the raw payload text */
  readonly input: string;
  readonly detail: string;
  readonly workflow: string;
  readonly run: string;
  readonly payloadId: string;
}

export interface ClaimRequest {
  readonly payloadId: string;
  readonly workflow: string;
  readonly run: string;
  readonly input: string;
  readonly replace: boolean;
  readonly parentRun: string;
  readonly uid: string;
}

const KIB = 1024;
/**
 * Longest run name: a run is an Argo Workflow, and Argo refuses workflow names over 63
 * characters (they label every pod; workflow/validate: maxCharsInObjectName), as the names
 * this project generates are cut to (constructs/events/routing.ts). Anything longer cannot
 * be a real run, and GET /runs/{run} reads every name this accepts.
 */
export const MAX_RUN_NAME = 63;
/** Longest workflow (WorkflowTemplate, OGC process) name: a Kubernetes object name. */
export const MAX_WORKFLOW_NAME = 253;
// Longest accepted value per field. Payloads inline up to ~120 KB in cirrus; failure lists
// of wide fan-outs get long.
const MAX_LENGTH: Record<string, number> = {
  type: 16,
  workflow: MAX_WORKFLOW_NAME,
  run: MAX_RUN_NAME,
  uid: 64,
  payloadId: 2 * KIB,
  parentRun: MAX_RUN_NAME,
  phase: 16,
  startedAt: 64,
  finishedAt: 64,
  message: 64 * KIB,
  failures: 512 * KIB,
  input: 512 * KIB,
  output: 8 * KIB,
  replace: 8,
  source: 253,
  detail: 64 * KIB,
};

const EVENT_FIELDS = ['type', 'workflow', 'run', 'uid', 'payloadId', 'parentRun', 'phase', 'startedAt', 'finishedAt', 'message', 'failures', 'input', 'output', 'deadlineSeconds'];
// Ten years: far beyond any workflow deadline, and keeps startedAt + deadline a valid timestamp.
const MAX_DEADLINE_SECONDS = 10 * 366 * 24 * 3600;
const INVALID_FIELDS = ['type', 'source', 'message', 'input', 'detail', 'workflow', 'run', 'payloadId'];
const CLAIM_FIELDS = ['payloadId', 'workflow', 'run', 'input', 'replace', 'parentRun', 'uid'];

/**
 * How far ahead of this server's clock a reported time may be. Events report what already
 * happened (a workflow started, finished); the cluster's clocks agree to seconds. A startedAt
 * beyond this is refused rather than recorded: it would put the run's deadline out of the
 * sweeper's reach (year 9000), and clamping it would record a time nobody reported.
 */
export const MAX_CLOCK_SKEW_MS = 60 * 60 * 1000;

// Unpaired UTF-16 surrogates are not Unicode: they cannot be stored as UTF-8 text or jsonb.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why PostgreSQL could not store this text (NUL, unpaired surrogates), or undefined. */
export function textProblem(v: string): string | undefined {
  if (v.includes('\u0000')) return 'contains a NUL character (\\u0000), which text cannot hold';
  if (LONE_SURROGATE.test(v)) return 'contains an unpaired UTF-16 surrogate, which is not Unicode text';
  return undefined;
}

/** Throws a 400 naming `field` when the text cannot be stored. */
export function storableText(field: string, v: string): string {
  const problem = textProblem(v);
  if (problem !== undefined) throw new InputError(400, field, `${field} ${problem}`);
  return v;
}

/** Every string (keys included) inside a parsed JSON value, checked as storableText. */
function storableJson(field: string, v: unknown): void {
  if (typeof v === 'string') storableText(field, v);
  else if (Array.isArray(v)) for (const e of v) storableJson(field, e);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, e] of Object.entries(v)) {
      storableText(field, k);
      storableJson(field, e);
    }
  }
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InputError(400, 'body', 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function onlyKnown(o: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw new InputError(400, key, `unknown field "${key}"; expected only ${known.join(', ')}`);
    }
  }
}

function str(o: Record<string, unknown>, field: string, required: boolean): string {
  const v = o[field];
  if (v === undefined || v === null) {
    if (required) throw new InputError(400, field, `${field} is required`);
    return '';
  }
  if (typeof v !== 'string') throw new InputError(400, field, `${field} must be a string, got ${typeof v}`);
  if (required && v === '') throw new InputError(400, field, `${field} must not be empty`);
  if (v.length > MAX_LENGTH[field]!) {
    throw new InputError(400, field, `${field} is longer than ${MAX_LENGTH[field]} characters`);
  }
  if (field === 'payloadId') payloadIdBytes(field, v);
  return storableText(field, v);
}

/**
 * Longest payload id in UTF-8 bytes. It is a btree key (payloads, runs_by_payload), and
 * PostgreSQL refuses index entries over ~2.7 KB; cirrus's own key (DynamoDB) stops at 2048.
 */
export const MAX_PAYLOAD_ID_BYTES = 2048;

export function payloadIdBytes(field: string, v: string): string {
  if (Buffer.byteLength(v, 'utf8') > MAX_PAYLOAD_ID_BYTES) {
    throw new InputError(400, field, `${field === 'payloadId' ? 'payloadId' : `the payload id read from ${field}`} is longer than ${MAX_PAYLOAD_ID_BYTES} bytes (UTF-8)`);
  }
  return v;
}

/** A timestamp field: RFC 3339 that PostgreSQL stores as the same instant (state/timestamp.ts). */
function checkTimestamp(field: string, v: string): number {
  const t = parseTimestamp(v);
  if (typeof t === 'string') throw new InputError(400, field, `${field} ${t}`);
  return t;
}

/** A reported time: a timestamp, or empty, and not in the future (MAX_CLOCK_SKEW_MS). */
function timestamp(o: Record<string, unknown>, field: string, now: number): string {
  const v = str(o, field, false);
  if (v !== '' && checkTimestamp(field, v) > now + MAX_CLOCK_SKEW_MS) {
    throw new InputError(400, field, `${field} ${v} is in the future (this server's clock says ${new Date(now).toISOString()}); send the time the workflow reported`);
  }
  return v;
}

function deadlineSeconds(o: Record<string, unknown>, type: 'running' | 'completed'): number | null {
  const v = o.deadlineSeconds;
  if (v === undefined || v === null) return null;
  if (type !== 'running') {
    throw new InputError(400, 'deadlineSeconds', 'deadlineSeconds belongs to running events; leave it out of completed events');
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_DEADLINE_SECONDS) {
    throw new InputError(400, 'deadlineSeconds',
      `deadlineSeconds must be a whole number of seconds from 1 to ${MAX_DEADLINE_SECONDS} (the workflow's activeDeadlineSeconds), or absent; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A lifecycle event or an ingress INVALID report (contracts.md, POST /events). */
export function parseEvent(body: unknown, now = Date.now()): LifecycleEvent | InvalidEvent {
  const o = object(body);
  const type = str(o, 'type', true);
  if (type === 'invalid') {
    onlyKnown(o, INVALID_FIELDS);
    return {
      type,
      source: str(o, 'source', false),
      message: str(o, 'message', false),
      input: str(o, 'input', true),
      detail: str(o, 'detail', false),
      workflow: str(o, 'workflow', false),
      run: str(o, 'run', false),
      payloadId: str(o, 'payloadId', false),
    };
  }
  if (type !== 'running' && type !== 'completed') {
    throw new InputError(400, 'type', `type must be one of running, completed, invalid (got "${type}")`);
  }
  onlyKnown(o, EVENT_FIELDS);
  const phase = str(o, 'phase', true);
  if (!(ARGO_PHASES as readonly string[]).includes(phase)) {
    throw new InputError(400, 'phase', `phase must be one of ${ARGO_PHASES.join(', ')} (got "${phase}")`);
  }
  const finalPhase = phase === 'Succeeded' || phase === 'Failed' || phase === 'Error';
  if ((type === 'completed') !== finalPhase) {
    throw new InputError(400, 'phase', type === 'completed'
      ? `a completed event needs phase Succeeded, Failed or Error (got "${phase}")`
      : `a running event needs phase Pending or Running (got "${phase}")`);
  }
  const failures = str(o, 'failures', false);
  if (failures !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(failures);
      // Argo hands workflow.failures over as a JSON string holding the JSON list.
      if (typeof parsed === 'string') parsed = JSON.parse(parsed);
    } catch {
      if (parsed === undefined) throw new InputError(400, 'failures', 'failures must be the workflow.failures JSON text, or empty');
    }
    // Escapes (\u0000, \ud800) hide what the raw text check cannot see; the error text is read from them.
    storableJson('failures', parsed);
  }
  return {
    type,
    workflow: str(o, 'workflow', true),
    run: str(o, 'run', true),
    uid: str(o, 'uid', false),
    payloadId: str(o, 'payloadId', false),
    parentRun: str(o, 'parentRun', false),
    phase: phase as ArgoPhase,
    startedAt: timestamp(o, 'startedAt', now),
    finishedAt: timestamp(o, 'finishedAt', now),
    message: str(o, 'message', false),
    failures,
    input: str(o, 'input', false),
    output: str(o, 'output', false),
    deadlineSeconds: deadlineSeconds(o, type),
  };
}

/**
 * POST /claim. `replace` may be a boolean or the strings "true"/"false" (Argo parameters
 * are strings). `payloadId` may be empty (chained runs, references): the store derives it.
 */
export function parseClaim(body: unknown): ClaimRequest {
  const o = object(body);
  onlyKnown(o, CLAIM_FIELDS);
  const r = o.replace;
  let replace: boolean;
  if (r === undefined || r === null || r === '' || r === false || r === 'false') replace = false;
  else if (r === true || r === 'true') replace = true;
  else throw new InputError(400, 'replace', 'replace must be true, false, "true" or "false"');
  return {
    payloadId: str(o, 'payloadId', false),
    workflow: str(o, 'workflow', true),
    run: str(o, 'run', true),
    input: str(o, 'input', false),
    replace,
    parentRun: str(o, 'parentRun', false),
    uid: str(o, 'uid', false),
  };
}

export interface RunFilter {
  /** any of these workflows */
  readonly workflows?: readonly string[];
  readonly collection?: string;
  readonly payloadId?: string;
  /** any of these states */
  readonly states?: readonly RunState[];
  /** created at or after (RFC 3339) */
  readonly since?: string;
  /** created before (RFC 3339) */
  readonly until?: string;
  /** created at or before (RFC 3339; OGC datetime intervals are closed) */
  readonly through?: string;
  /** ran at least / at most this long: finished (or now) minus started (or created) */
  readonly minDurationSeconds?: number;
  readonly maxDurationSeconds?: number;
}

export interface Page {
  readonly limit: number;
  readonly cursor?: { readonly createdAt: string; readonly run: string };
}

type Query = Record<string, unknown>;

function queryString(q: Query, field: string): string | undefined {
  const v = q[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new InputError(400, field, `${field} may be given once`);
  return queryValue(field, v);
}

function queryValue(field: string, v: string): string {
  if (v.length > 1024) throw new InputError(400, field, `${field} is longer than 1024 characters`);
  return storableText(field, v);
}

/** A query parameter that may be repeated (`a=x&a=y`); each value is kept. */
export function queryStrings(q: Query, field: string): string[] | undefined {
  const v = q[field];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).map((e) => queryValue(field, String(e)));
}

function queryTime(q: Query, field: string): string | undefined {
  const v = queryString(q, field);
  if (v !== undefined) checkTimestamp(field, v);
  return v;
}

/** A name in a path (/runs/{run}): storable text, else a 400 naming the parameter. */
export function pathName(field: string, v: string): string {
  return storableText(field, v);
}

export function parseRunFilter(q: Query, known: readonly string[]): RunFilter {
  for (const key of Object.keys(q)) {
    if (!known.includes(key)) {
      throw new InputError(400, key, `unknown query parameter "${key}"; expected ${known.join(', ')}`);
    }
  }
  const states = queryString(q, 'state')?.split(',');
  for (const s of states ?? []) {
    if (!isRunState(s)) {
      throw new InputError(400, 'state', `state must be one or more (comma-separated) of ${RUN_STATES.join(', ')} (got "${s}")`);
    }
  }
  const workflow = queryString(q, 'workflow');
  return {
    workflows: workflow === undefined ? undefined : [workflow],
    collection: queryString(q, 'collection'),
    payloadId: queryString(q, 'payloadId'),
    states: states as RunState[] | undefined,
    since: queryTime(q, 'since'),
    until: queryTime(q, 'until'),
  };
}

export function parsePage(q: Query, cursorField = 'cursor'): Page {
  const raw = queryString(q, 'limit');
  const limit = raw === undefined ? 100 : Number(raw);
  if (!/^\d+$/.test(raw ?? '100') || limit < 1 || limit > 1000) {
    throw new InputError(400, 'limit', 'limit must be an integer from 1 to 1000');
  }
  const c = queryString(q, cursorField);
  if (c === undefined) return { limit };
  return { limit, cursor: decodeCursor(c, cursorField) };
}

/** createdAt is the microsecond text form SQL returns (a JS Date would lose precision). */
export function encodeCursor(createdAt: string, run: string): string {
  return Buffer.from(JSON.stringify([createdAt, run])).toString('base64url');
}

// The form encodeCursor is given (store.ts TS()): exactly microseconds, UTC. Its run may be
// longer than MAX_RUN_NAME when it was recorded before that limit.
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function decodeCursor(c: string, field: string): { createdAt: string; run: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2) {
      const [createdAt, run] = value as unknown[];
      if (typeof createdAt === 'string' && CURSOR_TIME.test(createdAt) && typeof parseTimestamp(createdAt) === 'number'
        && typeof run === 'string' && run.length <= MAX_WORKFLOW_NAME && textProblem(run) === undefined) {
        return { createdAt, run };
      }
    }
  } catch {
    // fall through to the error below
  }
  throw new InputError(400, field, `${field} is not a cursor this service returned; pass the "next" value unchanged`);
}
