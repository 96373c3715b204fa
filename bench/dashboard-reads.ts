/**
 * The dashboard's views at a million runs, for bench/state.bench.ts: tops the bench's runs
 * up to 1,000,000 (the extra ones without history, a tenth of them chained from the bench's
 * runs, spread over the same 80 days), then times each view's page through the service,
 * one client, every query of the view plus rendering. Target: p99 under 50 ms (issue 14).
 */
import type { Db } from '../state/db';

export const DASHBOARD_RUNS = 1_000_000;
export const DASHBOARD_P99_TARGET_MS = 50;
/** Enough reads that the p99 is not the single slowest one (of 100, it is). */
const READS = 500;

/** The views as an operator opens them; ids name rows the bench loaded. */
export function dashboardPaths(): [string, string][] {
  const id = (g: number) => encodeURIComponent(`sentinel-2-l2a/workflow-bench/item-${g}`);
  return [
    ['overview, 24 hours', '/dashboard'],
    ['overview, 7 days', '/dashboard?window=7d'],
    ['overview, 7 days, one workflow', '/dashboard?window=7d&workflow=bench'],
    ['search by item id', '/dashboard/search?q=item-123457'],
    ['search by collection', '/dashboard/search?q=landsat-c2-l2'],
    ['payload timeline with a chain link', `/dashboard/payload?id=${id(1234)}`],
  ];
}

/** Adds runs (and their payloads) until `runs` holds DASHBOARD_RUNS; `have` is how many it holds. */
export async function loadDashboardRuns(db: Db, have: number): Promise<void> {
  const extra = DASHBOARD_RUNS - have;
  if (extra <= 0) return;
  await db.exec(`
    INSERT INTO payloads (payload_id, hash, workflow, collections, item_ids, input, created_at)
      SELECT id, encode(sha256(convert_to(id, 'UTF8')), 'hex'), 'bench-publish', ARRAY['landsat-c2-l2'], ARRAY['lc-item-' || g], 's3://bench/lc/' || g, t
      FROM generate_series(1, ${extra}) g,
           LATERAL (SELECT 'landsat-c2-l2/workflow-bench-publish/lc-item-' || g AS id,
                           now() - (g % 80) * interval '1 day' - g * interval '3 milliseconds' AS t) i;
    INSERT INTO runs (run, workflow, payload_id, attempt, parent_run, state, claim, claim_reason, claim_owner, input, output, error,
                      created_at, started_at, finished_at, updated_at)
      SELECT 'bench-publish-' || g, 'bench-publish', 'landsat-c2-l2/workflow-bench-publish/lc-item-' || g, 1,
             CASE WHEN g % 10 = 4 THEN 'bench-' || (g / 10 * 10 + 4) % ${have} END,
             (CASE WHEN g % 50 = 0 THEN 'FAILED' ELSE 'SUCCESSFUL' END)::run_state, 'claimed', 'new payload', 'bench-publish-' || g,
             's3://bench/lc/' || g, 's3://bench/lc/out/' || g, CASE WHEN g % 50 = 0 THEN 'publish: 503 from the catalog' END,
             t, t, t + interval '2 minutes', t + interval '2 minutes'
      FROM generate_series(1, ${extra}) g,
           LATERAL (SELECT now() - (g % 80) * interval '1 day' - g * interval '3 milliseconds' AS t) c;
    ANALYZE;`);
}

export { READS as DASHBOARD_READS };
