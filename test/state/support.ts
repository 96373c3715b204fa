/**
 * Test databases and services for the state tests. PGlite (in memory) by default; with
 * DATABASE_URL the real PostgreSQL, in a fresh random schema per suite that is dropped
 * afterwards, so concurrent test runs on one server never see each other.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenAlb, listenSso } from '../../state/dashboard/sso-listener';
import type { DashboardOptions } from '../../state/dashboard';
import { type Db, openDb, quoteIdent } from '../../state/db';
import { migrate } from '../../state/migrate';
import { JournalApplier } from '../../state/journal';
import type { OutboxForwarder } from '../../state/outbox';
import { buildStateServer } from '../../state/server';
import { StateStore } from '../../state/store';

export const DATABASE_URL = process.env.DATABASE_URL || undefined;
export const HAVE_POSTGRES = DATABASE_URL !== undefined;
export const BACKEND = HAVE_POSTGRES ? 'postgres' : 'pglite';
export const POSTGRES_ONLY = 'needs a real PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test); skipped on PGlite';

/** DATABASE_URL as another user (with its password, on another database), e.g. the service's own role. */
export function databaseUrlAs(user: string, options: { password?: string; database?: string } = {}): string {
  if (!DATABASE_URL) throw new Error('a URL for another user needs DATABASE_URL');
  const url = new URL(DATABASE_URL);
  url.username = user;
  url.password = options.password ?? '';
  if (options.database) url.pathname = `/${options.database}`;
  return url.toString();
}

export const WRITER = 'writer-token-for-tests';
export const READER = 'reader-token-for-tests';

export interface TestDb {
  readonly db: Db;
  readonly schema: string;
  /** Another pool on the same schema (PostgreSQL only), e.g. a second replica. */
  open(options?: { maxConnections?: number; url?: string; connectTimeoutMs?: number }): Promise<Db>;
  drop(): Promise<void>;
}

export async function createTestDb(options: { maxConnections?: number; migrate?: boolean } = {}): Promise<TestDb> {
  const schema = `swoop_test_${randomBytes(6).toString('hex')}`;
  const extra: Db[] = [];
  const db = await openDb({ url: DATABASE_URL, schema, maxConnections: options.maxConnections });
  if (options.migrate !== false) await migrate(db);
  return {
    db,
    schema,
    async open(o = {}) {
      if (!DATABASE_URL) throw new Error('a second connection pool needs DATABASE_URL');
      const another = await openDb({ url: o.url ?? DATABASE_URL, schema, maxConnections: o.maxConnections, connectTimeoutMs: o.connectTimeoutMs });
      extra.push(another);
      return another;
    },
    async drop() {
      await Promise.all(extra.map((d) => d.close().catch(() => undefined)));
      if (db.kind === 'postgres') await db.exec(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
      await db.close();
    },
  };
}

export interface TestService {
  readonly url: string;
  /** the SSO listener (state/dashboard/sso-listener.ts), when options.dashboard names an SSO header */
  readonly ssoUrl?: string;
  /** the ALB listener, when options.dashboard has albOidc */
  readonly albUrl?: string;
  readonly store: StateStore;
  close(): Promise<void>;
}

/** The real HTTP service on a loopback port, with its journal applier, as service.ts wires them. */
export async function startTestService(db: Db, options: { forwarder?: OutboxForwarder; bodyLimit?: number; dashboard?: DashboardOptions; rollUpIntervalMs?: number } = {}): Promise<TestService> {
  const applier = new JournalApplier({ db, onApplied: () => options.forwarder?.nudge(), rollUpIntervalMs: options.rollUpIntervalMs });
  const store = new StateStore(db, { onAccepted: (n) => applier.nudge(n) });
  const app = buildStateServer({ store, writerToken: WRITER, readerToken: READER, bodyLimit: options.bodyLimit, dashboard: options.dashboard });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const sso = options.dashboard?.ssoHeader ? await listenSso(app, '127.0.0.1', 0) : undefined;
  const alb = options.dashboard?.albOidc ? await listenAlb(app, '127.0.0.1', 0) : undefined;
  applier.start();
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ssoUrl: sso?.url,
    albUrl: alb?.url,
    store,
    close: async () => {
      await sso?.close();
      await alb?.close();
      await app.close();
      await applier.stop();
    },
  };
}

/**
 * Registers the hooks most state suites repeat: a fresh test database and a service on it,
 * for the whole suite, or for each test with `each`; closed and dropped afterwards. Read
 * them from the handle inside hooks and tests (`env.s.url`, `env.t.db`).
 */
export function useTestService(options: { each?: boolean; maxConnections?: number } = {}): { readonly t: TestDb; readonly s: TestService } {
  let t: TestDb | undefined;
  let s: TestService | undefined;
  (options.each ? beforeEach : beforeAll)(async () => {
    t = await createTestDb({ maxConnections: options.maxConnections });
    s = await startTestService(t.db);
  });
  (options.each ? afterEach : afterAll)(async () => {
    await s?.close();
    await t?.drop();
    s = undefined;
    t = undefined;
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useTestService: the database and service exist only inside hooks and tests');
    return value;
  };
  return {
    get t() {
      return ready(t);
    },
    get s() {
      return ready(s);
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly body: any;
}

export async function call(base: string, method: string, path: string, options: { token?: string; body?: unknown; raw?: string; contentType?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text so the assertion shows it
  }
  return { status: res.status, body };
}

/**
 * `call` as the service's real callers behave (Argo's retryStrategy, the sensors' retries):
 * a 503 (database briefly unavailable, a collision PostgreSQL aborted) is retried with
 * backoff; anything else is the answer.
 */
export async function callRetrying(base: string, method: string, path: string, options: Parameters<typeof call>[3] = {}, attempts = 8): Promise<Answer> {
  for (let i = 1; ; i++) {
    const answer = await call(base, method, path, options);
    if (answer.status !== 503 || i >= attempts) return answer;
    await new Promise((r) => setTimeout(r, 20 * 2 ** i));
  }
}

export { prng } from '../support/prng';

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A contract lifecycle event body with every field present. */
export function lifecycle(fields: {
  type: 'running' | 'completed';
  run: string;
  phase: string;
  payloadId?: string;
  workflow?: string;
  message?: string;
  output?: string;
  failures?: string;
}): Record<string, string> {
  return {
    type: fields.type,
    workflow: fields.workflow ?? 'cog-archive',
    run: fields.run,
    uid: `uid-${fields.run}`,
    payloadId: fields.payloadId ?? '',
    parentRun: '',
    phase: fields.phase,
    startedAt: '2024-05-01T12:00:00Z',
    finishedAt: fields.type === 'completed' ? '2024-05-01T12:30:00Z' : '',
    message: fields.message ?? '',
    failures: fields.failures ?? '',
    input: `s3://bucket/payloads/${fields.run}/input.json`,
    output: fields.output ?? '',
  };
}

export function payloadIdOf(i: number, workflow = 'cog-archive'): string {
  return `sentinel-2-l2a/workflow-${workflow}/S2B_17HQD_2020110${i % 10}_${i}_L2A`;
}

export interface Received {
  readonly auth: string | undefined;
  readonly runHeader: string | undefined;
  readonly body: Record<string, string>;
  readonly at: number;
}

/** A real webhook receiver on loopback that fails the first `failFirst` deliveries of each run. */
export async function webhookReceiver(failFirst = 0): Promise<{ url: string; accepted: Received[]; refused: Received[]; close(): Promise<void> }> {
  const accepted: Received[] = [];
  const refused: Received[] = [];
  const seen = new Map<string, number>();
  const read = async (req: IncomingMessage) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    return JSON.parse(text) as Record<string, string>;
  };
  const server: Server = createServer((req, res) => {
    void read(req).then((body) => {
      const r = { auth: req.headers.authorization, runHeader: req.headers['x-swoop-run'] as string, body, at: Date.now() };
      const n = (seen.get(body.run!) ?? 0) + 1;
      seen.set(body.run!, n);
      if (n <= failFirst) {
        refused.push(r);
        res.writeHead(503).end('busy');
      } else {
        accepted.push(r);
        res.writeHead(200).end('{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/lifecycle`, accepted, refused, close: () => new Promise((r) => server.close(() => r())) };
}

/** Polls `condition` every 25 ms until it holds; fails after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
