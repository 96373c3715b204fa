/**
 * Status-filtered lists and counts without scanning runs (migration 0016, docs/state.md).
 * Runs carry no index on `state` (it would cost every state change its HOT update), so:
 * - lists of finished runs read `finished_runs`, one ordered index range per (workflow or
 *   collection, state), merged (without either filter: per workflow the rollups know); active states scan runs only back to the oldest hour that
 *   still has an active run (from the counts);
 * - counts sum the rolled-up `run_counts_total` / `run_counts_by_hour` and the deltas not yet
 *   rolled up (`run_count_changes`) in one statement, so they are exact at its snapshot;
 *   the partial hours at the ends of a time window are counted from runs.
 * Every value is a bind parameter; only fixed SQL fragments are concatenated.
 */
import type { Queryable } from './db';
import { RUN_STATES, type RunState } from './states';
import type { Page, RunFilter } from './validate';

export const FINAL_STATES: readonly RunState[] = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID'];
const isFinal = (s: RunState) => FINAL_STATES.includes(s);

/** Counts of every state (zeros included). */
export type StateCounts = Record<RunState, number>;

/** What counts can be filtered by: the rollups' dimensions and the run's creation time. */
export interface CountFilter {
  /** any of these workflows */
  readonly workflows?: readonly string[];
  readonly collection?: string;
  /** created at or after (RFC 3339) */
  readonly since?: string;
  /** created before (RFC 3339) */
  readonly until?: string;
}

/** One hour of run creation (UTC) and how many of its runs are in each state now. */
export interface HourCounts {
  /** the hour's start, RFC 3339 UTC */
  readonly hour: string;
  readonly counts: StateCounts;
}

function zeroCounts(): StateCounts {
  return Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as StateCounts;
}

/** Whether counts of this filter can come from the rollups (payload ids and durations cannot). */
export function countableFilter(f: RunFilter): f is RunFilter & CountFilter {
  return f.payloadId === undefined && f.states === undefined && f.through === undefined
    && f.minDurationSeconds === undefined && f.maxDurationSeconds === undefined;
}

class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Conditions on a rollup table's workflow and collection columns (alias c). */
function dimensions(f: CountFilter, p: Params): string[] {
  const where = [f.collection === undefined ? 'c.collection IS NULL' : `c.collection = ${p.add(f.collection)}`];
  if (f.workflows !== undefined) where.push(`c.workflow = ANY(${p.add(f.workflows)}::text[])`);
  return where;
}

/**
 * Number of runs in every state among those the filter selects: the rolled-up totals, or,
 * with a time window, the whole hours inside it from the hourly rollup and the partial hours
 * at its ends from runs (at most an hour of runs each).
 */
export async function countRuns(db: Queryable, f: CountFilter): Promise<StateCounts> {
  const p = new Params();
  const dims = dimensions(f, p).join(' AND ');
  let sql: string;
  if (f.since === undefined && f.until === undefined) {
    sql = `SELECT c.state::text AS state, sum(c.n)::bigint AS n FROM (
             SELECT c.state, c.n FROM run_counts_total c WHERE ${dims}
             UNION ALL
             SELECT c.state, c.n FROM run_count_changes c WHERE ${dims}) c
           GROUP BY c.state`;
  } else {
    const a = p.add(f.since ?? null);
    const z = p.add(f.until ?? null);
    // ha: the first whole hour at or after the window's start; hz: the hour its end falls in.
    // Whole hours [ha, hz) come from the rollup; [a, ha) and [max(hz, ha), z) from runs.
    const runDims: string[] = [];
    if (f.workflows !== undefined) runDims.push(`r.workflow = ANY(${p.add(f.workflows)}::text[])`);
    if (f.collection !== undefined) {
      runDims.push(`EXISTS (SELECT 1 FROM payloads py WHERE py.payload_id = r.payload_id AND py.collections @> ARRAY[${p.add(f.collection)}::text])`);
    }
    const edge = (lo: string, hi: string) => `SELECT r.state, 1 AS n FROM runs r, w
      WHERE r.created_at >= ${lo} AND r.created_at < ${hi}${runDims.map((d) => ` AND ${d}`).join('')}`;
    sql = `WITH b AS (SELECT ${a}::timestamptz AS a, ${z}::timestamptz AS z),
           w AS (SELECT b.a, b.z,
                        CASE WHEN swoop_run_hour(b.a) = b.a THEN b.a ELSE swoop_run_hour(b.a) + interval '1 hour' END AS ha,
                        swoop_run_hour(b.z) AS hz
                 FROM b)
           SELECT c.state::text AS state, sum(c.n)::bigint AS n FROM (
             SELECT c.state, c.n FROM run_counts_by_hour c, w
             WHERE ${dims} AND (w.a IS NULL OR c.hour >= w.ha) AND (w.z IS NULL OR c.hour < w.hz)
             UNION ALL
             SELECT c.state, c.n FROM run_count_changes c, w
             WHERE ${dims} AND (w.a IS NULL OR c.hour >= w.ha) AND (w.z IS NULL OR c.hour < w.hz)
             UNION ALL
             ${edge('w.a', 'least(w.ha, w.z)')}
             UNION ALL
             ${edge('greatest(w.hz, w.ha)', 'w.z')}) c
           GROUP BY c.state`;
  }
  const rows = await db.query<{ state: RunState; n: string }>(sql, p.values);
  const counts = zeroCounts();
  for (const row of rows) counts[row.state] = Number(row.n);
  return counts;
}

/**
 * Runs per state for every hour of run creation (UTC) that has any, oldest first: the
 * trend behind /counts. Buckets are whole hours: `since` and `until` select the hours that
 * overlap the window (for exact counts of a window that does not start and end on an hour,
 * use countRuns). Rolled-up rows and pending deltas are summed in one statement.
 */
export async function countRunsByHour(db: Queryable, f: CountFilter): Promise<HourCounts[]> {
  const p = new Params();
  const dims = dimensions(f, p);
  if (f.since !== undefined) dims.push(`c.hour >= swoop_run_hour(${p.add(f.since)}::timestamptz)`);
  if (f.until !== undefined) dims.push(`c.hour < ${p.add(f.until)}::timestamptz`);
  const rows = await db.query<{ hour: string; state: RunState; n: string }>(
    `SELECT to_char(c.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS hour, c.state::text AS state, sum(c.n)::bigint AS n
     FROM (SELECT c.hour, c.state, c.n FROM run_counts_by_hour c WHERE ${dims.join(' AND ')}
           UNION ALL
           SELECT c.hour, c.state, c.n FROM run_count_changes c WHERE ${dims.join(' AND ')}) c
     GROUP BY c.hour, c.state
     HAVING sum(c.n) <> 0
     ORDER BY c.hour, c.state`,
    p.values,
  );
  const hours: HourCounts[] = [];
  for (const row of rows) {
    if (hours[hours.length - 1]?.hour !== row.hour) hours.push({ hour: row.hour, counts: zeroCounts() });
    hours[hours.length - 1]!.counts[row.state] = Number(row.n);
  }
  return hours;
}

/**
 * Moves the count deltas recorded since the last call into the rollups (one session at a
 * time: a concurrent call returns 0 at once). Returns how many delta rows it moved.
 */
export async function rollUpRunCounts(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT swoop_roll_up_run_counts() AS n', [], 'swoop_roll_up');
  return row!.n;
}

/** Whether a list can be read from finished_runs and the bounded active scan (a state filter, no payload id). */
export function statusListFilter(f: RunFilter): f is RunFilter & { states: readonly RunState[] } {
  return f.states !== undefined && f.states.length > 0 && f.payloadId === undefined;
}

/**
 * A query for the names of a status-filtered page (newest first, at most limit + 1, so the
 * caller knows whether there is a next page). One ordered
 * index range per (state, and workflow or collection) of finished_runs, each cut at the
 * page size, merged; for active states, runs created since the oldest hour with an active
 * run in them (a run's hour never changes, so no active run is older).
 */
export function statusListQuery(f: RunFilter & { states: readonly RunState[] }, page: Page): { sql: string; params: unknown[] } {
  const p = new Params();
  const limit = p.add(page.limit + 1);
  const finals = f.states.filter(isFinal);
  const actives = f.states.filter((s) => !isFinal(s));
  const parts: string[] = [];
  const cursor = page.cursor ? [p.add(page.cursor.createdAt), p.add(page.cursor.run)] : undefined;
  const time = (col: string) => {
    const where: string[] = [];
    if (f.since !== undefined) where.push(`${col} >= ${p.add(f.since)}::timestamptz`);
    if (f.until !== undefined) where.push(`${col} < ${p.add(f.until)}::timestamptz`);
    if (f.through !== undefined) where.push(`${col} <= ${p.add(f.through)}::timestamptz`);
    return where;
  };
  const duration = (alias: string) => {
    const d = `extract(epoch FROM coalesce(${alias}.finished_at, now()) - coalesce(${alias}.started_at, ${alias}.created_at))`;
    const where: string[] = [];
    if (f.minDurationSeconds !== undefined) where.push(`${d} >= ${p.add(f.minDurationSeconds)}`);
    if (f.maxDurationSeconds !== undefined) where.push(`${d} <= ${p.add(f.maxDurationSeconds)}`);
    return where;
  };
  if (finals.length > 0) {
    const where = time('f.created_at');
    if (cursor) where.push(`(f.created_at, f.run) < (${cursor[0]}::timestamptz, ${cursor[1]})`);
    const durations = duration('r');
    if (durations.length > 0) where.push(`EXISTS (SELECT 1 FROM runs r WHERE r.run = f.run AND ${durations.join(' AND ')})`);
    let from: string;
    if (f.collection !== undefined) {
      // The collection's index; a workflow filter rides along (collections rarely span many workflows).
      from = `unnest(${p.add(finals)}::text[]::run_state[]) k(state)`;
      where.push(`f.collection = ${p.add(f.collection)}`, 'f.state = k.state');
      if (f.workflows !== undefined) where.push(`f.workflow = ANY(${p.add(f.workflows)}::text[])`);
    } else if (f.workflows !== undefined) {
      from = `unnest(${p.add(finals)}::text[]::run_state[]) k(state) CROSS JOIN unnest(${p.add(f.workflows)}::text[]) wf(workflow)`;
      where.push('f.collection IS NULL', 'f.workflow = wf.workflow', 'f.state = k.state');
    } else {
      // every workflow with counted runs (the rollups are small): one range per workflow and state
      from = `unnest(${p.add(finals)}::text[]::run_state[]) k(state)
        CROSS JOIN (SELECT c.workflow FROM run_counts_total c WHERE c.collection IS NULL
                    UNION SELECT c.workflow FROM run_count_changes c WHERE c.collection IS NULL) wf`;
      where.push('f.collection IS NULL', 'f.workflow = wf.workflow', 'f.state = k.state');
    }
    parts.push(`SELECT x.run, x.created_at FROM ${from}
      CROSS JOIN LATERAL (SELECT f.run, f.created_at FROM finished_runs f WHERE ${where.join(' AND ')}
                          ORDER BY f.created_at DESC, f.run DESC LIMIT ${limit}) x`);
  }
  if (actives.length > 0) {
    const states = p.add(actives);
    const where = [`r.state = ANY(${states}::text[]::run_state[])`, ...time('r.created_at'), ...duration('r'),
      // no active run is older than the oldest hour counting one (its row is removed at 0)
      `r.created_at >= (SELECT min(c.hour) FROM (
         SELECT min(h.hour) AS hour FROM run_counts_by_hour h
         WHERE h.state IN ('PENDING', 'QUEUED', 'RUNNING') AND h.collection IS NULL AND h.state = ANY(${states}::text[]::run_state[])
         UNION ALL
         SELECT min(d.hour) FROM run_count_changes d WHERE d.collection IS NULL AND d.state = ANY(${states}::text[]::run_state[])) c)`];
    if (cursor) where.push(`(r.created_at, r.run) < (${cursor[0]}::timestamptz, ${cursor[1]})`);
    if (f.workflows !== undefined) where.push(`r.workflow = ANY(${p.add(f.workflows)}::text[])`);
    if (f.collection !== undefined) {
      where.push(`EXISTS (SELECT 1 FROM payloads py WHERE py.payload_id = r.payload_id AND py.collections @> ARRAY[${p.add(f.collection)}::text])`);
    }
    parts.push(`(SELECT r.run, r.created_at FROM runs r WHERE ${where.join(' AND ')}
                 ORDER BY r.created_at DESC, r.run DESC LIMIT ${limit})`);
  }
  return { sql: `SELECT u.run FROM (${parts.join(' UNION ALL ')}) u ORDER BY u.created_at DESC, u.run DESC LIMIT ${limit}`, params: p.values };
}
