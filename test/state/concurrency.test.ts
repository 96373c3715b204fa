import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, callRetrying, createTestDb, HAVE_POSTGRES, lifecycle, payloadIdOf, prng, shuffle, startTestService, type TestDb, type TestService, WRITER } from './support';
import { catchUp } from '../../state/journal';

/**
 * Many writers deliver shuffled, duplicated lifecycle events for hundreds of runs through
 * the real HTTP service. On PostgreSQL (DATABASE_URL) the service holds a pool of 16
 * connections and 16 clients write at once, so row locks and unique keys are what keep
 * the record right. PGlite has one connection: requests still interleave at the HTTP
 * layer in any order, so ordering and duplicate rules are exercised, not lock races.
 */
const RUNS = 300;
const WRITERS = 16;
const OUTCOMES = [
  { phase: 'Succeeded', message: '', state: 'SUCCESSFUL' },
  { phase: 'Failed', message: 'child "convert" failed', state: 'FAILED' },
  { phase: 'Failed', message: 'Step exceeded its deadline: activeDeadlineSeconds', state: 'TIMED_OUT' },
  { phase: 'Failed', message: "Stopped with strategy 'Terminate'", state: 'CANCELED' },
  { phase: 'Error', message: 'pod deleted', state: 'FAILED' },
] as const;

interface Delivery {
  readonly run: string;
  readonly kind: 'claim' | 'running' | 'completed';
  readonly path: string;
  readonly body: unknown;
}

describe(`concurrent, shuffled, duplicated delivery (${BACKEND}${HAVE_POSTGRES ? `, ${WRITERS} connections` : ', single connection'})`, () => {
  let t: TestDb;
  let s: TestService;
  beforeAll(async () => {
    t = await createTestDb({ maxConnections: WRITERS });
    s = await startTestService(t.db);
  });
  afterAll(async () => {
    await s.close();
    await t.drop();
  });

  it(`${RUNS} runs end with exactly the expected states, histories and notifications`, async () => {
    const random = prng(20240501);
    const expected = new Map<string, string>();
    let deliveries: Delivery[] = [];
    for (let i = 0; i < RUNS; i++) {
      const run = `run-${String(i).padStart(3, '0')}`;
      const payloadId = payloadIdOf(i);
      const outcome = OUTCOMES[i % OUTCOMES.length]!;
      expected.set(run, outcome.state);
      const events: Delivery[] = [
        { run, kind: 'claim', path: '/claim', body: { payloadId, workflow: 'cog-archive', run, input: `s3://in/${i}`, replace: 'false' } },
        { run, kind: 'running', path: '/events', body: lifecycle({ type: 'running', run, phase: 'Running', payloadId }) },
        { run, kind: 'completed', path: '/events', body: lifecycle({ type: 'completed', run, phase: outcome.phase, message: outcome.message, payloadId, output: outcome.state === 'SUCCESSFUL' ? `s3://out/${i}` : '' }) },
      ];
      for (const e of events) {
        const copies = 1 + Math.floor(random() * 3);
        for (let c = 0; c < copies; c++) deliveries.push(e);
      }
    }
    deliveries = shuffle(deliveries, random);
    // The claim step answers before the workflow can complete, so a run's completed event
    // waits until one of its claims has been answered. Everything else goes in any order.
    // Held back events go to the end of the queue (they would deadlock the writers if waited for).
    const claimed = new Set<string>();

    const answers: { d: Delivery; status: number; body: any }[] = [];
    const sent = deliveries.length;
    let next = 0;
    await Promise.all(Array.from({ length: WRITERS }, async () => {
      while (next < deliveries.length) {
        const d = deliveries[next++]!;
        if (d.kind === 'completed' && !claimed.has(d.run)) {
          deliveries.push(d);
          await new Promise((r) => setImmediate(r));
          continue;
        }
        const a = await callRetrying(s.url, 'POST', d.path, { token: WRITER, body: d.body });
        if (d.kind === 'claim') claimed.add(d.run);
        answers.push({ d, ...a });
      }
    }));

    // Claims answer 200, events 202 (accepted into the journal, applied in the background).
    expect(answers.filter((a) => a.status !== (a.d.kind === 'claim' ? 200 : 202))).toEqual([]);
    expect(answers.length).toBe(sent);
    // Every claim of a run got "claimed" (all of them, duplicates included: same answer).
    expect(answers.filter((a) => a.d.kind === 'claim' && a.body.claimed !== true)).toEqual([]);
    // Whatever the background applier has not done yet, a reader's catch-up does.
    await catchUp(t.db);

    const runs = await t.db.query<{ run: string; state: string; claim: string; attempt: number; output: string | null }>(
      'SELECT run, state::text AS state, claim, attempt, output FROM runs ORDER BY run');
    expect(runs.map((r) => [r.run, r.state, r.claim, r.attempt])).toEqual([...expected].map(([run, state]) => [run, state, 'claimed', 1]));
    expect(runs.filter((r) => r.state === 'SUCCESSFUL').every((r) => r.output?.startsWith('s3://out/'))).toBe(true);

    const history = await t.db.query<{ run: string; states: string; applied_final: number }>(
      `SELECT run, string_agg(state::text, ',' ORDER BY state) AS states,
              count(*) FILTER (WHERE applied AND swoop_state_is_final(state))::int AS applied_final
       FROM run_events GROUP BY run ORDER BY run`);
    expect(history).toEqual([...expected].map(([run, state]) => ({
      run,
      states: ['QUEUED', 'RUNNING', state].join(','), // enum order
      applied_final: 1,
    })));

    const outbox = await t.db.query<{ run: string; state: string }>(`SELECT run, body->>'state' AS state FROM outbox ORDER BY run`);
    expect(outbox).toEqual([...expected].map(([run, state]) => ({ run, state })));
  });

  it('many runs claiming one payload at once: exactly one wins', async () => {
    const payloadId = 'sentinel-2-l2a/workflow-cog-archive/contended';
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      callRetrying(s.url, 'POST', '/claim', { token: WRITER, body: { payloadId, workflow: 'cog-archive', run: `contender-${i}` } })));
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const winners = answers.filter((a) => a.body.claimed);
    expect(winners).toHaveLength(1);
    const owner = winners[0]!.body.run as string;
    expect(answers.filter((a) => !a.body.claimed).every((a) => a.body.run === owner)).toBe(true);
    const attempts = await t.db.query<{ attempt: number }>('SELECT attempt FROM runs WHERE payload_id = $1 ORDER BY attempt', [payloadId]);
    expect(attempts.map((a) => a.attempt)).toEqual([...Array(40).keys()].map((i) => i + 1));
  });
});
