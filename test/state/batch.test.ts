import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, createTestDb, prng, shuffle, type TestDb } from './support';

/**
 * The set-based swoop_record_events (0006, with the deadline in place since 0010) must
 * record exactly what recording the same batches one event at a time does (0005's loop,
 * kept as swoop_record_events_each, then 0007's deadline statement): same answers, runs,
 * attempts, deadlines, history, payloads and notifications. Both get the same random
 * batches -- new and known runs, several runs of one payload, runs without a payload id,
 * claimed runs, late, duplicate and gap-filling reports, running reports with and without
 * a deadline (re-delivered with another one, or arriving after the end), and batches
 * naming a run twice or smaller than 4 (which take the per-event path) -- in two fresh
 * schemas.
 */
const RUNS = 60;
const PAYLOADS = 8;
const FINALS = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT'] as const;

type Row = Record<string, unknown>;

interface Report {
  run: string;
  workflow: string;
  state: string;
  source: string;
  uid?: string;
  payloadId?: string;
  parentRun?: string;
  input?: string;
  output?: string;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
  deadlineSeconds?: number;
}

/** 0007's deadline rule, the reference: after the batch, each run it named that is still active and has none gets startedAt (else its creation) + its smallest deadlineSeconds. */
const DEADLINE_RULE = `
  UPDATE runs x SET deadline_at = coalesce(x.started_at, x.created_at) + d.secs * interval '1 second'
  FROM (SELECT e.v->>'run' AS run, min((e.v->>'deadlineSeconds')::bigint) AS secs
        FROM jsonb_array_elements($1::jsonb) AS e(v)
        WHERE jsonb_typeof(e.v->'deadlineSeconds') = 'number'
        GROUP BY e.v->>'run') d
  WHERE x.run = d.run AND x.deadline_at IS NULL AND x.state IN ('PENDING', 'QUEUED', 'RUNNING')`;

function reports(random: () => number): Report[] {
  const out: Report[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = `run-${String(i).padStart(2, '0')}`;
    // every fifth run reports without a payload id (chained runs do)
    const payloadId = i % 5 === 4 ? undefined : `c1/workflow-wf/item-${i % PAYLOADS}`;
    const final = FINALS[i % FINALS.length]!;
    const base = { run, workflow: 'wf', payloadId, startedAt: '2024-05-01T12:00:00Z' };
    // the uid and input arrive only with some reports: later ones fill the gaps; most running
    // reports carry the workflow's deadline, as the lifecycle hook sends it
    const deadlineSeconds = i % 6 === 5 ? undefined : 3600 + i;
    out.push({ ...base, state: 'RUNNING', source: 'running', uid: random() < 0.5 ? `uid-${i}` : undefined, deadlineSeconds });
    if (i % 7 === 0) out.push({ ...base, state: 'RUNNING', source: 'running', deadlineSeconds: 60 }); // re-delivered, another deadline
    out.push({ ...base, state: final, source: 'completed', uid: random() < 0.5 ? `uid-${i}` : undefined, input: `s3://in/${i}`,
      output: final === 'SUCCESSFUL' ? `s3://out/${i}` : undefined, error: final === 'SUCCESSFUL' ? undefined : `boom ${i}`,
      finishedAt: '2024-05-01T12:30:00Z' });
    if (i % 3 === 0) out.push({ ...out[out.length - 1]! }); // duplicate delivery
    if (i % 4 === 0) {
      out.push({ ...base, state: FINALS[(i + 1) % FINALS.length]!, source: 'completed', uid: `uid-${i}`, output: `s3://late/${i}`,
        error: `late ${i}`, finishedAt: '2024-05-01T12:31:00Z' }); // a second, different final: changes nothing but gaps
    }
  }
  return shuffle(out, random);
}

/** Consecutive batches of 1-12 reports; most name each run once, some twice. */
function batches(all: Report[], random: () => number): Report[][] {
  const out: Report[][] = [];
  for (let i = 0; i < all.length;) {
    const size = 1 + Math.floor(random() * 12);
    out.push(all.slice(i, i + size));
    i += size;
  }
  return out;
}

describe(`set-based batch recording (${BACKEND})`, () => {
  let set: TestDb;
  let each: TestDb;
  beforeAll(async () => {
    [set, each] = await Promise.all([createTestDb(), createTestDb()]);
  });
  afterAll(async () => Promise.all([set.drop(), each.drop()]));

  const snapshot = async (t: TestDb) => ({
    payloads: await t.db.query<Row>('SELECT payload_id, hash, workflow, collections, item_ids, input FROM payloads ORDER BY payload_id'),
    runs: await t.db.query<Row>(`SELECT run, uid, workflow, payload_id, attempt, parent_run, state::text, claim, claim_reason, claim_owner,
                                       input, output, error, started_at::text, finished_at::text, deadline_at::text FROM runs ORDER BY run`),
    history: await t.db.query<Row>(`SELECT run, state::text, applied, source, payload_id, occurred_at::text, message
                                    FROM run_events ORDER BY run, state`),
    outbox: await t.db.query<Row>('SELECT run, body FROM outbox ORDER BY run'),
  });

  it('records random batches exactly as recording them one event at a time does', async () => {
    const random = prng(20240502);
    // claimed runs notify when they finish: claim a third of them first, in both schemas
    for (let i = 0; i < RUNS; i += 3) {
      const args = [`c1/workflow-wf/item-${i % PAYLOADS}`, 'wf', `run-${String(i).padStart(2, '0')}`, `s3://in/${i}`, true];
      for (const t of [set, each]) await t.db.query('SELECT * FROM swoop_claim($1, $2, $3, $4, $5)', args);
    }
    let setBased = 0;
    for (const batch of batches(reports(random), random)) {
      const json = JSON.stringify(batch);
      const fromSet = await set.db.query<Row>('SELECT idx, state::text AS state, recorded, applied FROM swoop_record_events($1::jsonb) ORDER BY idx', [json]);
      const fromEach = await each.db.query<Row>('SELECT idx, state::text AS state, recorded, applied FROM swoop_record_events_each($1::jsonb) ORDER BY idx', [json]);
      await each.db.query(DEADLINE_RULE, [json]);
      expect(fromSet, json).toEqual(fromEach);
      if (new Set(batch.map((r) => r.run)).size === batch.length && batch.length >= 4) setBased++;
    }
    expect(setBased).toBeGreaterThan(10);
    const [a, b] = [await snapshot(set), await snapshot(each)];
    expect(a).toEqual(b);
    // the comparison covers what matters: attempts past 1, notifications, late reports
    expect(a.runs.some((r) => (r.attempt as number) > 1)).toBe(true);
    expect(a.outbox.length).toBeGreaterThan(5);
    expect(a.history.some((h) => h.applied === false)).toBe(true);
    expect(a.runs.filter((r) => r.deadline_at !== null).length).toBeGreaterThan(10);
    expect(a.runs.some((r) => r.deadline_at === null)).toBe(true);
  });

  it('sets a deadline on the set-based path from the run\'s creation when the report has no start', async () => {
    const batch = ['dl-a', 'dl-b', 'dl-c', 'dl-d'].map((run, i) => ({
      run, workflow: 'wf', state: 'RUNNING', source: 'running', deadlineSeconds: 600 * (i + 1), ...(i === 0 ? {} : { startedAt: '2024-05-01T12:00:00Z' }),
    }));
    await set.db.query('SELECT * FROM swoop_record_events($1::jsonb)', [JSON.stringify(batch)]);
    const runs = await set.db.query<Row>(`SELECT run, (deadline_at - coalesce(started_at, created_at))::text AS span, started_at IS NULL AS unstarted
                                          FROM runs WHERE run LIKE 'dl-%' ORDER BY run`);
    expect(runs).toEqual([
      { run: 'dl-a', span: '00:10:00', unstarted: true },
      { run: 'dl-b', span: '00:20:00', unstarted: false },
      { run: 'dl-c', span: '00:30:00', unstarted: false },
      { run: 'dl-d', span: '00:40:00', unstarted: false },
    ]);
  });

  it('answers in input order and adds nothing for a batch of duplicates', async () => {
    const payloadId = 'c1/workflow-wf/dup';
    const batch = [
      { run: 'dup-d', workflow: 'wf', state: 'RUNNING', source: 'running', payloadId },
      { run: 'dup-a', workflow: 'wf', state: 'SUCCESSFUL', source: 'completed', payloadId, finishedAt: '2024-05-01T12:30:00Z' },
      { run: 'dup-c', workflow: 'wf', state: 'QUEUED', source: 'claim', payloadId },
      { run: 'dup-b', workflow: 'wf', state: 'FAILED', source: 'completed', error: 'boom', finishedAt: '2024-05-01T12:30:00Z' },
    ];
    const call = async () => set.db.query<Row>('SELECT idx, state::text AS state, recorded, applied FROM swoop_record_events($1::jsonb)', [JSON.stringify(batch)]);
    const states = ['RUNNING', 'SUCCESSFUL', 'QUEUED', 'FAILED'];
    expect(await call()).toEqual(states.map((state, idx) => ({ idx, state, recorded: true, applied: true })));
    expect(await call()).toEqual(states.map((state, idx) => ({ idx, state, recorded: false, applied: false })));
    const runs = await set.db.query<Row>(`SELECT run, payload_id AS "payloadId", attempt FROM runs WHERE run LIKE 'dup-%' ORDER BY run`);
    expect(runs).toEqual([
      { run: 'dup-a', payloadId, attempt: 1 },
      { run: 'dup-b', payloadId: null, attempt: 1 },
      { run: 'dup-c', payloadId, attempt: 2 },
      { run: 'dup-d', payloadId, attempt: 3 },
    ]);
  });
});
