import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../../state/migrate';
import { BACKEND, createTestDb, prng, shuffle, type TestDb } from './support';

/**
 * 0012 writes run.finished notifications from statement-level triggers instead of 0005's
 * row-level ones. Same random workload in two schemas, one migrated up to 0011 and one
 * fully: claims (some replacing), lifecycle reports in batches (set-based and one at a
 * time), duplicates and late finals, ingress INVALID reports (inserted claimed and final),
 * claims after a run finished unclaimed, and a stuck-run sweep. The notifications and runs
 * must be identical.
 */
type Row = Record<string, unknown>;
const FINALS = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT'];

type Step =
  | { kind: 'claim'; payloadId: string; run: string; replace: boolean }
  | { kind: 'events'; events: Record<string, unknown>[] }
  | { kind: 'sweep' };

function workload(random: () => number): Step[] {
  const reports: Record<string, unknown>[] = [];
  const claims: Step[] = [];
  for (let i = 0; i < 48; i++) {
    const run = `n-${String(i).padStart(2, '0')}`;
    const payloadId = `c1/workflow-wf/item-${i % 12}`;
    const base = { run, workflow: 'wf', payloadId, startedAt: '2024-05-01T12:00:00Z', input: i % 5 === 0 ? `{"process": [{"workflow": "wf"}, {"workflow": "next-${i}"}]}` : `s3://in/${i}` };
    if (i % 8 === 7) {
      // ingress found the payload invalid: the run is recorded claimed and final at once
      // (with a finish time: without one each schema would record its own now())
      reports.push({ ...base, state: 'INVALID', source: 'ingress', error: `bad ${i}`, claim: 'claimed', claimReason: 'invalid at ingress', claimOwner: run,
        finishedAt: '2024-05-01T12:00:01Z' });
      continue;
    }
    if (i % 4 !== 3) claims.push({ kind: 'claim', payloadId, run, replace: i % 9 === 0 });
    reports.push({ ...base, state: 'RUNNING', source: 'running', deadlineSeconds: 3600 });
    if (i % 6 !== 5) { // the others never report their end: the sweep ends them
      const final = FINALS[i % FINALS.length]!;
      const end = { ...base, state: final, source: 'completed', output: `s3://out/${i}`, error: final === 'SUCCESSFUL' ? undefined : `boom ${i}`, finishedAt: '2024-05-01T12:30:00Z' };
      reports.push(end);
      if (i % 3 === 0) reports.push({ ...end }); // duplicate delivery
      if (i % 5 === 1) reports.push({ ...end, state: FINALS[(i + 1) % FINALS.length], error: 'late' }); // a late, different end
    }
  }
  const steps: Step[] = [];
  const shuffled = shuffle(reports, random);
  for (let i = 0; i < shuffled.length;) {
    const size = 1 + Math.floor(random() * 10);
    steps.push({ kind: 'events', events: shuffled.slice(i, i + size) });
    i += size;
    // claims arrive among the reports: before, between or after a run's events
    while (claims.length > 0 && random() < 0.5) steps.push(claims.shift()!);
  }
  steps.push(...claims, { kind: 'sweep' });
  return steps;
}

describe(`run.finished notifications per statement (0012) (${BACKEND})`, () => {
  let before: TestDb;
  let after: TestDb;
  beforeAll(async () => {
    [before, after] = await Promise.all([createTestDb({ migrate: false }), createTestDb()]);
    const upTo0011 = loadMigrations().filter((m) => m.version <= 11);
    expect(upTo0011.at(-1)!.name).toBe('0011_next_without_exceptions.sql');
    await migrate(before.db, upTo0011);
  });
  afterAll(async () => Promise.all([before?.drop(), after?.drop()]));

  it('notify exactly as the row-level triggers did', async () => {
    for (const step of workload(prng(20261128))) {
      for (const t of [before, after]) {
        if (step.kind === 'claim') {
          await t.db.query('SELECT * FROM swoop_claim($1, $2, $3, $4, $5)', [step.payloadId, 'wf', step.run, `s3://in/${step.run}`, step.replace]);
        } else if (step.kind === 'events') {
          await t.db.query('SELECT * FROM swoop_record_events($1::jsonb)', [JSON.stringify(step.events)]);
        } else {
          await t.db.query(`SELECT * FROM swoop_end_stuck_runs('2024-06-01T00:00:00Z', interval '10 minutes', interval '1 day', 1000)`);
        }
      }
    }
    const snapshot = async (t: TestDb) => ({
      outbox: await t.db.query<Row>('SELECT run, body FROM outbox ORDER BY run'),
      runs: await t.db.query<Row>(`SELECT run, state::text, claim, claim_reason, attempt, output, error FROM runs ORDER BY run`),
    });
    const [a, b] = [await snapshot(before), await snapshot(after)];
    expect(b).toEqual(a);
    // the workload reaches every way a notification is written
    const states = new Set(b.outbox.map((o) => (o.body as { state: string }).state));
    expect([...states].sort()).toEqual(['CANCELED', 'FAILED', 'INVALID', 'SUCCESSFUL', 'TIMED_OUT']);
    expect(b.outbox.some((o) => (o.body as { next: unknown[] }).next.length > 0)).toBe(true);
    expect(b.outbox.length).toBeGreaterThanOrEqual(12);
    expect(b.runs.some((r) => r.claim === 'refused')).toBe(true);
  });

  it('do not notify again when a finished run is updated after its notification was pruned', async () => {
    for (const t of [before, after]) {
      const [done] = await t.db.query<{ run: string }>(`SELECT run FROM runs WHERE claim = 'claimed' AND state = 'SUCCESSFUL' AND uid IS NULL ORDER BY run LIMIT 1`);
      await t.db.query('DELETE FROM outbox WHERE run = $1', [done!.run]); // an operator pruning delivered rows
      // a late report filling the uid gap: an UPDATE of a finished claimed run
      await t.db.query('SELECT * FROM swoop_record_events($1::jsonb)', [JSON.stringify([{ run: done!.run, workflow: 'wf', state: 'RUNNING', source: 'running', uid: 'late-uid' }])]);
      const [row] = await t.db.query<{ uid: string; notified: number }>(
        'SELECT uid, (SELECT count(*)::int FROM outbox o WHERE o.run = r.run) AS notified FROM runs r WHERE run = $1', [done!.run]);
      expect(row, t === before ? 'row-level triggers' : 'statement-level triggers').toEqual({ uid: 'late-uid', notified: 0 });
    }
  });
});
