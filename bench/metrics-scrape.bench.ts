/**
 * What one /metrics scrape costs the database at production size: `npx tsx
 * bench/metrics-scrape.bench.ts` against DATABASE_URL (a fresh schema, dropped afterwards).
 * Loads RUNS finished runs (default 1,000,000) with their delivered notifications, plus 100
 * undelivered ones and 50 active runs, ANALYZEs, then times SCRAPES (default 50) scrapes of
 * StateMetrics (state/metrics.ts: one bounded query) and prints p50/p99 and the plan.
 * Target: p99 under 50 ms, so a 30 s scrape interval costs well under 1% of a core per replica.
 */
import { randomBytes } from 'node:crypto';
import { openDb, quoteIdent } from '../state/db';
import { StateMetrics } from '../state/metrics';
import { migrate } from '../state/migrate';

const RUNS = Number(process.env.RUNS ?? 1_000_000);
const SCRAPES = Number(process.env.SCRAPES ?? 50);
const TARGET_P99_MS = 50;

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL (a PostgreSQL server; the bench makes and drops its own schema)');
  const schema = `swoop_bench_${randomBytes(4).toString('hex')}`;
  const db = await openDb({ url, schema, maxConnections: 2, statementTimeoutMs: 600_000 });
  try {
    await migrate(db);
    const t0 = Date.now();
    // Claimed, finished runs: the statement-level trigger writes each one's notification.
    await db.query(`INSERT INTO runs (run, workflow, state, claim, created_at, started_at, finished_at, updated_at)
      SELECT 'run-' || n, 'wf-' || (n % 20), 'SUCCESSFUL', 'claimed', t, t, t + interval '1 minute', t + interval '1 minute'
      FROM generate_series(1, $1::int) n, LATERAL (SELECT now() - (n || ' seconds')::interval AS t) x`, [RUNS]);
    await db.query(`UPDATE outbox SET delivered_at = now(), attempts = 1 WHERE id > 100`);
    await db.query(`INSERT INTO runs (run, workflow, state, claim, created_at, updated_at)
      SELECT 'active-' || n, 'wf-1', 'RUNNING', 'claimed', now(), now() FROM generate_series(1, 50) n`);
    await db.exec('ANALYZE');
    console.log(`loaded ${RUNS} runs and their notifications in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    const metrics = new StateMetrics({ db, processMetrics: false });
    await metrics.refresh();
    const times: number[] = [];
    for (let i = 0; i < SCRAPES; i++) {
      const start = process.hrtime.bigint();
      await metrics.refresh();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
    const text = await metrics.registry.metrics();
    for (const line of text.split('\n').filter((l) => /^swoop_state_(outbox_pending|runs_active|journal_pending|database_up) /.test(l))) console.log(`  ${line}`);
    const p99 = at(0.99);
    console.log(`scrape query over ${RUNS} runs: p50 ${at(0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (target < ${TARGET_P99_MS} ms: ${p99 < TARGET_P99_MS ? 'PASS' : 'FAIL'})`);
    if (p99 >= TARGET_P99_MS) process.exitCode = 1;
  } finally {
    await db.exec(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`).catch(() => undefined);
    await db.close();
  }
}

main().catch((err: Error) => {
  console.error(`metrics-scrape bench: ${err.message}`);
  process.exit(1);
});
