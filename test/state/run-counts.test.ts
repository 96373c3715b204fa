/**
 * Status-filtered lists and counts (migration 0016, state/run-counts.ts) equal a brute-force
 * count of runs read in the same snapshot: while many writers record claims, running and
 * completed events (shuffled, duplicated), re-runs with replace, refused claims, INVALID
 * reports, claims naming the payload of a run that already finished, and the stuck-run
 * sweeper ends runs, with the rollup running concurrently. Runs seeded over the last two
 * days give the hourly rollup and the time windows partial hours to get wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../state/db';
import { catchUp } from '../../state/journal';
import { type CountFilter, countRuns, countRunsByHour, rollUpRunCounts, statusListQuery } from '../../state/run-counts';
import { RUN_STATES, type RunState } from '../../state/states';
import { StuckRunSweeper } from '../../state/sweeper';
import { migrate, loadMigrations } from '../../state/migrate';
import type { Page } from '../../state/validate';
import { BACKEND, call, callRetrying, createTestDb, HAVE_POSTGRES, lifecycle, prng, READER, shuffle, startTestService, type TestDb, type TestService, WRITER } from './support';

const WORKFLOWS = ['cog-archive', 'publish'] as const;
const SEEDED = HAVE_POSTGRES ? 400 : 160;
const NEW_RUNS = HAVE_POSTGRES ? 240 : 90;
const WRITERS = 8;
const OUTCOMES = [
  { phase: 'Succeeded', message: '' },
  { phase: 'Failed', message: 'child "convert" failed' },
  { phase: 'Failed', message: 'Step exceeded its deadline: activeDeadlineSeconds' },
  { phase: 'Failed', message: "Stopped with strategy 'Terminate'" },
] as const;

/** Payload i: one collection, the other, or both. */
const collectionsOf = (i: number) => [['sentinel-2-l2a'], ['landsat-c2l2'], ['sentinel-2-l2a', 'landsat-c2l2']][i % 3]!;
const payloadOf = (i: number, wf: string) => `${collectionsOf(i).join('/')}/workflow-${wf}/item-${i}`;

const NOW = Date.now();
const hoursAgo = (h: number, extraMs = 0) => new Date(Math.floor(NOW / 3_600_000) * 3_600_000 - h * 3_600_000 + extraMs).toISOString();

const FILTERS: CountFilter[] = [
  {},
  { workflows: ['cog-archive'] },
  { workflows: ['cog-archive', 'publish'] },
  { collection: 'landsat-c2l2' },
  { workflows: ['publish'], collection: 'sentinel-2-l2a' },
  { collection: 'no-such-collection' },
  { since: hoursAgo(10, 1_234_567) },
  { until: hoursAgo(5, 99_000) },
  { since: hoursAgo(30), until: hoursAgo(2) }, // whole hours only
  { since: hoursAgo(7, 60_000), until: hoursAgo(7, 3_000_000) }, // inside one hour
  { since: hoursAgo(40, 1_800_000), until: hoursAgo(-2) }, // partial hour, then up to the future
  { workflows: ['cog-archive'], collection: 'landsat-c2l2', since: hoursAgo(20, 5), until: hoursAgo(1, 7) },
  // an instant written with a half-hour offset: the rollup's hours are UTC hours
  { since: new Date(Date.parse(hoursAgo(12, 600_000)) + 5.5 * 3_600_000).toISOString().replace(/\.\d+Z$/, '+05:30') },
];
const STATE_SETS: RunState[][] = [['FAILED'], ['FAILED', 'TIMED_OUT', 'INVALID'], ['RUNNING'], ['QUEUED', 'CANCELED'], [...RUN_STATES]];

async function bruteCounts(db: Queryable, f: CountFilter): Promise<Record<string, number>> {
  const rows = await db.query<{ state: string; n: number }>(
    `SELECT r.state::text AS state, count(*)::int AS n FROM runs r
     WHERE ($1::text[] IS NULL OR r.workflow = ANY($1::text[]))
       AND ($2::text IS NULL OR r.payload_id IN (SELECT p.payload_id FROM payloads p WHERE $2::text = ANY(p.collections)))
       AND ($3::timestamptz IS NULL OR r.created_at >= $3::timestamptz) AND ($4::timestamptz IS NULL OR r.created_at < $4::timestamptz)
     GROUP BY 1`, [f.workflows ?? null, f.collection ?? null, f.since ?? null, f.until ?? null]);
  const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0]));
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

async function bruteHours(db: Queryable, f: CountFilter): Promise<{ hour: string; counts: Record<string, number> }[]> {
  const rows = await db.query<{ hour: string; state: string; n: number }>(
    `SELECT to_char(date_trunc('hour', r.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS hour, r.state::text AS state, count(*)::int AS n
     FROM runs r
     WHERE ($1::text[] IS NULL OR r.workflow = ANY($1::text[]))
       AND ($2::text IS NULL OR r.payload_id IN (SELECT p.payload_id FROM payloads p WHERE $2::text = ANY(p.collections)))
     GROUP BY 1, 2 ORDER BY 1, 2`, [f.workflows ?? null, f.collection ?? null]);
  const hours: { hour: string; counts: Record<string, number> }[] = [];
  for (const r of rows) {
    if (hours[hours.length - 1]?.hour !== r.hour) hours.push({ hour: r.hour, counts: Object.fromEntries(RUN_STATES.map((s) => [s, 0])) });
    hours[hours.length - 1]!.counts[r.state] = r.n;
  }
  // whole hours overlapping the window, as countRunsByHour documents
  const from = f.since === undefined ? -Infinity : Math.floor(Date.parse(f.since) / 3_600_000) * 3_600_000;
  const to = f.until === undefined ? Infinity : Date.parse(f.until);
  return hours.filter((h) => Date.parse(h.hour) >= from && Date.parse(h.hour) < to);
}

/** Names of a status-filtered page the slow way: a scan of runs. */
async function bruteList(db: Queryable, f: CountFilter & { states: RunState[] }, page: Page): Promise<string[]> {
  const rows = await db.query<{ run: string }>(
    `SELECT r.run FROM runs r
     WHERE r.state::text = ANY($1::text[])
       AND ($2::text[] IS NULL OR r.workflow = ANY($2::text[]))
       AND ($3::text IS NULL OR r.payload_id IN (SELECT p.payload_id FROM payloads p WHERE $3::text = ANY(p.collections)))
       AND ($4::timestamptz IS NULL OR r.created_at >= $4::timestamptz) AND ($5::timestamptz IS NULL OR r.created_at < $5::timestamptz)
       AND ($6::timestamptz IS NULL OR (r.created_at, r.run) < ($6::timestamptz, $7::text))
     ORDER BY r.created_at DESC, r.run DESC LIMIT $8`,
    [f.states, f.workflows ?? null, f.collection ?? null, f.since ?? null, f.until ?? null, page.cursor?.createdAt ?? null, page.cursor?.run ?? null, page.limit + 1]);
  return rows.map((r) => r.run);
}

/** Every count, hourly trend and list page against brute force, in one snapshot; returns the mismatches. */
async function compareInOneSnapshot(db: TestDb['db']): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const wrong: string[] = [];
    for (const f of FILTERS) {
      const [fast, slow] = [await countRuns(tx, f), await bruteCounts(tx, f)];
      if (JSON.stringify(fast) !== JSON.stringify(slow)) wrong.push(`counts ${JSON.stringify(f)}: ${JSON.stringify(fast)} != ${JSON.stringify(slow)}`);
      const [fastHours, slowHours] = [await countRunsByHour(tx, f), await bruteHours(tx, f)];
      if (JSON.stringify(fastHours) !== JSON.stringify(slowHours)) wrong.push(`hours ${JSON.stringify(f)} differ`);
      for (const states of STATE_SETS) {
        const filter = { ...f, states };
        const first = await bruteList(tx, filter, { limit: 7 });
        const pages: Page[] = [{ limit: 7 }];
        const mid = first[4];
        if (mid !== undefined) {
          const [c] = await tx.query<{ t: string }>(`SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM runs WHERE run = $1`, [mid]);
          pages.push({ limit: 3, cursor: { createdAt: c!.t, run: mid } });
        }
        for (const page of pages) {
          const q = statusListQuery(filter, page);
          const fastList = (await tx.query<{ run: string }>(q.sql, q.params)).map((r) => r.run);
          const slowList = page === pages[0] ? first : await bruteList(tx, filter, page);
          if (JSON.stringify(fastList) !== JSON.stringify(slowList)) {
            wrong.push(`list ${JSON.stringify(filter)} ${JSON.stringify(page)}: ${JSON.stringify(fastList)} != ${JSON.stringify(slowList)}`);
          }
        }
      }
    }
    return wrong;
  });
}

/** Runs from the last two days in every state, some created exactly on an hour, some stuck past their deadline. */
async function seed(db: Queryable): Promise<void> {
  await db.query(
    `SELECT swoop_lock_payload(p.id, p.wf, 's3://in/' || g) FROM generate_series(0, $1::int - 1) g,
            LATERAL (SELECT CASE WHEN g % 2 = 0 THEN 'cog-archive' ELSE 'publish' END AS wf) w,
            LATERAL (SELECT (ARRAY['sentinel-2-l2a', 'landsat-c2l2', 'sentinel-2-l2a/landsat-c2l2'])[g % 3 + 1] || '/workflow-' || w.wf || '/item-' || g AS id, w.wf) p`,
    [SEEDED]);
  await db.query(
    `INSERT INTO runs (run, workflow, payload_id, state, claim, claim_reason, claim_owner, created_at, started_at, finished_at, deadline_at, error)
     SELECT 'seed-' || g, p.workflow, p.payload_id, s.state, 'claimed', 'new payload', 'seed-' || g, t.at, t.at,
            CASE WHEN swoop_state_is_final(s.state) THEN t.at + interval '5 minutes' END,
            CASE WHEN s.state = 'RUNNING' AND g % 4 = 1 THEN t.at + interval '1 minute' ELSE t.at + interval '3 days' END,
            CASE WHEN s.state = 'FAILED' THEN 'boom' END
     FROM generate_series(0, $1::int - 1) g
     JOIN payloads p ON p.payload_id = (ARRAY['sentinel-2-l2a', 'landsat-c2l2', 'sentinel-2-l2a/landsat-c2l2'])[g % 3 + 1]
                                        || '/workflow-' || CASE WHEN g % 2 = 0 THEN 'cog-archive' ELSE 'publish' END || '/item-' || g
     CROSS JOIN LATERAL (SELECT (ARRAY['QUEUED', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT'])[g % 6 + 1]::run_state AS state) s
     CROSS JOIN LATERAL (SELECT date_trunc('hour', $2::timestamptz) - (g % 48) * interval '1 hour'
                                + CASE WHEN g % 7 = 0 THEN interval '0' ELSE (g * 37 % 3600) * interval '1 second' END AS at) t`,
    [SEEDED, new Date(NOW).toISOString()]);
}

interface Delivery {
  readonly run: string;
  readonly kind: 'claim' | 'running' | 'completed' | 'invalid';
  readonly path: string;
  readonly body: unknown;
}

describe(`status-filtered lists and counts equal a brute-force count (0016) (${BACKEND})`, () => {
  let t: TestDb;
  let s: TestService;
  beforeAll(async () => {
    t = await createTestDb({ maxConnections: WRITERS + 4 });
    await seed(t.db);
    s = await startTestService(t.db, { rollUpIntervalMs: 1 });
  });
  afterAll(async () => {
    await s?.close();
    await t?.drop();
  });

  it('the seeded runs are counted from the moment they are inserted (before any roll-up)', async () => {
    expect(await compareInOneSnapshot(t.db)).toEqual([]);
  });

  it('while writers record concurrently, re-runs replace, claims are refused, the sweeper ends runs and roll-ups run', async () => {
    const random = prng(15_003);
    let deliveries: Delivery[] = [];
    const add = (d: Delivery) => {
      for (let c = 1 + Math.floor(random() * 2); c > 0; c--) deliveries.push(d);
    };
    const completed = (run: string, i: number, payloadId: string, wf: string) => {
      const o = OUTCOMES[i % OUTCOMES.length]!;
      return lifecycle({ type: 'completed', run, phase: o.phase, message: o.message, payloadId, workflow: wf, output: o.phase === 'Succeeded' ? `s3://out/${run}` : '' });
    };
    // Seeded active runs report running and their end (moving counts in past hours).
    for (let g = 0; g < SEEDED; g++) {
      if (g % 6 > 1) continue;
      const wf = g % 2 === 0 ? 'cog-archive' : 'publish';
      const run = `seed-${g}`;
      add({ run, kind: 'running', path: '/events', body: lifecycle({ type: 'running', run, phase: 'Running', payloadId: payloadOf(g, wf), workflow: wf }) });
      if (g % 5 !== 0) add({ run, kind: 'completed', path: '/events', body: completed(run, g, payloadOf(g, wf), wf) });
    }
    // New runs: claimed, running, ended; every fourth payload re-run with replace; INVALID reports.
    for (let i = 0; i < NEW_RUNS; i++) {
      const wf = WORKFLOWS[i % 2]!;
      const payloadId = payloadOf(1000 + i, wf);
      for (const [run, replace] of [[`new-${i}`, false], ...(i % 4 === 0 ? [[`rerun-${i}`, true] as const] : [])] as const) {
        add({ run, kind: 'claim', path: '/claim', body: { payloadId, workflow: wf, run, input: `s3://in/${run}`, replace: String(replace) } });
        add({ run, kind: 'running', path: '/events', body: lifecycle({ type: 'running', run, phase: 'Running', payloadId, workflow: wf }) });
        if (i % 7 !== 3) add({ run, kind: 'completed', path: '/events', body: completed(run, i + (replace ? 1 : 0), payloadId, wf) });
      }
      if (i % 9 === 0) {
        add({ run: `bad-${i}`, kind: 'invalid', path: '/events',
          body: { type: 'invalid', source: 'sqs', message: 'no such item', input: '{}', workflow: wf, run: `bad-${i}`, payloadId: payloadOf(2000 + i, wf) } });
      }
      // a second claim for a payload someone else owns: refused, recorded CANCELED
      if (i % 10 === 5) add({ run: `dup-${i}`, kind: 'claim', path: '/claim', body: { payloadId, workflow: wf, run: `dup-${i}`, input: 's3://in/dup' } });
      // a run whose events carry no payload id; a claim names its payload after it finished
      if (i % 8 === 2) {
        const run = `orphan-${i}`;
        add({ run, kind: 'running', path: '/events', body: lifecycle({ type: 'running', run, phase: 'Running', workflow: wf }) });
        add({ run, kind: 'completed', path: '/events', body: completed(run, i, '', wf) });
      }
    }
    deliveries = shuffle(deliveries, random);
    const orphans = deliveries.filter((d) => d.run.startsWith('orphan-') && d.kind === 'completed').map((d) => d.run);

    const sweeper = new StuckRunSweeper({ db: t.db, graceMs: 0, maxSilenceMs: 3 * 86_400_000 });
    let writing = true;
    const mismatches: string[] = [];
    let checks = 0;
    const checker = (async () => {
      while (writing) {
        mismatches.push(...await compareInOneSnapshot(t.db));
        checks++;
        await rollUpRunCounts(t.db);
        await sweeper.sweep();
        // PGlite has one connection: leave the writers room between snapshots
        await new Promise((r) => setTimeout(r, HAVE_POSTGRES ? 20 : 500));
      }
    })();
    let next = 0;
    const failed: string[] = [];
    await Promise.all(Array.from({ length: WRITERS }, async () => {
      while (next < deliveries.length) {
        const d = deliveries[next++]!;
        const a = await callRetrying(s.url, 'POST', d.path, { token: WRITER, body: d.body });
        if (a.status !== (d.kind === 'claim' ? 200 : 202)) failed.push(`${d.kind} ${d.run}: ${a.status} ${JSON.stringify(a.body)}`);
      }
    }));
    await catchUp(t.db);
    // Claims naming the payload of runs that already finished without one.
    for (const [k, run] of [...new Set(orphans)].entries()) {
      const a = await callRetrying(s.url, 'POST', '/claim', { token: WRITER, body: { payloadId: payloadOf(3000 + k, 'cog-archive'), workflow: 'cog-archive', run } });
      expect(a.body).toMatchObject({ claimed: false, reason: expect.stringContaining('already finished') });
    }
    writing = false;
    await checker;
    expect(failed).toEqual([]);
    expect(mismatches).toEqual([]);
    expect(checks).toBeGreaterThan(0);

    // The workload reached every case: re-runs, refusals, sweeps, collections added after the end.
    const [shape] = await t.db.query<Record<string, number>>(
      `SELECT count(*) FILTER (WHERE run LIKE 'rerun-%' AND attempt = 2)::int AS reruns,
              count(*) FILTER (WHERE claim = 'refused')::int AS refused,
              count(*) FILTER (WHERE state = 'INVALID')::int AS invalid,
              count(*) FILTER (WHERE run LIKE 'orphan-%' AND payload_id IS NOT NULL AND state <> 'RUNNING')::int AS orphans,
              (SELECT count(*)::int FROM run_events WHERE source = 'sweeper') AS swept
       FROM runs`);
    expect(Object.entries(shape!).filter(([, n]) => n === 0)).toEqual([]);

    expect(await compareInOneSnapshot(t.db)).toEqual([]);
    await rollUpRunCounts(t.db);
    const [pending] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM run_count_changes');
    expect(pending!.n).toBe(0);
    expect(await compareInOneSnapshot(t.db)).toEqual([]);
    // Rows that reached 0 are gone, so the rollups only hold what counts.
    const [zeros] = await t.db.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM run_counts_by_hour WHERE n = 0) + (SELECT count(*) FROM run_counts_total WHERE n = 0) AS n');
    expect(Number(zeros!.n)).toBe(0);
  }, 300_000);

  it('the HTTP reads give the brute-force answers: /counts, /runs pages, /jobs?status', async () => {
    for (const f of FILTERS.filter((x) => x.workflows === undefined || x.workflows.length === 1)) {
      const q = new URLSearchParams();
      if (f.workflows) q.set('workflow', f.workflows[0]!);
      for (const k of ['collection', 'since', 'until'] as const) if (f[k] !== undefined) q.set(k, f[k]!);
      const counts = await call(s.url, 'GET', `/counts?${q}`, { token: READER });
      expect(counts.status).toBe(200);
      expect(counts.body.counts).toEqual(await bruteCounts(t.db, f));
    }
    // Walk every page of a collection's failed runs.
    const expected = await bruteList(t.db, { collection: 'landsat-c2l2', states: ['FAILED', 'TIMED_OUT'] }, { limit: 100_000 });
    expect(expected.length).toBeGreaterThan(10);
    const seen: string[] = [];
    let path: string | null = '/runs?collection=landsat-c2l2&state=FAILED,TIMED_OUT&limit=4';
    while (path) {
      const page: { status: number; body: { runs: { run: string; state: string }[]; next: string | null } } = await call(s.url, 'GET', path, { token: READER });
      expect(page.status).toBe(200);
      seen.push(...page.body.runs.map((r) => r.run));
      path = page.body.next ? `/runs?collection=landsat-c2l2&state=FAILED,TIMED_OUT&limit=4&cursor=${encodeURIComponent(page.body.next)}` : null;
    }
    expect(seen).toEqual(expected);
    const jobs = await call(s.url, 'GET', '/jobs?processID=publish&status=failed,running&limit=1000', { token: READER });
    expect(jobs.status).toBe(200);
    expect(jobs.body.jobs.map((j: { jobID: string }) => j.jobID))
      .toEqual(await bruteList(t.db, { workflows: ['publish'], states: ['FAILED', 'TIMED_OUT', 'INVALID', 'RUNNING'] }, { limit: 999 }));
  });
});

describe(`migration 0016 counts the runs recorded before it (${BACKEND})`, () => {
  let t: TestDb;
  afterAll(async () => t?.drop());

  it('backfills finished runs and the rollups from existing runs', async () => {
    t = await createTestDb({ migrate: false });
    const all = loadMigrations();
    const at = all.findIndex((m) => m.name.startsWith('0016_'));
    await migrate(t.db, all.slice(0, at));
    await seed(t.db);
    await t.db.query(`SELECT swoop_claim('landsat-c2l2/workflow-publish/late', 'publish', 'late-run', 's3://in/late', false)`);
    await migrate(t.db, all);
    expect(await compareInOneSnapshot(t.db)).toEqual([]);
    const [n] = await t.db.query<{ listed: number; finished: number }>(
      `SELECT (SELECT count(*)::int FROM finished_runs WHERE collection IS NULL) AS listed,
              (SELECT count(*)::int FROM runs WHERE swoop_state_is_final(state)) AS finished`);
    expect(n!.listed).toBe(n!.finished);
    expect(n!.listed).toBeGreaterThan(SEEDED / 2);
  });

  it('refuses a payload whose collections are not the ones its id names (the triggers read them from the id)', async () => {
    await expect(t.db.query(`INSERT INTO payloads (payload_id, hash, workflow, collections, item_ids)
                             VALUES ('a/b/workflow-w/i', encode(sha256('a/b/workflow-w/i'), 'hex'), 'w', ARRAY['a'], ARRAY['i'])`)).rejects.toThrow(/payloads_collections_from_id/);
    await t.db.query(`INSERT INTO payloads (payload_id, hash, workflow, collections, item_ids)
                      VALUES ('a/b/workflow-w/i', encode(sha256('a/b/workflow-w/i'), 'hex'), 'w', ARRAY['a', 'b'], ARRAY['i']),
                             ('no-marker', encode(sha256('no-marker'), 'hex'), 'w', '{}', '{}')`);
  });

  it('a deleted run leaves the counts and lists (a retention job would delete)', async () => {
    await t.db.exec(`DELETE FROM outbox WHERE run IN ('seed-2', 'seed-3', 'late-run');
                     DELETE FROM runs WHERE run IN ('seed-2', 'seed-3', 'late-run')`);
    expect(await compareInOneSnapshot(t.db)).toEqual([]);
    await rollUpRunCounts(t.db);
    expect(await compareInOneSnapshot(t.db)).toEqual([]);
  });
});

describe(`0018's cheaper triggers keep what 0016's kept (${BACKEND})`, () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => t?.drop());

  it('swoop_run_hour is the UTC hour of every instant, whatever the session time zone', async () => {
    // instants before and after date_bin's origin (2000), at and around hour boundaries,
    // years 1 and 9999, read in a session whose time zone is 5:30 and 5:45 off UTC
    const wrong = await t.db.transaction(async (tx) => {
      const out: unknown[] = [];
      for (const zone of ['Asia/Kolkata', 'Asia/Kathmandu', 'America/St_Johns']) {
        await tx.exec(`SET LOCAL TIME ZONE '${zone}'`);
        out.push(...await tx.query(
          `SELECT t::text, swoop_run_hour(t)::text AS got, (date_trunc('hour', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::text AS want
           FROM (SELECT timestamptz '2000-01-01 00:00:00+00' + g * interval '1 second' * 7919 * 131 AS t FROM generate_series(-4000, 4000) g
                 UNION ALL SELECT unnest(ARRAY['0001-01-01 00:00:00+00', '0001-01-01 00:59:59.999999+00', '1999-12-31 23:59:59.999999+00',
                                               '2000-01-01 00:00:00+00', '2024-03-31 01:30:00+05:30', '9999-12-31 23:59:59.999999+00',
                                               '2026-12-06 23:00:00+00', '2026-12-06 22:59:59.999999+00']::timestamptz[])) x
           WHERE swoop_run_hour(t) IS DISTINCT FROM date_trunc('hour', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`));
      }
      return out;
    });
    expect(wrong).toEqual([]);
  });

  it('a payload id naming a collection twice gives its finished run one row per collection, and counts it once', async () => {
    // one run inserted final (the insert trigger), one claimed and then finished (the update trigger)
    await t.db.query(`SELECT swoop_lock_payload('b/a/b/workflow-twice/item-0', 'twice', 's3://in/0')`);
    await t.db.query(`INSERT INTO runs (run, workflow, payload_id, state, claim, claim_reason, claim_owner, finished_at)
                      VALUES ('twice-0', 'twice', 'b/a/b/workflow-twice/item-0', 'FAILED', 'claimed', 'new payload', 'twice-0', now())`);
    await t.db.query(`SELECT swoop_claim('a/b/a/workflow-twice/item-1', 'twice', 'twice-1', 's3://in/1', false)`);
    await t.db.query(`UPDATE runs SET state = 'RUNNING' WHERE run = 'twice-1'`);
    await t.db.query(`UPDATE runs SET state = 'SUCCESSFUL', finished_at = now() WHERE run = 'twice-1'`);
    const rows = await t.db.query<{ run: string; collection: string | null; state: string }>(
      `SELECT run, collection, state::text AS state FROM finished_runs WHERE workflow = 'twice' ORDER BY run, collection NULLS FIRST`);
    expect(rows).toEqual([
      { run: 'twice-0', collection: null, state: 'FAILED' }, { run: 'twice-0', collection: 'a', state: 'FAILED' }, { run: 'twice-0', collection: 'b', state: 'FAILED' },
      { run: 'twice-1', collection: null, state: 'SUCCESSFUL' }, { run: 'twice-1', collection: 'a', state: 'SUCCESSFUL' }, { run: 'twice-1', collection: 'b', state: 'SUCCESSFUL' },
    ]);
    for (const collection of [undefined, 'a', 'b']) {
      const counts = await countRuns(t.db, { workflows: ['twice'], ...(collection ? { collection } : {}) });
      expect(counts).toMatchObject({ FAILED: 1, SUCCESSFUL: 1, RUNNING: 0, QUEUED: 0 });
    }
  });
});

describe.skipIf(!HAVE_POSTGRES)(`the service's statements are never JIT-compiled (${BACKEND})`, () => {
  let t: TestDb;
  afterAll(async () => t?.drop());

  it('a status list planned over a large pending delta table runs without JIT (the dashboard overview\'s p99 outliers)', async () => {
    t = await createTestDb();
    const failures = statusListQuery({ states: ['FAILED', 'TIMED_OUT', 'INVALID'], since: hoursAgo(23) }, { limit: 25 });
    const jitIn = (plan: { 'QUERY PLAN': string }[]) => plan.some((r) => /^JIT:/.test(r['QUERY PLAN'].trim()));
    const [available] = await t.db.query<{ on: boolean }>('SELECT pg_jit_available() AS on');
    await t.db.transaction(async (tx) => {
      // pending deltas the roll-up has not moved yet: the planner estimates every list and count from their size
      await tx.exec(`INSERT INTO run_count_changes (hour, workflow, collection, state, n)
                     SELECT swoop_run_hour(now()), 'wf-' || (g % 50), NULL, 'FAILED', 1 FROM generate_series(1, 200000) g`);
      expect(jitIn(await tx.query(`EXPLAIN (ANALYZE, COSTS OFF) ${failures.sql}`, failures.params))).toBe(false);
      // the same statement on a session with PostgreSQL's default would be compiled, so the check above can fail
      await tx.exec('SET LOCAL jit = on');
      expect(jitIn(await tx.query(`EXPLAIN (ANALYZE, COSTS OFF) ${failures.sql}`, failures.params))).toBe(available!.on);
    });
  });
});
