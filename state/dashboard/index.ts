/**
 * The operator's dashboard (docs/dashboard.md), served by the state service under
 * /dashboard: server-rendered HTML, no script. Overview (counts by workflow and state over a
 * window, per hour, recent failures), search, and a payload's timeline. Readers get in with
 * the reader token (a sign-in form sets a session cookie), the SSO proxy's header, or the
 * ALB's signed OIDC header on the ALB listener.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DbUnavailableError } from '../db';
import type { StateStore } from '../store';
import { InputError, storableText } from '../validate';
import type { DashboardOptions } from './options';
import { AlbOidcVerifier, ALB_OIDC_HEADER } from './alb-oidc';
import { DashboardAuth, isAlbRequest, SESSION_COOKIE, sessionValue, setAlbUser, type Viewer } from './auth';
import type { Html } from './html';
import { BASE, page, payloadHref, runAnchor } from './layout';
import { DEFAULT_WINDOW, overviewBody, WINDOWS } from './overview-view';
import { payloadBody } from './payload-view';
import { DashboardQueries } from './queries';
import { errorBody, loginBody, searchBody } from './search-view';
import { STYLE } from './style';

export type { DashboardOptions } from './options';

export interface DashboardProps extends DashboardOptions {
  readonly store: StateStore;
  /** tokens that may read: the reader's and the writer's */
  readonly tokens: readonly string[];
  /** the clock (tests); default: Date.now */
  readonly now?: () => number;
}

const FAILURES_SHOWN = 25;
const MAX_PARAM = 8192;
// No script, no inline style, nothing from elsewhere; forms post only here; never framed.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** One value of a query parameter, storable text, at most 8 KiB; anything not in `known` is refused. */
function params(q: Record<string, unknown>, known: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, v] of Object.entries(q)) {
    if (!known.includes(key)) throw new InputError(400, key, `unknown query parameter "${key}"; expected ${known.join(', ') || 'none'}`);
    if (typeof v !== 'string') throw new InputError(400, key, `${key} may be given once`);
    if (v.length > MAX_PARAM) throw new InputError(400, key, `${key} is longer than ${MAX_PARAM} characters`);
    out[key] = storableText(key, v);
  }
  return out;
}

/** Where to go after signing in: a dashboard path only (no open redirect). */
function safeNext(next: string | undefined): string {
  return next && next.startsWith(`${BASE}`) && !next.startsWith('//') && !/[\\\r\n]/.test(next) ? next : BASE;
}

export function registerDashboard(app: FastifyInstance, props: DashboardProps): void {
  const auth = new DashboardAuth(props.tokens, props.ssoHeader?.toLowerCase());
  const queries = new DashboardQueries(props.store.db, props.store);
  const now = props.now ?? Date.now;
  const argoUrl = props.argoWorkflowUrl;
  const alb = props.albOidc ? new AlbOidcVerifier(props.albOidc, now) : undefined;

  void app.register(async (d) => {
    d.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
    d.addHook('onSend', async (_req, reply) => {
      reply.header('content-security-policy', CSP);
      reply.header('referrer-policy', 'no-referrer');
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    });
    const send = (reply: FastifyReply, status: number, body: Html, title: string, viewer?: Viewer, q?: string) =>
      reply.code(status).type('text/html; charset=utf-8').send(page(title, viewer, body, q).text);
    d.setErrorHandler((err: Error, req, reply) => {
      if (err instanceof InputError) return send(reply, err.status, errorBody(err.status, err.message), 'Error', auth.viewer(req));
      if (err instanceof DbUnavailableError) {
        reply.header('retry-after', '1');
        return send(reply, 503, errorBody(503, 'The state database is unavailable; reload in a moment.'), 'Unavailable', auth.viewer(req));
      }
      req.log.error({ err }, 'dashboard request failed');
      return send(reply, 500, errorBody(500, 'Internal error; the service log has the details.'), 'Error');
    });

    /** The viewer, or a sign-in page (401) when the request carries no credential. */
    const viewerOr401 = (req: FastifyRequest, reply: FastifyReply): Viewer | undefined => {
      const viewer = auth.viewer(req);
      if (!viewer) void send(reply, 401, loginBody(req.url, false), 'Sign in');
      return viewer;
    };

    // On the ALB listener every page but the stylesheet needs the ALB's verified header: a
    // request without it is refused (401), and so is every request when the key cannot be
    // fetched (503): the header is never believed unchecked.
    d.addHook('onRequest', async (req, reply) => {
      if (!isAlbRequest(req.raw) || req.url.split('?')[0] === `${BASE}/style.css`) return;
      const result = alb ? await alb.verify(req.headers[ALB_OIDC_HEADER]) : { ok: false as const, status: 401 as const, reason: 'this port believes no load balancer' };
      if (result.ok) {
        setAlbUser(req.raw, result.user);
        return;
      }
      if (result.status === 503) reply.header('retry-after', '5');
      else req.log.warn({ reason: result.reason }, 'dashboard: ALB sign-in refused');
      return send(reply, result.status, errorBody(result.status, result.reason), result.status === 503 ? 'Unavailable' : 'Not signed in');
    });

    d.get(`${BASE}/style.css`, async (_req, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(STYLE));

    d.get(`${BASE}/login`, async (req, reply) => {
      const { next } = params(req.query as Record<string, unknown>, ['next']);
      return send(reply, 200, loginBody(safeNext(next), false), 'Sign in');
    });

    d.post(`${BASE}/login`, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, string>;
      const next = safeNext(body.next);
      if (typeof body.token !== 'string' || !auth.acceptsToken(body.token)) return send(reply, 401, loginBody(next, true), 'Sign in');
      const secure = req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
      reply.header('set-cookie', `${SESSION_COOKIE}=${sessionValue(body.token)}; Path=${BASE}; HttpOnly; SameSite=Strict${secure}`);
      return reply.redirect(next, 303);
    });

    d.post(`${BASE}/logout`, async (_req, reply) => {
      reply.header('set-cookie', `${SESSION_COOKIE}=; Path=${BASE}; HttpOnly; SameSite=Strict; Max-Age=0`);
      return reply.redirect(`${BASE}/login`, 303);
    });

    d.get(BASE, async (req, reply) => {
      const viewer = viewerOr401(req, reply);
      if (!viewer) return reply;
      const q = params(req.query as Record<string, unknown>, ['window', 'workflow']);
      const window = q.window || DEFAULT_WINDOW;
      if (!WINDOWS[window]) throw new InputError(400, 'window', `window must be one of ${Object.keys(WINDOWS).join(', ')} (got "${window}")`);
      const workflow = q.workflow || undefined;
      const hours = WINDOWS[window]!.hours;
      // The window is whole hours ending with the current one, so every bar covers an hour.
      const since = new Date(Math.floor(now() / 3_600_000) * 3_600_000 - (hours - 1) * 3_600_000);
      // Three independent reads, each on its own connection: the page waits for the slowest.
      const [cells, failures, workflows] = await Promise.all([queries.overview(since.toISOString(), workflow),
        queries.failures(since.toISOString(), workflow, FAILURES_SHOWN), queries.workflows()]);
      const body = overviewBody({ window, workflow, workflows, since, hours, cells, failures, argoUrl });
      return send(reply, 200, body, 'Overview', viewer);
    });

    d.get(`${BASE}/search`, async (req, reply) => {
      const viewer = viewerOr401(req, reply);
      if (!viewer) return reply;
      const q = (params(req.query as Record<string, unknown>, ['q']).q ?? '').trim();
      const hits = q === '' ? [] : await queries.search(q);
      // A payload id, hash or run name finds one payload: show it.
      const ids = new Set(hits.map((h) => h.payloadId));
      if (ids.size === 1 && hits.every((h) => h.match === 'payload' || h.match === 'run')) {
        const run = hits.find((h) => h.match === 'run') ? q : undefined;
        return reply.redirect(`${payloadHref(hits[0]!.payloadId)}${run ? `#${runAnchor(run)}` : ''}`, 303);
      }
      return send(reply, 200, searchBody(q, hits), q ? `Search ${q}` : 'Search', viewer, q);
    });

    d.get(`${BASE}/payload`, async (req, reply) => {
      const viewer = viewerOr401(req, reply);
      if (!viewer) return reply;
      const { id } = params(req.query as Record<string, unknown>, ['id']);
      if (!id) throw new InputError(400, 'id', 'give the payload id: /dashboard/payload?id=<payload id or its hash>');
      const timeline = await queries.timeline(id);
      if (!timeline) throw new InputError(404, 'id', `no payload "${id}" (search finds payloads by item id or collection)`);
      return send(reply, 200, payloadBody(timeline, argoUrl), `Payload ${timeline.payload.payloadId}`, viewer);
    });

    // Links that name a run (chain parents, failures): its payload's page at the run's row.
    d.get(`${BASE}/run`, async (req, reply) => {
      const viewer = viewerOr401(req, reply);
      if (!viewer) return reply;
      const { name } = params(req.query as Record<string, unknown>, ['name']);
      if (!name) throw new InputError(400, 'name', 'give the run name: /dashboard/run?name=<Argo workflow name>');
      const payloadId = await queries.payloadOfRun(name);
      if (payloadId === undefined) throw new InputError(404, 'name', `no run "${name}"`);
      if (payloadId === null) throw new InputError(404, 'name', `run "${name}" has no payload (an ingress report whose payload id could not be read); GET /runs/${name} has its record`);
      return reply.redirect(`${payloadHref(payloadId)}#${runAnchor(name)}`, 303);
    });
  });
}
