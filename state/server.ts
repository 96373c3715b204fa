/**
 * The state service's HTTP API (fastify). Writers (workflow hooks, ingress) POST
 * lifecycle events and claims; readers query payloads, runs, counts and OGC API -
 * Processes jobs. Events are accepted into the journal and applied in the background
 * (state/journal.ts). Every request is authenticated before its body is read; every input is
 * checked before anything is written; a database outage answers 503 so callers retry.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { CallbackTasks } from './callback-tasks';
import type { StateMetrics } from './metrics';
import { registerCallbackTaskRoutes } from './callback-task-routes';
import { type DashboardOptions, registerDashboard } from './dashboard';
import { DbUnavailableError } from './db';
import { loadMigrations } from './migrate';
import { type ProcessDescription, registerOgcRoutes } from './ogc';
import type { StateStore } from './store';
import type { Submitter } from './submit';
import { registerSubmitRoutes } from './submit-routes';
import { InputError, MAX_PAYLOAD_ID_BYTES, parseClaim, parseEvent, parsePage, parseRunFilter, pathName } from './validate';

export interface StateServerProps {
  readonly store: StateStore;
  /** Bearer token for POST /events and POST /claim (Secret swoop-state-tokens/writer). */
  readonly writerToken: string;
  /** Bearer token for reads (Secret swoop-state-tokens/reader); the writer token reads too. */
  readonly readerToken: string;
  /** Largest request body in bytes. Default: 1 MiB. */
  readonly bodyLimit?: number;
  /**
   * Absolute URL clients reach the service at (STATE_PUBLIC_URL), prefixed to the links of
   * /jobs. Default: root-relative links. Never the request's Host header, which the client
   * chooses (links pointing at another host).
   */
  readonly publicUrl?: string;
  /** Processes described (STATE_PROCESSES); /processes also lists every workflow seen in runs. Default: none. */
  readonly processes?: readonly ProcessDescription[];
  /** JSON log to stdout at this level, or false for none. Default: false. */
  readonly logger?: false | { readonly level: string };
  /** Wait-for-callback tasks (`/tasks` routes, state/callback-task-routes.ts). Default: no such routes. */
  readonly callbackTasks?: CallbackTasks;
  /** Times every request by route (state/metrics.ts; /metrics is served on its own port). Default: none. */
  readonly metrics?: StateMetrics;
  /** The operator's dashboard under /dashboard (state/dashboard/): its Argo link and SSO header. */
  readonly dashboard?: DashboardOptions;
  /** Claim-then-create of POST /submit (state/submit-routes.ts). Default: the route answers 503. */
  readonly submitter?: Submitter;
}

const RUN_FILTERS = ['workflow', 'collection', 'payloadId', 'state', 'since', 'until', 'limit', 'cursor'];
const COUNT_FILTERS = ['workflow', 'collection', 'payloadId', 'since', 'until'];

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares against every allowed token in constant time (hashing equalizes lengths). */
function bearerMatches(header: string | undefined, allowed: readonly Buffer[]): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const given = digest(match?.[1] ?? '');
  let ok = false;
  for (const token of allowed) ok = timingSafeEqual(given, token) || ok;
  return match !== null && ok;
}

function sendError(reply: FastifyReply, status: number, field: string | undefined, message: string): FastifyReply {
  const error = status === 401 ? 'unauthorized' : status === 404 ? 'not_found' : status === 413 ? 'too_large'
    : status === 503 ? 'unavailable' : status >= 500 ? 'internal' : 'invalid_request';
  return reply.code(status).send(field === undefined ? { error, message } : { error, field, message });
}

export function buildStateServer(props: StateServerProps): FastifyInstance {
  if (!props.writerToken || !props.readerToken) {
    throw new Error('StateServerProps: writerToken and readerToken must be non-empty (Secret swoop-state-tokens keys writer, reader)');
  }
  const { store } = props;
  const bodyLimit = props.bodyLimit ?? 1024 * 1024;
  // No log line per request (fastify writes two at info, costing more CPU than recording
  // the event); the error handler still logs failures and database outages.
  const app = Fastify({
    bodyLimit,
    // A path parameter may be as long as the longest name stored (a payload id, percent-encoded),
    // so every name a write accepts can be read back (fastify's default, 100, answered 414).
    routerOptions: { maxParamLength: MAX_PAYLOAD_ID_BYTES * 3 },
    logger: props.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
  });
  props.metrics?.instrument(app);
  // JSON only: a text/plain body would otherwise reach the handlers as a string.
  app.removeContentTypeParser('text/plain');
  // No response is to be sniffed into something else (an error echoing input as HTML).
  app.addHook('onRequest', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });
  const base = props.publicUrl?.replace(/\/+$/, '') ?? '';
  const writers = [digest(props.writerToken)];
  const readers = [digest(props.readerToken), digest(props.writerToken)];

  const requireToken = (allowed: readonly Buffer[], what: string) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      if (!bearerMatches(req.headers.authorization, allowed)) {
        reply.header('www-authenticate', 'Bearer');
        return sendError(reply, 401, 'authorization', `send "Authorization: Bearer <${what} token>"`);
      }
      return undefined;
    };
  const writer = requireToken(writers, 'writer');
  const reader = requireToken(readers, 'reader');
  if (props.callbackTasks) registerCallbackTaskRoutes(app, props.callbackTasks, writer);
  registerSubmitRoutes(app, props.submitter, writer);

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err instanceof InputError) return sendError(reply, err.status, err.field, err.message);
    if (err instanceof DbUnavailableError) {
      req.log.warn({ err: err.message }, 'database unavailable');
      reply.header('retry-after', '1');
      return sendError(reply, 503, undefined, 'the state database is unavailable; retry later');
    }
    switch (err.code) {
      case '40P01': // deadlock: PostgreSQL aborted this transaction, the other went through
      case '40001': // serialization failure
        reply.header('retry-after', '1');
        return sendError(reply, 503, undefined, 'the write collided with a concurrent one; retry');
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, 413, 'body', `the body is larger than ${bodyLimit} bytes`);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(reply, 415, 'content-type', 'send the body as Content-Type: application/json');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, 400, 'body', 'the body is empty; send a JSON object');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(reply, 400, 'body', `the body is not valid JSON: ${err.message}`);
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, err.statusCode, 'body', err.message);
    }
    req.log.error({ err }, 'request failed');
    return sendError(reply, 500, undefined, 'internal error');
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'path', `no route ${req.method} ${req.url.split('?')[0]}`));

  app.get('/healthz', async () => ({ status: 'ok' }));
  const schemaVersion = loadMigrations().length;
  app.get('/readyz', async (_req, reply) => {
    let problem: string | undefined;
    try {
      problem = await store.notReady(schemaVersion);
    } catch (err) {
      problem = err instanceof DbUnavailableError ? 'the state database is unreachable' : `the state database failed: ${(err as Error).message}`;
    }
    return problem === undefined ? { status: 'ready' } : sendError(reply, 503, undefined, problem);
  });

  // 202: the event is durably stored and applied moments later (state/journal.ts); every
  // read and claim catches up with it first.
  app.post('/events', { onRequest: writer }, async (req, reply) => {
    const result = await store.accept(parseEvent(req.body));
    return reply.code(202).send(result);
  });

  app.post('/claim', { onRequest: writer }, async (req) => store.claim(parseClaim(req.body)));

  app.get('/payloads/*', { onRequest: reader }, async (req) => {
    const id = pathName('payloadId', (req.params as { '*': string })['*']);
    const payload = id ? await store.payload(id) : undefined;
    if (!payload) throw new InputError(404, 'payloadId', `no payload "${id}" (give a cirrus payload id or its hash)`);
    return payload;
  });

  app.get('/runs', { onRequest: reader }, async (req) => {
    const q = req.query as Record<string, unknown>;
    return store.runs(parseRunFilter(q, RUN_FILTERS), parsePage(q));
  });

  app.get('/runs/:run', { onRequest: reader }, async (req) => {
    const run = pathName('run', (req.params as { run: string }).run);
    const found = await store.run(run);
    if (!found) throw new InputError(404, 'run', `no run "${run}"`);
    return found;
  });

  app.get('/journal', { onRequest: reader }, async () => store.journal());

  app.get('/counts', { onRequest: reader }, async (req) => ({
    counts: await store.counts(parseRunFilter(req.query as Record<string, unknown>, COUNT_FILTERS)),
  }));

  // OGC API - Processes, Part 1: landing page, conformance, processes, jobs (state/ogc.ts).
  registerOgcRoutes(app, { store, reader, base, processes: props.processes });
  registerDashboard(app, { store, tokens: [props.readerToken, props.writerToken], ...props.dashboard });

  return app;
}
