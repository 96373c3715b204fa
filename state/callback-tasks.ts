/**
 * Wait-for-callback tasks (docs/callbacks.md): Step Functions' `.waitForTaskToken` on Argo.
 * A workflow's wait step opens a task (`POST /tasks`, writer token); the service mints a
 * token, stores only its SHA-256 (migration 0014) and delivers it to the external system
 * itself, so the token never appears in the Workflow's status. The external system answers
 * with the token (`POST /tasks/{token}/success|failure|heartbeat`); the answer is recorded in
 * the same transaction that closes the task, and CallbackTaskLoop applies it to the Argo
 * node through the Argo Server (`/set`), retried until it lands.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './db';
import type { SqsDelivery, SqsSender } from './sqs-delivery';
import { SQS_QUEUE_URL } from './sqs-queue-url';
import { InputError } from './validate';

/** `swt1_` and 32 random bytes (256 bits) in base64url. */
const TOKEN_PREFIX = 'swt1_';
const TOKEN_PATTERN = /^swt1_[A-Za-z0-9_-]{43}$/;
const KIB = 1024;
const MAX_SECONDS = 10 * 366 * 24 * 3600;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function newToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Whether the text can be a token at all (anything else is answered like an unknown token). */
export function isTokenShaped(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** Where the token goes: an HTTP endpoint of the external system. */
export interface HttpDelivery {
  readonly url: string;
  readonly method: 'POST' | 'PUT' | 'PATCH';
  readonly headers: Readonly<Record<string, string>>;
  /** Name of the header that carries the value the caller sent in X-Swoop-Send-Authorization. */
  readonly authHeader?: string;
}

export interface OpenTaskRequest {
  readonly namespace: string;
  readonly workflow: string;
  readonly run: string;
  readonly uid: string;
  readonly step: string;
  /** The Argo node (status.nodes name) the answer resumes. */
  readonly node: string;
  readonly heartbeatSeconds: number | null;
  readonly timeoutSeconds: number;
  readonly input: string;
  readonly parameters: Readonly<Record<string, string>>;
  /** An HTTP endpoint, or an SQS queue (`{ queueUrl }`). */
  readonly send: HttpDelivery | SqsDelivery;
}

export type Answer =
  | { readonly kind: 'success'; readonly output: string }
  | { readonly kind: 'failure'; readonly error: string; readonly cause: string }
  | { readonly kind: 'heartbeat' };

const OPEN_FIELDS = ['namespace', 'workflow', 'run', 'uid', 'step', 'node', 'heartbeatSeconds', 'timeoutSeconds', 'input', 'parameters', 'send'];
const SEND_FIELDS = ['url', 'method', 'headers', 'authHeader'];
const SQS_FIELDS = ['sqs'];

function object(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(400, field, `${field} must be a JSON object`);
  return v as Record<string, unknown>;
}

function onlyKnown(o: Record<string, unknown>, known: readonly string[], prefix = ''): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw new InputError(400, `${prefix}${key}`, `unknown field "${prefix}${key}"; expected only ${known.map((k) => prefix + k).join(', ')}`);
  }
}

function text(o: Record<string, unknown>, field: string, opts: { required?: boolean; max: number; pattern?: RegExp; what?: string; prefix?: string }): string {
  const name = `${opts.prefix ?? ''}${field}`;
  const v = o[field];
  if (v === undefined || v === null || v === '') {
    if (opts.required) throw new InputError(400, name, `${name} is required`);
    return '';
  }
  if (typeof v !== 'string') throw new InputError(400, name, `${name} must be a string, got ${typeof v}`);
  if (v.length > opts.max) throw new InputError(400, name, `${name} is longer than ${opts.max} characters`);
  if (opts.pattern && !opts.pattern.test(v)) throw new InputError(400, name, `${name} must be ${opts.what} (got "${v.slice(0, 100)}")`);
  return v;
}

function seconds(o: Record<string, unknown>, field: string, required: boolean): number | null {
  const v = o[field];
  if (v === undefined || v === null || v === '') {
    if (required) throw new InputError(400, field, `${field} is required: a whole number of seconds from 1 to ${MAX_SECONDS}`);
    return null;
  }
  // Argo renders numbers of a toJson body as numbers; a string of digits is accepted too.
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_SECONDS) {
    throw new InputError(400, field, `${field} must be a whole number of seconds from 1 to ${MAX_SECONDS}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** `POST /tasks` (writer token), sent by a workflow's wait step. */
export function parseOpenTask(body: unknown): OpenTaskRequest {
  const o = object(body, 'body');
  onlyKnown(o, OPEN_FIELDS);
  const run = text(o, 'run', { required: true, max: 253, pattern: DNS_SUBDOMAIN, what: 'an Argo workflow name' });
  const step = text(o, 'step', { required: true, max: 63, pattern: NAME, what: 'a step name (lower-case letters, digits and -)' });
  const node = text(o, 'node', { required: true, max: 512, pattern: DNS_SUBDOMAIN, what: 'the Argo node name of the wait step' });
  if (!node.startsWith(`${run}.`)) throw new InputError(400, 'node', `node must be a node of run "${run}" (start with "${run}.")`);
  const params = o.parameters === undefined || o.parameters === null ? {} : object(o.parameters, 'parameters');
  for (const [k, v] of Object.entries(params)) {
    if (typeof v !== 'string') throw new InputError(400, `parameters.${k}`, `parameters.${k} must be a string`);
  }
  const s = object(o.send, 'send');
  const common = {
    namespace: text(o, 'namespace', { required: true, max: 63, pattern: NAME, what: 'a namespace' }),
    workflow: text(o, 'workflow', { required: true, max: 253 }),
    run,
    uid: text(o, 'uid', { required: true, max: 64 }),
    step,
    node,
    heartbeatSeconds: seconds(o, 'heartbeatSeconds', false),
    timeoutSeconds: seconds(o, 'timeoutSeconds', true)!,
    input: text(o, 'input', { max: 512 * KIB }),
    parameters: params as Record<string, string>,
  };
  if (s.sqs !== undefined) {
    onlyKnown(s, SQS_FIELDS, 'send.');
    const q = object(s.sqs, 'send.sqs');
    onlyKnown(q, ['queueUrl'], 'send.sqs.');
    const queueUrl = text(q, 'queueUrl', { required: true, max: 2048, pattern: SQS_QUEUE_URL, what: 'an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)', prefix: 'send.sqs.' });
    return { ...common, send: { queueUrl } };
  }
  onlyKnown(s, SEND_FIELDS, 'send.');
  const url = text(s, 'url', { required: true, max: 2048, pattern: /^https?:\/\/[^\s]+$/, what: 'an http:// or https:// URL', prefix: 'send.' });
  const method = text(s, 'method', { max: 8, prefix: 'send.' }) || 'POST';
  if (!['POST', 'PUT', 'PATCH'].includes(method)) throw new InputError(400, 'send.method', `send.method must be POST, PUT or PATCH (got "${method}")`);
  const headers = s.headers === undefined || s.headers === null ? {} : object(s.headers, 'send.headers');
  for (const [k, v] of Object.entries(headers)) {
    if (!/^[A-Za-z0-9-]+$/.test(k) || typeof v !== 'string' || /[\r\n]/.test(v)) {
      throw new InputError(400, `send.headers.${k}`, `send.headers.${k} must be a header name with a one-line string value`);
    }
  }
  const authHeader = text(s, 'authHeader', { max: 64, pattern: /^[A-Za-z0-9-]+$/, what: 'a header name', prefix: 'send.' });
  return {
    ...common,
    send: { url, method: method as HttpDelivery['method'], headers: headers as Record<string, string>, ...(authHeader ? { authHeader } : {}) },
  };
}

/** The body of `POST /tasks/{token}/success|failure|heartbeat`. */
export function parseAnswer(kind: Answer['kind'], body: unknown): Answer {
  if (kind === 'heartbeat') {
    if (body !== undefined && body !== null) onlyKnown(object(body, 'body'), []);
    return { kind };
  }
  const o = object(body, 'body');
  if (kind === 'success') {
    onlyKnown(o, ['output']);
    const v = o.output;
    if (v === undefined || v === null || v === '') {
      throw new InputError(400, 'output', 'output is required: the output payload URL, or the payload as JSON');
    }
    // A JSON value is stored as its text: the step's output parameter is a string either way.
    const output = typeof v === 'string' ? v : JSON.stringify(v);
    if (output.length > 512 * KIB) throw new InputError(400, 'output', `output is longer than ${512 * KIB} characters; pass a URL`);
    return { kind, output };
  }
  onlyKnown(o, ['error', 'cause']);
  return {
    kind,
    error: text(o, 'error', { required: true, max: 256 }),
    cause: text(o, 'cause', { max: 32 * KIB }),
  };
}

/** An answer the API refuses with 409, in one line. */
export class TaskConflict extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'TaskConflict';
  }
}

/** Delivering the token failed (the external system's answer or the network): 502. */
export class DeliveryFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryFailed';
  }
}

/** Argo Server not configured: the service cannot resume a node, so it opens no task. */
export class NotConfigured extends Error {}

export interface OpenResult {
  readonly task: string;
  readonly state: string;
  /** False when the task already had its answer (a retried open): nothing was sent. */
  readonly delivered: boolean;
}

export interface AnswerResult {
  readonly task: string;
  readonly run: string;
  readonly step: string;
  readonly state: string;
  readonly heartbeatDueAt?: string | null;
}

export interface CallbackTasksProps {
  readonly db: Db;
  /** False when ARGO_SERVER_URL is unset: no task is opened (it could never be resumed). */
  readonly canResume: boolean;
  /** Timeout of the delivery request, ms. Default: 10000. */
  readonly deliveryTimeoutMs?: number;
  /** Called after an answer is recorded, so the loop applies it at once. */
  readonly onAnswered?: () => void;
  /** Sends tokens to SQS queues (TASK_TOKEN_QUEUES). @default none: an SQS target is refused */
  readonly sqs?: SqsSender;
}

const iso = (t: unknown) => (t instanceof Date ? t.toISOString() : t === null || t === undefined ? null : new Date(String(t)).toISOString());

export class CallbackTasks {
  constructor(private readonly props: CallbackTasksProps) {}

  /** Opens the task of a wait step and delivers a new token for it. */
  async open(req: OpenTaskRequest, sendAuthorization: string | undefined): Promise<OpenResult> {
    if (!this.props.canResume) {
      throw new NotConfigured('this state service cannot resume workflows: ARGO_SERVER_URL and ARGO_TOKEN are not set (docs/callbacks.md)');
    }
    if ('queueUrl' in req.send) {
      if (!this.props.sqs?.allows(req.send.queueUrl)) {
        throw new InputError(400, 'send.sqs.queueUrl', `send.sqs.queueUrl ${req.send.queueUrl} is not a queue this service sends task tokens to; add it to TASK_TOKEN_QUEUES (infra grants sqs:SendMessage on those)`);
      }
    } else if (req.send.authHeader && !sendAuthorization) {
      throw new InputError(400, 'x-swoop-send-authorization', `send.authHeader is "${req.send.authHeader}" but the request has no X-Swoop-Send-Authorization header to send in it`);
    }
    const token = newToken();
    const [row] = await this.props.db.query<{ outcome: string; task: string | null; state: string | null }>(
      'SELECT outcome, task::text AS task, state FROM swoop_task_open($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [hashToken(token), req.namespace, req.workflow, req.run, req.uid, req.step, req.node, req.heartbeatSeconds, req.timeoutSeconds],
    );
    switch (row!.outcome) {
      case 'unclaimed':
        throw new TaskConflict('run', `run "${req.run}" (uid ${req.uid}) has not claimed its payload; a wait step runs only after a successful claim`);
      case 'run-ended':
        throw new TaskConflict('run', `run "${req.run}" already ended (${row!.state}); it opens no task`);
      case 'answered':
        return { task: row!.task!, state: row!.state!, delivered: false };
    }
    await this.deliver(req, token, sendAuthorization);
    return { task: row!.task!, state: 'WAITING', delivered: true };
  }

  private async deliver(req: OpenTaskRequest, token: string, sendAuthorization: string | undefined): Promise<void> {
    const body = {
      taskToken: token,
      workflow: req.workflow,
      run: req.run,
      step: req.step,
      input: req.input,
      parameters: req.parameters,
      heartbeatSeconds: req.heartbeatSeconds,
      timeoutSeconds: req.timeoutSeconds,
    };
    // One key per step of a run: every token of it answers the same task.
    const idempotencyKey = `${req.uid}/${req.step}`;
    const send = req.send;
    if ('queueUrl' in send) {
      try {
        await this.props.sqs!.send(send.queueUrl, body, idempotencyKey, token);
      } catch (err) {
        const problem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        throw new DeliveryFailed(`sending the task token to SQS queue ${send.queueUrl} failed: ${problem}; retry the open`);
      }
      return;
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...send.headers,
      'idempotency-key': idempotencyKey,
    };
    if (send.authHeader && sendAuthorization) headers[send.authHeader] = sendAuthorization;
    let problem: string | undefined;
    try {
      const res = await fetch(send.url, {
        method: send.method,
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.props.deliveryTimeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) problem = `answered HTTP ${res.status}`;
    } catch (err) {
      problem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    if (problem !== undefined) {
      throw new DeliveryFailed(`delivering the task token to ${send.method} ${send.url} failed: ${problem}; retry the open`);
    }
  }

  /** Records an answer to a token. */
  async answer(token: string, answer: Answer): Promise<AnswerResult> {
    if (!isTokenShaped(token)) throw new InputError(404, 'token', 'no task has this token');
    const output = answer.kind === 'success' ? answer.output : null;
    const error = answer.kind === 'failure' ? answer.error : null;
    const cause = answer.kind === 'failure' ? answer.cause : null;
    const [row] = await this.props.db.query<{
      outcome: string; task: string | null; run: string | null; step: string | null; state: string | null;
      answered_at: unknown; heartbeat_due: unknown;
    }>(
      'SELECT outcome, task::text AS task, run, step, state, answered_at, heartbeat_due FROM swoop_task_answer($1, $2, $3, $4, $5)',
      [hashToken(token), answer.kind, output, error, cause],
    );
    const r = row!;
    const what = `task ${r.task} (step "${r.step}" of run "${r.run}")`;
    switch (r.outcome) {
      case 'unknown':
        throw new InputError(404, 'token', 'no task has this token');
      case 'run-ended':
        throw new TaskConflict('token', `${what}: the run already ended (${r.state}); the answer is refused`);
      case 'closed':
        throw new TaskConflict('token', r.state === 'TIMED_OUT'
          ? `${what} timed out at ${iso(r.answered_at)}; the answer came too late`
          : `${what} was already answered (${r.state} at ${iso(r.answered_at)}); a task takes one answer`);
    }
    if (r.outcome === 'answered') this.props.onAnswered?.();
    return {
      task: r.task!,
      run: r.run!,
      step: r.step!,
      state: r.state!,
      ...(answer.kind === 'heartbeat' ? { heartbeatDueAt: iso(r.heartbeat_due) } : {}),
    };
  }
}
