import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catchUp } from '../../state/journal';
import { backoffMs } from '../../state/leased-retry-loop';
import { CallbackTaskLoop } from '../../state/callback-task-loop';
import type { Db } from '../../state/db';
import { OutboxForwarder } from '../../state/outbox';
import { BACKEND, call, createTestDb, HAVE_POSTGRES, lifecycle, payloadIdOf, startTestService, type TestDb, until, webhookReceiver, WRITER } from './support';

describe(`outbox forwarder to a real HTTP receiver (${BACKEND})`, () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await createTestDb();
  });
  afterEach(async () => t.drop());

  const finish = async (url: string, i: number, phase: string, claim = true) => {
    const run = `fwd-${i}`;
    const payloadId = payloadIdOf(i);
    if (claim) await call(url, 'POST', '/claim', { token: WRITER, body: { payloadId, workflow: 'cog-archive', run, input: 's3://in' } });
    await call(url, 'POST', '/events', { token: WRITER, body: lifecycle({ type: 'running', run, phase: 'Running', payloadId }) });
    await call(url, 'POST', '/events', { token: WRITER, body: lifecycle({ type: 'completed', run, phase, payloadId, output: phase === 'Succeeded' ? 's3://out' : '', message: phase === 'Succeeded' ? '' : 'boom' }) });
    await call(url, 'POST', '/events', { token: WRITER, body: lifecycle({ type: 'completed', run, phase, payloadId }) });
  };

  it('sends one run.finished per finished claimed run, with the token, retrying with exponential backoff', async () => {
    const rx = await webhookReceiver(2);
    const forwarder = new OutboxForwarder({ db: t.db, url: rx.url, token: 'lifecycle-secret', pollIntervalMs: 20, retryBaseMs: 100, retryMaxMs: 1_000 });
    const s = await startTestService(t.db, { forwarder });
    forwarder.start();
    try {
      await finish(s.url, 1, 'Succeeded');
      await finish(s.url, 2, 'Failed');
      await finish(s.url, 3, 'Succeeded', false); // never claimed: no notification
      await until(() => rx.accepted.length >= 2);
      await new Promise((r) => setTimeout(r, 400)); // room for any wrong extra delivery
      expect(rx.accepted.map((r) => r.body.run).sort()).toEqual(['fwd-1', 'fwd-2']);
      expect(rx.refused.map((r) => r.body.run).sort()).toEqual(['fwd-1', 'fwd-1', 'fwd-2', 'fwd-2']);
      for (const r of [...rx.accepted, ...rx.refused]) {
        expect(r.auth).toBe('Bearer lifecycle-secret');
        expect(r.runHeader).toBe(r.body.run);
      }
      const one = rx.accepted.find((r) => r.body.run === 'fwd-1')!;
      expect(one.body).toEqual({
        event: 'run.finished', state: 'SUCCESSFUL', workflow: 'cog-archive', run: 'fwd-1', uid: 'uid-fwd-1',
        payloadId: payloadIdOf(1), parentRun: '', startedAt: '2024-05-01T12:00:00Z', finishedAt: '2024-05-01T12:30:00Z',
        error: '', input: 's3://in', output: 's3://out', next: [],
      });
      expect(rx.accepted.find((r) => r.body.run === 'fwd-2')!.body).toMatchObject({ state: 'FAILED', error: 'boom', output: '' });
      // backoff: the second retry waits about twice as long as the first
      const times = [...rx.refused, ...rx.accepted].filter((r) => r.body.run === 'fwd-1').map((r) => r.at).sort((a, b) => a - b);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(90);
      expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(190);
      const rows = await t.db.query<{ run: string; attempts: number; delivered: boolean; last_error: string | null }>(
        'SELECT run, attempts, delivered_at IS NOT NULL AS delivered, last_error FROM outbox ORDER BY run');
      expect(rows).toEqual([
        { run: 'fwd-1', attempts: 3, delivered: true, last_error: null },
        { run: 'fwd-2', attempts: 3, delivered: true, last_error: null },
      ]);
    } finally {
      await forwarder.stop();
      await s.close();
      await rx.close();
    }
  });

  it('carries `next`: the rest of the process array of an inline payload or reference', async () => {
    const s = await startTestService(t.db);
    try {
      const inline = JSON.stringify({ type: 'FeatureCollection', features: [{ id: 'i', collection: 'c' }],
        process: [{ workflow: 'cog-archive' }, { workflow: 'publish', chain_filter: '@.id' }, [{ workflow: 'a' }, { workflow: 'b' }]] });
      const reference = JSON.stringify({ url: 's3://b/p.json', process: [{ workflow: 'cog-archive' }, { workflow: 'publish' }] });
      const inputs = [inline, reference, 's3://b/plain.json', '{"process": {"workflow": "cog-archive"}}'];
      for (const [i, input] of inputs.entries()) {
        const run = `next-${i}`;
        await call(s.url, 'POST', '/claim', { token: WRITER, body: { workflow: 'cog-archive', run, input } });
        await call(s.url, 'POST', '/events', { token: WRITER, body: { ...lifecycle({ type: 'completed', run, phase: 'Succeeded' }), input } });
      }
      await catchUp(t.db);
      const rows = await t.db.query<{ run: string; next: unknown }>(`SELECT run, body->'next' AS next FROM outbox ORDER BY run`);
      expect(rows).toEqual([
        { run: 'next-0', next: [{ workflow: 'publish', chain_filter: '@.id' }, [{ workflow: 'a' }, { workflow: 'b' }]] },
        { run: 'next-1', next: [{ workflow: 'publish' }] },
        { run: 'next-2', next: [] },
        { run: 'next-3', next: [] },
      ]);
    } finally {
      await s.close();
    }
  });

  it('keeps retrying while the receiver is down and delivers when it is back', async () => {
    const forwarder = new OutboxForwarder({ db: t.db, url: 'http://127.0.0.1:9/unreachable', pollIntervalMs: 10, retryBaseMs: 10, retryMaxMs: 40 });
    const s = await startTestService(t.db);
    await finish(s.url, 7, 'Succeeded');
    await catchUp(t.db); // the run's outbox row exists once its events are applied
    await forwarder.deliverDue();
    await new Promise((r) => setTimeout(r, 20));
    await forwarder.deliverDue();
    const [row] = await t.db.query<{ attempts: number; last_error: string; delivered: boolean }>(
      'SELECT attempts, last_error, delivered_at IS NOT NULL AS delivered FROM outbox');
    expect(row).toMatchObject({ attempts: 2, delivered: false, last_error: expect.stringMatching(/fetch failed|ECONNREFUSED/) });
    const rx = await webhookReceiver(0);
    const back = new OutboxForwarder({ db: t.db, url: rx.url, pollIntervalMs: 10, retryBaseMs: 10 });
    back.start();
    try {
      await until(() => rx.accepted.length === 1);
      expect(rx.accepted[0]!.body.run).toBe('fwd-7');
    } finally {
      await back.stop();
      await s.close();
      await rx.close();
    }
  });

  it('two replicas forwarding from one database deliver each event exactly once', async () => {
    const rx = await webhookReceiver(0);
    const second = HAVE_POSTGRES ? await t.open() : t.db; // PGlite: one database, two forwarders on it
    const a = new OutboxForwarder({ db: t.db, url: rx.url, pollIntervalMs: 5, batchSize: 3 });
    const b = new OutboxForwarder({ db: second, url: rx.url, pollIntervalMs: 5, batchSize: 3 });
    const s = await startTestService(t.db);
    a.start();
    b.start();
    try {
      await Promise.all([...Array(40).keys()].map((i) => finish(s.url, 100 + i, i % 3 ? 'Succeeded' : 'Error')));
      await until(() => rx.accepted.length >= 40);
      await new Promise((r) => setTimeout(r, 300));
      const runs = rx.accepted.map((r) => r.body.run);
      expect(runs.length).toBe(40);
      expect(new Set(runs).size).toBe(40);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await s.close();
      await rx.close();
    }
  });

});

describe('retry delay', () => {
  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 9, 10, 20].map((n) => backoffMs(n, 1_000, 300_000))).toEqual([1_000, 2_000, 4_000, 8_000, 256_000, 300_000, 300_000]);
  });

  // The loops share their defaults (state/leased-retry-loop.ts) but not their cap: a webhook
  // outage may last, an Argo Server answer should land within minutes.
  it('starts at 1 s and caps at 5 min for notifications, 1 min for callback answers, unless set', () => {
    const db = {} as Db;
    const delays = (loop: { retryDelayMs(n: number): number }) => [1, 2, 20].map((n) => loop.retryDelayMs(n));
    expect(delays(new OutboxForwarder({ db, url: 'http://127.0.0.1:1/' }))).toEqual([1_000, 2_000, 300_000]);
    expect(delays(new CallbackTaskLoop({ db, argo: {} as never }))).toEqual([1_000, 2_000, 60_000]);
    expect(delays(new OutboxForwarder({ db, url: 'http://127.0.0.1:1/', retryBaseMs: 10, retryMaxMs: 15 }))).toEqual([10, 15, 15]);
    expect(delays(new CallbackTaskLoop({ db, argo: {} as never, retryBaseMs: 10, retryMaxMs: 15 }))).toEqual([10, 15, 15]);
  });
});
