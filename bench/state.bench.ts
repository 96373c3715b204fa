/**
 * `npm run bench:state`: throughput and latency of the state service against the real
 * PostgreSQL, next to a raw-INSERT ceiling measured in the same run, and payload lookup
 * latency with 1,000,000 history rows stored. Creates and drops its own database.
 *
 * Ceiling: the same number of concurrent `pg` connections each committing one
 * single-row INSERT of an event-sized row per event -- one durable write per event, the
 * least any recorder must do. The events are what production sends: each run was claimed
 * first (outside the timing, as ingress does), then reports running (with its deadline) and
 * completed (writing its run.finished notification). The service answers an event once it is in the journal and
 * applies it in the background (payload, run, history, the monotonic rules: 0008), so an
 * event counts as recorded only when applied: each level lasts until the journal is
 * empty, and the runs are then checked to be exactly in the states their events imply.
 * Both paths warm up first.
 *
 * The history is loaded (1,000,000 rows, then ANALYZE) before anything is measured, so
 * recording runs against a database of realistic size with statistics, as in production
 * (autovacuum analyzes there; a fresh empty database would leave each connection with
 * plans made for empty tables). The service starts after the load, so its connections
 * plan against that.
 *
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow CREATE DATABASE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { Pool as HttpPool } from 'undici';
import { openDb } from '../state/db';
import { migrate } from '../state/migrate';

const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const LEVELS = [1, 8, 32];
const SECONDS_PER_LEVEL = Number(process.env.BENCH_SECONDS ?? 5);
const HISTORY_ROWS = 1_000_000;
const LOOKUPS = 2_000;
const RATIO_TARGET = 0.5;
const LOOKUP_P99_TARGET_MS = 10;
const WARMUP_SECONDS = 3;
/** Runs claimed before each level (more than one reaches: ~12,000 events/s x 5 s / 2 at most). */
const CLAIMS_PER_LEVEL = 40_000;
const WRITER = 'bench-writer';
const READER = 'bench-reader';

interface Result {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
  readonly seconds: number;
  /** operations each client completed */
  readonly perClient: readonly number[];
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

/** Runs `clients` loops of `op` for the configured time; latencies in ms. */
async function drive(clients: number, op: (client: number, i: number) => Promise<void>): Promise<Result> {
  const latencies: number[] = [];
  const end = performance.now() + SECONDS_PER_LEVEL * 1000;
  const start = performance.now();
  const perClient = await Promise.all(Array.from({ length: clients }, async (_, c) => {
    let i = 0;
    for (; performance.now() < end; i++) {
      const t0 = performance.now();
      await op(c, i);
      latencies.push(performance.now() - t0);
    }
    return i;
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length, seconds, perClient };
}

// undici, Node's own fastest HTTP client, as the load generator: it shares the two cores
// with the service and PostgreSQL, so a leaner generator distorts the ratio less (the pg
// client drives the ceiling the same way). Argo's hooks, the real callers, are Go.
async function send(pool: HttpPool, method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<void> {
  const res = await pool.request({
    path, method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.body.dump();
  const expected = method === 'POST' ? 202 : 200;
  if (res.statusCode !== expected) throw new Error(`${method} ${path}: HTTP ${res.statusCode}`);
}

/** The service as its own process (as deployed), so client and server do not share a CPU thread. */
async function startService(databaseUrl: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'state', 'serve.ts')], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', STATE_WRITE_TOKEN: WRITER,
      STATE_READ_TOKEN: READER, DATABASE_MAX_CONNECTIONS: '32', LOG_LEVEL: 'warn', LIFECYCLE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`state service exited with ${code}: ${out}`)));
  });
  return { port, child };
}

/**
 * Each bench run reports running, then completed: the lifecycle hooks' two bodies
 * (constructs/lifecycle.ts), the running one with the workflow's deadline, as every
 * synthesized workflow has one.
 */
function event(run: string, done: boolean) {
  return {
    type: done ? 'completed' : 'running', workflow: 'bench', run, uid: run, payloadId: `sentinel-2-l2a/workflow-bench/${run}`, parentRun: '',
    phase: done ? 'Succeeded' : 'Running', startedAt: '2024-05-01T12:00:00Z', finishedAt: done ? '2024-05-01T12:05:00Z' : '',
    message: '', failures: '', input: `s3://bench/${run}.json`, output: done ? `s3://bench/${run}.out.json` : '',
    ...(done ? {} : { deadlineSeconds: 21_600 }),
  };
}

/** CPU seconds a process has used (Linux /proc: utime + stime at 100 ticks/s); undefined elsewhere. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds of each PostgreSQL process (backends, WAL writer, checkpointer, ...) by pid. */
function postgresCpu(): Map<number, number> | undefined {
  let dirs: string[];
  try {
    dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  const byPid = new Map<number, number>();
  for (const d of dirs) {
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') byPid.set(Number(d), cpuSeconds(Number(d)) ?? 0);
    } catch {
      // the process ended meanwhile
    }
  }
  return byPid;
}

/** CPU PostgreSQL used between two readings: processes that ended in between are not counted. */
function postgresCpuBetween(start: Map<number, number>, end: Map<number, number>): number {
  let total = 0;
  for (const [pid, sec] of end) total += sec - (start.get(pid) ?? 0);
  return total;
}

/** Where the CPU of a measured stretch went: load generator, service, PostgreSQL. */
function cpuMeter(servicePid: number) {
  const read = () => ({ gen: process.cpuUsage(), svc: cpuSeconds(servicePid), pg: postgresCpu(), at: performance.now() });
  const start = read();
  return (events: number) => {
    const end = read();
    const gen = (end.gen.user + end.gen.system - start.gen.user - start.gen.system) / 1e6;
    if (end.svc === undefined || start.svc === undefined || end.pg === undefined || start.pg === undefined) return 'n/a (needs Linux /proc)';
    const svc = end.svc - start.svc;
    const pg = postgresCpuBetween(start.pg, end.pg);
    const us = (sec: number) => ((sec * 1e6) / events).toFixed(0).padStart(4);
    const idle = 1 - (gen + svc + pg) / (((end.at - start.at) / 1000) * cpus().length);
    return `${us(gen)} | ${us(svc)}    | ${us(pg)}       | ${(Math.max(0, idle) * 100).toFixed(0).padStart(3)}%`;
  };
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(8);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

async function main(): Promise<void> {
  const dbName = `swoop_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const benchUrl = url.toString();
  let service: { port: number; child: ChildProcess } | undefined;
  const startedAt = performance.now();
  try {
    const db = await openDb({ url: benchUrl, statementTimeoutMs: 0, maxConnections: 4 });
    await migrate(db);
    await db.exec(`CREATE TABLE raw_events (run text NOT NULL, state text NOT NULL, payload_id text, message text,
                                            recorded_at timestamptz NOT NULL DEFAULT now())`);
    console.log(`swoop state benchmark on ${url.host}/${dbName}, ${SECONDS_PER_LEVEL}s per level\n`);

    console.log(`loading ${HISTORY_ROWS.toLocaleString('en')} history rows (generate_series)...`);
    const runs = HISTORY_ROWS / 4;
    const t0 = performance.now();
    await db.exec(`
      SELECT swoop_ensure_event_partitions(now() - interval '3 months', 4);
      INSERT INTO payloads (payload_id, hash, workflow, collections, item_ids, input)
        SELECT id, encode(sha256(convert_to(id, 'UTF8')), 'hex'), 'bench', ARRAY['sentinel-2-l2a'], ARRAY['item-' || g], 's3://bench/' || g
        FROM generate_series(1, ${runs}) g, LATERAL (SELECT 'sentinel-2-l2a/workflow-bench/item-' || g AS id) i;
      INSERT INTO runs (run, workflow, payload_id, attempt, state, claim, claim_reason, claim_owner, input, output, error,
                        created_at, started_at, finished_at, updated_at)
        SELECT 'bench-' || g, 'bench', 'sentinel-2-l2a/workflow-bench/item-' || g, 1,
               (CASE WHEN g % 10 = 0 THEN 'FAILED' ELSE 'SUCCESSFUL' END)::run_state, 'claimed', 'new payload', 'bench-' || g,
               's3://bench/' || g, 's3://bench/out/' || g, CASE WHEN g % 10 = 0 THEN 'boom' END,
               t, t, t + interval '5 minutes', t + interval '5 minutes'
        FROM generate_series(1, ${runs}) g, LATERAL (SELECT now() - (g % 80) * interval '1 day' - g * interval '1 millisecond' AS t) c;
      INSERT INTO run_events (run, run_created_at, state, applied, source, payload_id, occurred_at, recorded_at, message)
        SELECT r.run, r.created_at, s.state, true, 'bench', r.payload_id, r.created_at + s.n * interval '1 minute',
               r.created_at + s.n * interval '1 minute', NULL
        FROM runs r
        CROSS JOIN LATERAL (VALUES ('PENDING'::run_state, 0), ('QUEUED', 1), ('RUNNING', 2), (r.state, 3)) s(state, n)
        WHERE r.run LIKE 'bench-%';
      ANALYZE;`);
    const [count] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM run_events`);
    console.log(`loaded in ${((performance.now() - t0) / 1000).toFixed(1)}s; run_events holds ${count!.n.toLocaleString('en')} rows\n`);

    service = await startService(benchUrl);
    // Both paths warm up first (JIT, prepared statements, connections), as any load test
    // does: a fresh process runs its first seconds several times slower.
    {
      const pool = new Pool({ connectionString: benchUrl, max: 8 });
      const http = new HttpPool(`http://127.0.0.1:${service.port}`, { connections: 8 });
      const end = performance.now() + WARMUP_SECONDS * 1000;
      await Promise.all(Array.from({ length: 8 }, async (_, c) => {
        for (let i = 0; performance.now() < end; i++) {
          await pool.query('INSERT INTO raw_events (run, state, payload_id, message) VALUES ($1, $2, $3, $4)', [`warm-${c}-${i}`, 'RUNNING', null, null]);
          await send(http, 'POST', '/events', WRITER, event(`warm-${c}-${i >> 1}`, i % 2 === 1));
        }
      }));
      await Promise.all([pool.end(), http.close()]);
    }
    console.log(`recording: service events/s over raw-INSERT ceiling rows/s, same clients (target ratio >= ${RATIO_TARGET})`);
    console.log('clients | raw INSERT/s | service events/s | ratio     | service p50 ms | p99 ms | raw p50 ms | p99 ms');
    const verdicts: boolean[] = [];
    const cpuLines: string[] = [];
    for (const clients of LEVELS) {
      const pool = new Pool({ connectionString: benchUrl, max: clients });
      const raw = await drive(clients, async (c, i) => {
        await pool.query('INSERT INTO raw_events (run, state, payload_id, message) VALUES ($1, $2, $3, $4)',
          [`raw-${clients}-${c}-${i}`, 'RUNNING', `sentinel-2-l2a/workflow-bench/raw-${c}-${i}`, null]);
      });
      await pool.end();
      // As in production, ingress claimed every run before its workflow started, so the
      // running event updates a QUEUED run and the completion writes the run's notification.
      // Claimed here, before the timing, more runs than a level reaches.
      const claimsPerClient = Math.ceil(CLAIMS_PER_LEVEL / clients);
      await db.query(
        `SELECT count(*) FROM generate_series(0, $1::int - 1) c, generate_series(0, $2::int - 1) n,
                LATERAL (SELECT 'svc-' || $1::int || '-' || c || '-' || n AS run) r,
                LATERAL swoop_claim('sentinel-2-l2a/workflow-bench/' || r.run, 'bench', r.run, 's3://bench/' || r.run || '.json', false)`,
        [clients, claimsPerClient]);
      const http = new HttpPool(`http://127.0.0.1:${service.port}`, { connections: clients });
      const meter = cpuMeter(service.child.pid!);
      const svc = await drive(clients, (c, i) => send(http, 'POST', '/events', WRITER, event(`svc-${clients}-${c}-${i >> 1}`, i % 2 === 1)));
      await http.close();
      // An event counts once it is applied, not when it is acknowledged: the level lasts
      // until the journal is empty, and every run must then be in its expected state.
      const drainStart = performance.now();
      while ((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM event_journal'))[0]!.n > 0) {
        await new Promise((r) => setTimeout(r, 2));
      }
      const drainSeconds = (performance.now() - drainStart) / 1000;
      cpuLines.push(`${String(clients).padStart(7)} | ${meter(svc.count)}`);
      const recordedPerSecond = svc.count / (svc.seconds + drainSeconds);
      if (svc.perClient.some((n) => Math.ceil(n / 2) > claimsPerClient)) {
        throw new Error(`${clients} clients: a client reached more runs than were claimed for it (${claimsPerClient}); raise CLAIMS_PER_LEVEL`);
      }
      const expected = { successful: 0, running: 0, queued: clients * claimsPerClient, notified: 0, other: 0, rejects: 0 };
      for (const n of svc.perClient) {
        expected.successful += Math.floor(n / 2);
        expected.running += n % 2;
        expected.queued -= Math.ceil(n / 2);
      }
      expected.notified = expected.successful;
      const [got] = await db.query<typeof expected>(
        `SELECT count(*) FILTER (WHERE state = 'SUCCESSFUL')::int AS successful, count(*) FILTER (WHERE state = 'RUNNING')::int AS running,
                count(*) FILTER (WHERE state = 'QUEUED')::int AS queued,
                (SELECT count(*)::int FROM outbox o WHERE o.run LIKE $1) AS notified,
                count(*) FILTER (WHERE state NOT IN ('SUCCESSFUL', 'RUNNING', 'QUEUED'))::int AS other,
                (SELECT count(*)::int FROM event_journal_rejects) AS rejects
         FROM runs WHERE run LIKE $1`, [`svc-${clients}-%`]);
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        throw new Error(`${clients} clients: recorded ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
      }
      const ratio = recordedPerSecond / raw.perSecond;
      verdicts.push(ratio >= RATIO_TARGET);
      console.log(`${String(clients).padStart(7)} | ${fmt(raw.perSecond)}     | ${fmt(recordedPerSecond)}         | ${ratio.toFixed(2)} ${verdict(ratio >= RATIO_TARGET)} | ${fmt(svc.p50, 2)}       | ${fmt(svc.p99, 2)} | ${fmt(raw.p50, 2)}   | ${fmt(raw.p99, 2)}`);
    }

    // Apart from the load generator, all of it is recording: acknowledging (HTTP, journal
    // INSERT and commit) and applying. Idle is time the cores waited (commits, round trips).
    console.log(`\nCPU per recorded event through the service, us (the load generator's includes its HTTP client; PostgreSQL is all its processes):`);
    console.log('clients | load gen | service | PostgreSQL | idle of the cores');
    for (const line of cpuLines) console.log(line);

    const http = new HttpPool(`http://127.0.0.1:${service.port}`, { connections: 1 });
    const lookups: number[] = [];
    for (let i = 0; i < LOOKUPS; i++) {
      const g = 1 + ((i * 7919) % runs);
      const t = performance.now();
      await send(http, 'GET', `/payloads/sentinel-2-l2a/workflow-bench/item-${g}`, READER);
      lookups.push(performance.now() - t);
    }
    await http.close();
    lookups.sort((a, b) => a - b);
    const lookupP99 = percentile(lookups, 99);
    console.log(`payload lookup through the service (${LOOKUPS} lookups, 1 client): p50 ${percentile(lookups, 50).toFixed(2)} ms, p99 ${lookupP99.toFixed(2)} ms`);
    await db.close();

    const lookupOk = lookupP99 < LOOKUP_P99_TARGET_MS;
    console.log('\ntargets:');
    console.log(`  ${verdict(verdicts.every(Boolean))} recording >= ${RATIO_TARGET} x raw-INSERT ceiling at ${LEVELS.join(', ')} clients (${LEVELS.map((c, i) => `${c}: ${verdict(verdicts[i]!)}`).join(', ')})`);
    console.log(`  ${verdict(lookupOk)} payload lookup p99 < ${LOOKUP_P99_TARGET_MS} ms (${lookupP99.toFixed(2)} ms)`);
    if (!lookupOk || !verdicts.every(Boolean)) process.exitCode = 1;
  } finally {
    service?.child.kill('SIGTERM');
    if (service) await new Promise((r) => service!.child.once('exit', r));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    console.log(`\ndropped ${dbName}; total ${((performance.now() - startedAt) / 1000).toFixed(0)}s`);
  }
}

main().catch((err: Error) => {
  console.error(`bench:state: ${err.stack ?? err.message}`);
  process.exit(1);
});
