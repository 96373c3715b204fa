/**
 * Every SQL statement the dashboard runs, in one place, so each view's cost is reviewed
 * (and benchmarked: bench/state.bench.ts) here, and moving the counts onto the per-hour
 * rollups (docs/state.md, "Status-filtered lists and counts") is a change to `overview`
 * alone. Reads catch up with the journal first, as the API's do, so a page never misses an
 * acknowledged event. Every value is a bind parameter.
 */
import type { Db } from '../db';
import { catchUp } from '../journal';
import { FINAL_STATES } from '../run-counts';
import type { RunState } from '../states';
import type { PayloadView, RunView, StateStore } from '../store';

// timestamps leave SQL as RFC 3339 text (UTC, microseconds), as in state/store.ts
const TS = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** States a run ends in when something went wrong: what "failures" lists. */
export const FAILED_STATES: readonly RunState[] = ['FAILED', 'TIMED_OUT', 'INVALID'];

/** Runs of one workflow, hour and state (the hour of the run's creation, UTC). */
export interface OverviewCell {
  readonly workflow: string;
  /** start of the hour, `YYYY-MM-DDTHH:00:00Z` */
  readonly hour: string;
  readonly state: RunState;
  readonly n: number;
}

export interface SearchHit {
  /** what matched: the payload id (or its hash), a run name, an item id, a collection */
  readonly match: 'payload' | 'run' | 'item' | 'collection';
  readonly payloadId: string;
  readonly workflow: string;
  readonly collections: string[];
  readonly itemIds: string[];
  readonly createdAt: string;
  /** the latest claimed run's state; null when none claimed it */
  readonly state: RunState | null;
}

export interface Notification {
  readonly run: string;
  readonly state: RunState;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
  /** the rest of the cirrus process array, handed to the next workflow */
  readonly next: unknown[];
}

export interface CallbackTaskRow {
  readonly run: string;
  readonly step: string;
  readonly state: string;
  readonly createdAt: string;
  readonly answeredAt: string | null;
  readonly appliedAt: string | null;
  readonly error: string | null;
  readonly cause: string | null;
  readonly applyError: string | null;
}

/** A run on the other end of a chain link: the run that started one of ours, or one ours started. */
export interface LinkedRun {
  readonly run: string;
  readonly workflow: string;
  readonly payloadId: string | null;
  readonly parentRun: string | null;
  readonly state: RunState;
  readonly createdAt: string;
}

export interface PayloadTimeline {
  readonly payload: PayloadView;
  readonly notifications: Notification[];
  readonly callbackTasks: CallbackTaskRow[];
  /** runs that started this payload's runs (chain parents) */
  readonly parents: LinkedRun[];
  /** runs this payload's runs started (chain children) */
  readonly children: LinkedRun[];
}

const MAX_HITS = 50;

export class DashboardQueries {
  constructor(private readonly db: Db, private readonly store: StateStore) {}

  /**
   * Runs created since `since` (a whole hour), by workflow, hour and state, from the hourly
   * rollups the applier keeps (run_counts_by_hour plus the deltas not rolled up yet,
   * run_count_changes, summed in one statement so the numbers are exact at its snapshot:
   * state/run-counts.ts, docs/state.md); collection NULL rows count every run once. The
   * counts table and the per-hour chart both come from it, so they always agree.
   */
  async overview(since: string, workflow?: string): Promise<OverviewCell[]> {
    await catchUp(this.db);
    const params: unknown[] = [since];
    const where = [`c.collection IS NULL`, `c.hour >= $1::timestamptz`];
    if (workflow !== undefined) {
      params.push(workflow);
      where.push('c.workflow = $2');
    }
    return this.db.query<OverviewCell>(
      `SELECT c.workflow, to_char(c.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00:00Z"') AS hour, c.state::text AS state, sum(c.n)::int AS n
       FROM (SELECT c.hour, c.workflow, c.state, c.n FROM run_counts_by_hour c WHERE ${where.join(' AND ')}
             UNION ALL
             SELECT c.hour, c.workflow, c.state, c.n FROM run_count_changes c WHERE ${where.join(' AND ')}) c
       GROUP BY 1, 2, 3
       HAVING sum(c.n) <> 0`,
      params,
    );
  }

  /**
   * The newest failed runs created since `since`: the API's status-filtered list
   * (`store.runs`, what `/runs?state=FAILED,TIMED_OUT,INVALID` answers), so it reads whatever
   * serves those lists fastest (docs/state.md).
   */
  async failures(since: string, workflow: string | undefined, limit: number): Promise<RunView[]> {
    const page = await this.store.runs({ states: FAILED_STATES, since, ...(workflow !== undefined ? { workflows: [workflow] } : {}) }, { limit });
    return page.runs;
  }

  /** Workflows some run was recorded for (a skip scan: state/store.ts). */
  workflows(): Promise<string[]> {
    return this.store.workflows();
  }

  /**
   * Payloads matching `q` as a payload id or its hash, a run name, an item id (newest
   * first, at most 50), or a collection (the payloads of its 50 newest finished runs):
   * primary keys, payloads_item_ids (0015), finished_runs_by_collection (0016). Neither array
   * lookup may walk payloads by time: the statistics of an array column cannot tell a rare
   * or absent value, so the planner walked payloads_by_time hoping to meet 50 matches soon
   * (6.6 s at 1,000,000 payloads for an item id). The item lookup is fenced (OFFSET 0) to be
   * planned alone, as the GIN probe it is; a collection reads one bounded index range per
   * final state.
   */
  async search(q: string): Promise<SearchHit[]> {
    await catchUp(this.db);
    const columns = `p.payload_id AS "payloadId", p.workflow, p.collections, p.item_ids AS "itemIds", ${TS('p.created_at')} AS "createdAt",
      (SELECT r.state::text FROM runs r WHERE r.payload_id = p.payload_id AND r.claim = 'claimed' ORDER BY r.attempt DESC LIMIT 1) AS state`;
    return this.db.query<SearchHit>(
      `(SELECT 'payload' AS match, ${columns} FROM payloads p WHERE p.payload_id = $1 OR p.hash = $1)
       UNION ALL
       (SELECT 'run' AS match, ${columns} FROM runs x JOIN payloads p ON p.payload_id = x.payload_id WHERE x.run = $1)
       UNION ALL
       (SELECT 'item' AS match, ${columns} FROM (SELECT * FROM payloads WHERE item_ids @> ARRAY[$1::text] OFFSET 0) p
        ORDER BY p.created_at DESC LIMIT ${MAX_HITS})
       UNION ALL
       (SELECT 'collection' AS match, ${columns} FROM payloads p
        WHERE p.payload_id IN (
          SELECT r.payload_id FROM runs r WHERE r.run IN (
            SELECT f.run FROM unnest($2::text[]) s(state)
            CROSS JOIN LATERAL (SELECT f.run, f.created_at FROM finished_runs f
                                WHERE f.collection = $1 AND f.state = s.state::run_state
                                ORDER BY f.created_at DESC, f.run DESC LIMIT ${MAX_HITS}) f
            ORDER BY f.created_at DESC, f.run DESC LIMIT ${MAX_HITS}))
        ORDER BY p.created_at DESC LIMIT ${MAX_HITS})`,
      [q, FINAL_STATES],
    );
  }

  /** The payload of a run, for links that name a run (a failure without a payload shows the run alone). */
  async payloadOfRun(run: string): Promise<string | null | undefined> {
    await catchUp(this.db);
    const [row] = await this.db.query<{ p: string | null }>('SELECT payload_id AS p FROM runs WHERE run = $1', [run]);
    return row === undefined ? undefined : row.p;
  }

  /**
   * Everything that happened to a payload: its runs and their history (state/store.ts, one
   * query), then, keyed by those runs, their notifications (outbox.run is unique),
   * wait-for-callback tasks (by uid: callback_tasks' (uid, step) key) and chain links
   * (runs_by_parent, and the parents by primary key).
   */
  async timeline(payloadId: string): Promise<PayloadTimeline | undefined> {
    const payload = await this.store.payload(payloadId);
    if (!payload) return undefined;
    const runs = payload.runs.map((r) => r.run);
    const uids = payload.runs.flatMap((r) => (r.uid ? [r.uid] : []));
    const parentRuns = [...new Set(payload.runs.flatMap((r) => (r.parentRun ? [r.parentRun] : [])))];
    const linked = `r.run, r.workflow, r.payload_id AS "payloadId", r.parent_run AS "parentRun", r.state::text AS state, ${TS('r.created_at')} AS "createdAt"`;
    const [notifications, callbackTasks, parents, children] = await Promise.all([
      this.db.query<Notification>(
        `SELECT o.run, o.body->>'state' AS state, ${TS('o.created_at')} AS "createdAt", ${TS('o.delivered_at')} AS "deliveredAt",
                o.attempts, o.last_error AS "lastError", coalesce(o.body->'next', '[]'::jsonb) AS next
         FROM outbox o WHERE o.run = ANY($1::text[]) ORDER BY o.created_at`, [runs]),
      this.db.query<CallbackTaskRow>(
        `SELECT c.run, c.step, c.state, ${TS('c.created_at')} AS "createdAt", ${TS('c.answered_at')} AS "answeredAt",
                ${TS('c.applied_at')} AS "appliedAt", c.error, c.cause, c.apply_error AS "applyError"
         FROM callback_tasks c WHERE c.uid = ANY($1::text[]) AND c.run = ANY($2::text[]) ORDER BY c.created_at`, [uids, runs]),
      this.db.query<LinkedRun>(`SELECT ${linked} FROM runs r WHERE r.run = ANY($1::text[]) ORDER BY r.created_at`, [parentRuns]),
      this.db.query<LinkedRun>(
        `SELECT ${linked} FROM runs r WHERE r.parent_run = ANY($1::text[]) ORDER BY r.created_at, r.run LIMIT 200`, [runs]),
    ]);
    return { payload, notifications, callbackTasks, parents, children };
  }
}
