import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestDb, DATABASE_URL, HAVE_POSTGRES, lifecycle, payloadIdOf, POSTGRES_ONLY, startTestService, type TestDb, type TestService, WRITER } from './support';
import { TcpProxy } from './tcp-proxy';

/**
 * The service reaches PostgreSQL through a TCP proxy on loopback that the test cuts
 * twice while writers are streaming events. The service must answer 503 (never 2xx) for
 * what it could not store; the client retries those; at the end every acknowledged event
 * is in the database and every event was eventually acknowledged.
 */
const RUNS = 120;
const CLIENTS = 8;

describe.skipIf(!HAVE_POSTGRES)(`database outage mid-stream (PostgreSQL through a cut-able TCP proxy)${HAVE_POSTGRES ? '' : ` - ${POSTGRES_ONLY}`}`, () => {
  let t: TestDb;
  let proxy: TcpProxy;
  let s: TestService;
  beforeAll(async () => {
    t = await createTestDb();
    const target = new URL(DATABASE_URL!);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    const via = new URL(DATABASE_URL!);
    via.hostname = '127.0.0.1';
    via.port = String(await proxy.listen());
    s = await startTestService(await t.open({ url: via.toString(), maxConnections: CLIENTS, connectTimeoutMs: 1_000 }));
  });
  afterAll(async () => {
    await s?.close();
    await proxy?.close();
    await t?.drop();
  });

  it('every acknowledged event is stored; every refused one is retried and stored', async () => {
    type Item = { run: string; kind: 'claim' | 'running' | 'completed'; path: string; body: unknown; state: string };
    const queue: Item[][] = [];
    for (let i = 0; i < RUNS; i++) {
      const run = `fault-${i}`;
      const payloadId = payloadIdOf(i);
      const failed = i % 4 === 0;
      queue.push([
        { run, kind: 'claim', path: '/claim', body: { payloadId, workflow: 'cog-archive', run, input: 's3://in' }, state: 'QUEUED' },
        { run, kind: 'running', path: '/events', body: lifecycle({ type: 'running', run, phase: 'Running', payloadId }), state: 'RUNNING' },
        { run, kind: 'completed', path: '/events', body: lifecycle({ type: 'completed', run, phase: failed ? 'Failed' : 'Succeeded', payloadId, message: failed ? 'boom' : '' }), state: failed ? 'FAILED' : 'SUCCESSFUL' },
      ]);
    }
    const acked: Item[] = [];
    const refusals: number[] = [];
    let next = 0;
    const client = async () => {
      while (next < queue.length) {
        for (const item of queue[next++]!) {
          for (let attempt = 1; ; attempt++) {
            // The service itself stays up: only its database goes away, so every answer is an
            // acknowledgement (claim 200, event 202) or 503.
            const { status } = await call(s.url, 'POST', item.path, { token: WRITER, body: item.body });
            if (status === (item.kind === 'claim' ? 200 : 202)) {
              acked.push(item);
              break;
            }
            expect(status).toBe(503);
            refusals.push(status);
            if (attempt > 200) throw new Error(`${item.run} ${item.kind}: still refused after 200 attempts`);
            await new Promise((r) => setTimeout(r, Math.min(500, 20 * attempt)));
          }
        }
      }
    };
    const outages = (async () => {
      for (const threshold of [RUNS * 0.8, RUNS * 2]) {
        while (acked.length < threshold) await new Promise((r) => setTimeout(r, 5));
        proxy.cut();
        const ready = await call(s.url, 'GET', '/readyz');
        expect(ready.status).toBe(503);
        await new Promise((r) => setTimeout(r, 800));
        proxy.restore();
      }
    })();
    await Promise.all([...Array(CLIENTS)].map(client));
    await outages;

    expect(refusals.length).toBeGreaterThan(0); // the outage really hit the stream
    expect(acked.length).toBe(RUNS * 3);
    // An acknowledged event is in the journal or already applied, and the background
    // applier, backing off through the outages, drains the journal on its own.
    const pending = async () => (await s.store.journal()).pending;
    const deadline = Date.now() + 20_000;
    while ((await pending()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await pending()).toBe(0);
    const stored = new Set((await t.db.query<{ k: string }>(`SELECT run || '/' || state AS k FROM run_events`)).map((r) => r.k));
    const missing = acked.filter((a) => !stored.has(`${a.run}/${a.state}`));
    expect(missing).toEqual([]);
    const runs = await t.db.query<{ run: string; state: string; claim: string }>('SELECT run, state::text AS state, claim FROM runs ORDER BY run');
    expect(runs).toHaveLength(RUNS);
    expect(runs.every((r) => r.claim === 'claimed')).toBe(true);
    for (const r of runs) expect(r.state).toBe(Number(r.run.split('-')[1]) % 4 === 0 ? 'FAILED' : 'SUCCESSFUL');
    const [outbox] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    expect(outbox!.n).toBe(RUNS);
    expect((await call(s.url, 'GET', '/readyz')).status).toBe(200);
  });
});
