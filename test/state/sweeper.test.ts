/**
 * Runs that never report their end (terminated: Argo skips the exit handler; lost: deleted
 * workflow, controller or cluster failure) are ended TIMED_OUT by the sweeper, through the
 * normal recording path. The clock is passed in, never slept on.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../state/config';
import type { Db } from '../../state/db';
import { catchUp } from '../../state/journal';
import { startStateService } from '../../state/service';
import { StuckRunSweeper } from '../../state/sweeper';
import {
  BACKEND, call, callRetrying, createTestDb, DATABASE_URL, HAVE_POSTGRES, lifecycle, payloadIdOf, READER,
  useTestService, WRITER,
} from './support';

const STARTED = Date.parse('2024-05-01T12:00:00Z'); // startedAt of support's lifecycle()
const MIN = 60_000;
const at = (ms: number) => new Date(STARTED + ms);

describe(`stuck-run sweeper (${BACKEND})`, () => {
  const env = useTestService({ each: true });

  const post = (body: unknown) => callRetrying(env.s.url, 'POST', '/events', { token: WRITER, body });
  const claim = (i: number, run: string) =>
    callRetrying(env.s.url, 'POST', '/claim', { token: WRITER, body: { payloadId: payloadIdOf(i), workflow: 'cog-archive', run, input: `s3://b/${run}.json` } });
  /** A claimed run that reported running with the given deadline (none: no deadline sent). */
  const running = async (i: number, run: string, deadlineSeconds?: number) => {
    expect((await claim(i, run)).body).toMatchObject({ claimed: true });
    const body = { ...lifecycle({ type: 'running', run, phase: 'Running', payloadId: payloadIdOf(i) }), ...(deadlineSeconds ? { deadlineSeconds } : {}) };
    expect((await post(body)).status).toBe(202);
  };
  // Direct reads catch up with the journal first, as the service's reads do.
  const row = async (run: string) => (await catchUp(env.t.db), await env.t.db.query<{ state: string; error: string | null; deadline: string | null; finished: string | null; output: string | null }>(
    `SELECT state::text AS state, error, output, swoop_rfc3339(finished_at) AS finished,
            CASE WHEN deadline_at IS NULL THEN NULL ELSE swoop_rfc3339(deadline_at) END AS deadline
     FROM runs WHERE run = $1`, [run]))[0]!;
  const history = async (run: string) => (await catchUp(env.t.db), env.t.db.query<{ state: string; source: string; applied: boolean }>(
    'SELECT state::text AS state, source, applied FROM run_events WHERE run = $1 ORDER BY recorded_at, state', [run]));
  const outbox = async (run: string) => (await catchUp(env.t.db), env.t.db.query<{ body: Record<string, unknown> }>('SELECT body FROM outbox WHERE run = $1', [run]));

  it('stores the deadline from the running event (startedAt + deadlineSeconds), once', async () => {
    await running(1, 'dl', 3600);
    expect((await row('dl')).deadline).toBe('2024-05-01T13:00:00Z');
    // A re-delivered running event with another deadline does not move it.
    await post({ ...lifecycle({ type: 'running', run: 'dl', phase: 'Running', payloadId: payloadIdOf(1) }), deadlineSeconds: 60 });
    expect((await row('dl')).deadline).toBe('2024-05-01T13:00:00Z');
    expect((await call(env.s.url, 'GET', '/runs/dl', { token: READER })).body).toMatchObject({ state: 'RUNNING', deadlineAt: '2024-05-01T13:00:00.000000Z' });
    await running(2, 'none');
    expect((await row('none')).deadline).toBeNull();
  });

  it('ends runs past deadline + grace once, with one history row and one outbox row; leaves the others alone', async () => {
    await running(1, 'past', 3600); // due at 13:10
    await running(2, 'in-grace', 3960); // deadline 13:06, due at 13:16
    await running(3, 'finished', 600);
    await post(lifecycle({ type: 'completed', run: 'finished', phase: 'Succeeded', payloadId: payloadIdOf(3), output: 's3://b/out.json' }));
    // Events without a claim or payload id (a chained run before its claim): ended, but it notifies nothing.
    await post({ ...lifecycle({ type: 'running', run: 'unclaimed', phase: 'Running' }), deadlineSeconds: 60 });
    const sweeper = new StuckRunSweeper({ db: env.t.db });
    const finishedBefore = await history('finished');

    const now = at(71 * MIN);
    const ended = await sweeper.sweep(now);
    expect(ended.map((r) => r.run).sort()).toEqual(['past', 'unclaimed']);
    expect(ended.find((r) => r.run === 'past')).toMatchObject({ payloadId: payloadIdOf(1) });

    const past = await row('past');
    expect(past).toMatchObject({ state: 'TIMED_OUT', finished: now.toISOString().replace('.000', ''), output: null });
    expect(past.error).toMatch(/^no completion was reported by the deadline 2024-05-01T13:00:00Z \(plus 00:10:00 grace\): the workflow was terminated or lost/);
    expect(await history('past')).toEqual([
      { state: 'QUEUED', source: 'claim', applied: true },
      { state: 'RUNNING', source: 'running', applied: true },
      { state: 'TIMED_OUT', source: 'sweeper', applied: true },
    ]);
    const [sent, ...more] = await outbox('past');
    expect(more).toEqual([]);
    expect(sent!.body).toMatchObject({ event: 'run.finished', state: 'TIMED_OUT', run: 'past', payloadId: payloadIdOf(1), error: past.error, output: '' });

    expect(await row('in-grace')).toMatchObject({ state: 'RUNNING', finished: '' });
    expect(await row('finished')).toMatchObject({ state: 'SUCCESSFUL', output: 's3://b/out.json' });
    expect(await history('finished')).toEqual(finishedBefore);
    expect((await row('unclaimed')).state).toBe('TIMED_OUT');
    expect(await outbox('unclaimed')).toEqual([]);
    expect(await outbox('in-grace')).toEqual([]);

    // Idempotent: the same sweep again ends nothing and adds nothing.
    expect(await sweeper.sweep(now)).toEqual([]);
    expect(await history('past')).toHaveLength(3);
    expect(await outbox('past')).toHaveLength(1);

    // The grace is the sweeper's to choose: with none, the run in grace is due too.
    expect((await new StuckRunSweeper({ db: env.t.db, graceMs: 0 }).sweep(now)).map((r) => r.run)).toEqual(['in-grace']);
  });

  it('a completion arriving after the sweep changes nothing: it is kept in the history as not applied', async () => {
    await running(1, 'late', 600);
    await new StuckRunSweeper({ db: env.t.db }).sweep(at(21 * MIN));
    const before = await row('late');
    const answer = await post(lifecycle({ type: 'completed', run: 'late', phase: 'Succeeded', payloadId: payloadIdOf(1), output: 's3://b/out.json' }));
    // Accepted, so the exit handler's retry stops; the first final state stays the outcome.
    expect(answer).toEqual({ status: 202, body: { accepted: true, run: 'late' } });
    expect(await row('late')).toEqual(before);
    expect((await history('late')).map((h) => [h.state, h.source, h.applied])).toEqual([
      ['QUEUED', 'claim', true], ['RUNNING', 'running', true], ['TIMED_OUT', 'sweeper', true], ['SUCCESSFUL', 'completed', false],
    ]);
    expect((await outbox('late')).map((o) => o.body.state)).toEqual(['TIMED_OUT']);
    // The payload is no longer active: a new run may claim it without `replace`.
    expect((await claim(1, 'late-retry')).body).toMatchObject({ claimed: true, reason: 'retry after run late TIMED_OUT' });
  });

  it('ends runs without a deadline that stayed silent for the maximum age, and not before', async () => {
    await running(1, 'silent'); // RUNNING, no deadline
    expect((await claim(2, 'queued-only')).body).toMatchObject({ claimed: true }); // QUEUED: its running event never came
    const sweeper = new StuckRunSweeper({ db: env.t.db, maxSilenceMs: 24 * 60 * MIN });
    const realNow = Date.now();
    expect(await sweeper.sweep(new Date(realNow + 23 * 60 * MIN))).toEqual([]);
    const ended = await sweeper.sweep(new Date(realNow + 25 * 60 * MIN));
    expect(ended.map((r) => r.run).sort()).toEqual(['queued-only', 'silent']);
    expect((await row('silent')).error).toMatch(/^no completion was reported and the run has no deadline; nothing was heard from it for 24:00:00 since .*: the workflow was terminated or lost/);
    expect((await outbox('queued-only')).map((o) => o.body.state)).toEqual(['TIMED_OUT']);
  });

  it('works in rounds: more stuck runs than one batch are all ended', async () => {
    for (let i = 0; i < 7; i++) await running(i, `many-${i}`, 60);
    const ended = await new StuckRunSweeper({ db: env.t.db, batchSize: 3 }).sweep(at(60 * MIN));
    expect(ended.map((r) => r.run).sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `many-${i}`));
  });

  it('refuses nonsense settings, naming them', () => {
    expect(() => new StuckRunSweeper({ db: env.t.db, intervalMs: 0 })).toThrow(/intervalMs must be a positive integer/);
    expect(() => new StuckRunSweeper({ db: env.t.db, graceMs: -1 })).toThrow(/graceMs must be a non-negative integer/);
  });
});

describe(`concurrent sweepers and writers (${BACKEND})`, () => {
  const env = useTestService({ each: true, maxConnections: 4 });
  let second: Db;
  beforeEach(async () => {
    // On PostgreSQL a second pool on the same schema plays the second replica.
    second = HAVE_POSTGRES ? await env.t.open({ maxConnections: 4 }) : env.t.db;
  });

  it('two sweepers and late completions racing end every run exactly once', async () => {
    const N = 40;
    for (let i = 0; i < N; i++) {
      await callRetrying(env.s.url, 'POST', '/claim', { token: WRITER, body: { payloadId: payloadIdOf(i), workflow: 'cog-archive', run: `race-${i}`, input: 's3://b/in.json' } });
      await callRetrying(env.s.url, 'POST', '/events', { token: WRITER, body: { ...lifecycle({ type: 'running', run: `race-${i}`, phase: 'Running', payloadId: payloadIdOf(i) }), deadlineSeconds: 60 } });
    }
    const now = at(30 * MIN);
    const a = new StuckRunSweeper({ db: env.t.db, batchSize: 5 });
    const b = new StuckRunSweeper({ db: second, batchSize: 5 });
    // Every third run's real completion arrives while the sweepers work.
    const late = Array.from({ length: N }, (_, i) => i).filter((i) => i % 3 === 0);
    const results = await Promise.all([
      a.sweep(now), b.sweep(now), a.sweep(now), b.sweep(now),
      ...late.map((i) => callRetrying(env.s.url, 'POST', '/events', { token: WRITER, body: lifecycle({ type: 'completed', run: `race-${i}`, phase: 'Failed', payloadId: payloadIdOf(i), message: 'boom' }) })),
    ]);
    const sweeps = results.slice(0, 4) as Awaited<ReturnType<StuckRunSweeper['sweep']>>[];
    // Runs skipped as busy are taken by the next sweep.
    const after = await a.sweep(now);
    const endedBySweep = [...sweeps.flat(), ...after].map((r) => r.run);
    expect(new Set(endedBySweep).size).toBe(endedBySweep.length);

    await catchUp(env.t.db);
    const rows = await env.t.db.query<{ run: string; state: string; finals: number; applied: number; outbox: number }>(
      `SELECT r.run, r.state::text AS state,
              (SELECT count(*)::int FROM run_events e WHERE e.run = r.run AND e.state IN ('FAILED', 'TIMED_OUT')) AS finals,
              (SELECT count(*)::int FROM run_events e WHERE e.run = r.run AND e.state IN ('FAILED', 'TIMED_OUT') AND e.applied) AS applied,
              (SELECT count(*)::int FROM outbox o WHERE o.run = r.run) AS outbox
       FROM runs r ORDER BY r.run`);
    expect(rows).toHaveLength(N);
    for (const r of rows) {
      expect(r).toMatchObject({ applied: 1, outbox: 1 });
      expect(['FAILED', 'TIMED_OUT']).toContain(r.state);
      // A run the sweeper ended is TIMED_OUT; one the completion reached first is FAILED.
      expect(endedBySweep.includes(r.run)).toBe(r.state === 'TIMED_OUT');
    }
    const bySweep = rows.filter((r) => r.state === 'TIMED_OUT').length;
    expect(bySweep).toBeGreaterThanOrEqual(N - late.length);
    const [states] = await env.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE body->>'state' = 'TIMED_OUT'");
    expect(states!.n).toBe(bySweep);
  });

  it.skipIf(!HAVE_POSTGRES)('a sweeper never waits on a run a writer holds: it skips it, and a later sweep ends it', async () => {
    await callRetrying(env.s.url, 'POST', '/claim', { token: WRITER, body: { payloadId: payloadIdOf(1), workflow: 'cog-archive', run: 'held', input: 's3://b/in.json' } });
    await callRetrying(env.s.url, 'POST', '/events', { token: WRITER, body: { ...lifecycle({ type: 'running', run: 'held', phase: 'Running', payloadId: payloadIdOf(1) }), deadlineSeconds: 60 } });
    await catchUp(env.t.db); // the running event is applied before the holder takes its lock
    const holder = await env.t.open({ maxConnections: 1 });
    const sweeper = new StuckRunSweeper({ db: second });
    await holder.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM payloads WHERE payload_id = $1 FOR UPDATE', [payloadIdOf(1)]);
      const started = Date.now();
      expect(await sweeper.sweep(at(30 * MIN))).toEqual([]);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
    expect((await sweeper.sweep(at(30 * MIN))).map((r) => r.run)).toEqual(['held']);
  }, 30_000);
});

describe(`the service runs the sweeper (${BACKEND})`, () => {
  it('is configured from the environment, off with interval 0, and refuses bad values', () => {
    expect(configFromEnv({}).stuckRuns).toEqual({ intervalMs: 60_000, graceMs: 600_000, maxSilenceMs: 86_400_000 });
    expect(configFromEnv({ STUCK_RUN_SWEEP_INTERVAL_SECONDS: '5', STUCK_RUN_GRACE_SECONDS: '0', STUCK_RUN_MAX_SILENCE_SECONDS: '3600' }).stuckRuns)
      .toEqual({ intervalMs: 5_000, graceMs: 0, maxSilenceMs: 3_600_000 });
    expect(configFromEnv({ STUCK_RUN_SWEEP_INTERVAL_SECONDS: '0' }).stuckRuns).toBeUndefined();
    expect(() => configFromEnv({ STUCK_RUN_GRACE_SECONDS: '10m' })).toThrow(/STUCK_RUN_GRACE_SECONDS must be a whole number of seconds/);
    expect(() => configFromEnv({ STUCK_RUN_MAX_SILENCE_SECONDS: '0' })).toThrow(/STUCK_RUN_MAX_SILENCE_SECONDS must be a whole number of seconds, at least 1/);
  });

  it('ends a terminated run on its own and forwards run.finished TIMED_OUT to the lifecycle webhook', async () => {
    // On PGlite the service opens and migrates its own database; on PostgreSQL the test
    // migrates a fresh schema, as the migration Job would.
    const t = HAVE_POSTGRES ? await createTestDb() : undefined;
    const received: Record<string, unknown>[] = [];
    const hook: Server = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        received.push(JSON.parse(text) as Record<string, unknown>);
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const base = configFromEnv({ STATE_WRITE_TOKEN: WRITER, STATE_READ_TOKEN: READER, HOST: '127.0.0.1', PORT: '0' });
    const service = await startStateService({
      ...base,
      databaseUrl: DATABASE_URL,
      schema: t?.schema,
      lifecycleUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/lifecycle`,
      stuckRuns: { intervalMs: 50, graceMs: 0, maxSilenceMs: 86_400_000 },
    });
    try {
      const run = 'terminated-run';
      await call(service.url, 'POST', '/claim', { token: WRITER, body: { payloadId: payloadIdOf(9), workflow: 'cog-archive', run, input: 's3://b/in.json' } });
      // Started in 2024 with a one-minute deadline: long past; its exit handler never ran.
      await call(service.url, 'POST', '/events', { token: WRITER, body: { ...lifecycle({ type: 'running', run, phase: 'Running', payloadId: payloadIdOf(9) }), deadlineSeconds: 60 } });
      const end = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      expect(received).toEqual([expect.objectContaining({ event: 'run.finished', state: 'TIMED_OUT', run, error: expect.stringMatching(/terminated or lost/) })]);
      expect((await call(service.url, 'GET', `/runs/${run}`, { token: READER })).body).toMatchObject({ state: 'TIMED_OUT' });
    } finally {
      await service.close();
      await new Promise((r) => hook.close(r));
      await t?.drop();
    }
  });
});
