/**
 * The state store: the service's only access to the database. Lifecycle events are
 * accepted into the journal (group commit) and applied by the JournalApplier; claims are
 * single calls to the SQL functions of the migrations (which hold every correctness rule);
 * reads are parameterized SELECTs shaped for the API. Claims and reads catch up with the
 * journal first, so they never miss an acknowledged event.
 */
import { createHash } from 'node:crypto';
import { Batcher } from './batcher';
import type { Db } from './db';
import { catchUp } from './journal';
import { cirrusPayloadId, derivePayloadId } from './payload-id';
import { missingServicePrivileges } from './roles';
import { type CountFilter, countableFilter, countRuns, countRunsByHour, type HourCounts, statusListFilter, statusListQuery } from './run-counts';
import { type RunState, RUN_STATES, stateOfPhase } from './states';
import { type ClaimRequest, type InvalidEvent, InputError, type LifecycleEvent, type Page, type RunFilter, encodeCursor, payloadIdBytes, textProblem } from './validate';

/** The answer to POST /events: the event is durably stored and will be applied. */
export interface AcceptResult {
  readonly accepted: true;
  /** the run the event is recorded under (derived for INVALID reports without one) */
  readonly run: string;
}

export interface ClaimResult {
  readonly claimed: boolean;
  readonly reason: string;
  /** the run that owns the payload (this run when claimed) */
  readonly run: string;
}

export interface RunView {
  readonly run: string;
  readonly uid: string | null;
  readonly workflow: string;
  readonly payloadId: string | null;
  readonly attempt: number;
  readonly parentRun: string | null;
  readonly state: RunState;
  readonly claim: 'claimed' | 'refused' | null;
  readonly claimReason: string | null;
  readonly input: string | null;
  readonly output: string | null;
  readonly error: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** when Argo would have ended the run (from its running event); null when unknown */
  readonly deadlineAt: string | null;
  readonly updatedAt: string;
}

export interface HistoryEntry {
  readonly run: string;
  readonly state: RunState;
  readonly applied: boolean;
  readonly source: string;
  readonly occurredAt: string | null;
  readonly recordedAt: string;
  readonly message: string | null;
}

export interface PayloadView {
  readonly payloadId: string;
  readonly hash: string;
  readonly workflow: string;
  readonly collections: string[];
  readonly itemIds: string[];
  readonly input: string | null;
  readonly createdAt: string;
  /** state of the latest claimed run; null when no run claimed it yet */
  readonly state: RunState | null;
  readonly runs: RunView[];
  readonly history: HistoryEntry[];
}

export interface JournalStatus {
  /** events accepted and not applied yet */
  readonly pending: number;
  /** when the oldest of them was accepted; null when none is pending */
  readonly oldestAcceptedAt: string | null;
  /** events the recording rules refused (event_journal_rejects); should stay 0 */
  readonly rejected: number;
}

export interface RunPage {
  readonly runs: RunView[];
  /** cursor for the next page; null on the last page */
  readonly next: string | null;
}

const MAX_ERROR_TEXT = 8 * 1024;

// timestamps leave SQL as RFC 3339 text with microseconds: exact, and driver-independent
const TS = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const RUN_COLUMNS = `r.run, r.uid, r.workflow, r.payload_id AS "payloadId", r.attempt,
  r.parent_run AS "parentRun", r.state::text AS state, r.claim, r.claim_reason AS "claimReason",
  r.input, r.output, r.error, ${TS('r.created_at')} AS "createdAt", ${TS('r.started_at')} AS "startedAt",
  ${TS('r.finished_at')} AS "finishedAt", ${TS('r.deadline_at')} AS "deadlineAt", ${TS('r.updated_at')} AS "updatedAt"`;

const HISTORY_COLUMNS = `e.run, e.state::text AS state, e.applied, e.source,
  ${TS('e.occurred_at')} AS "occurredAt", ${TS('e.recorded_at')} AS "recordedAt", e.message`;

/** What a failed workflow's error says: its message, else its failed steps. */
function errorText(message: string, failures: string): string | null {
  let text = message;
  if (text === '' && failures !== '') {
    try {
      // Argo hands `workflow.failures` over as a quoted JSON string inside the JSON body.
      let parsed: unknown = JSON.parse(failures);
      if (typeof parsed === 'string') parsed = JSON.parse(parsed);
      const list = parsed as { displayName?: string; message?: string }[];
      text = Array.isArray(list) ? list.map((f) => `${f.displayName ?? '?'}: ${f.message ?? ''}`).join('; ') : failures;
    } catch {
      text = failures;
    }
  }
  return text === '' ? null : truncateText(text, MAX_ERROR_TEXT);
}

const orNull = (s: string): string | null => (s === '' ? null : s);

/** At most `max` UTF-16 units, never cutting a surrogate pair in half (that would not be storable). */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** A payload id derived from a claim's input (its feature ids, collections) must be storable too. */
function derivedPayloadId(id: string): string {
  const problem = textProblem(id);
  if (problem !== undefined) throw new InputError(400, 'input', `the payload id read from input ${problem}; fix the payload's ids and collections`);
  return payloadIdBytes('input', id);
}

/** An INVALID report is recorded without the payload link when its payload's id cannot be stored. */
function derivedPayloadIdOrNull(id: string | undefined): string | null {
  if (id === undefined) return null;
  try {
    return derivedPayloadId(id);
  } catch {
    return null;
  }
}

/** INVALID reports without a run name get one derived from what identifies them. */
export function invalidRunName(ev: InvalidEvent): string {
  const digest = createHash('sha256').update(`${ev.source}\n${ev.payloadId}\n${ev.workflow}\n${ev.input}`).digest('hex');
  return `invalid-${digest.slice(0, 24)}`;
}

export interface StateStoreOptions {
  /** Most events accepted per transaction. Default: 100. */
  readonly maxBatch?: number;
  /** Most accepting transactions in flight. Default: 4. */
  readonly maxInFlight?: number;
  /** Called with how many events were accepted, once committed (the JournalApplier's nudge). Default: none. */
  readonly onAccepted?: (count: number) => void;
  /** Told of each accepted event and each claim answered (state/metrics.ts). Default: none. */
  readonly observer?: StoreObserver;
}

/** What the metrics count: each event once it is durably accepted, each claim once committed. */
export interface StoreObserver {
  eventAccepted(workflow: string, state: RunState): void;
  claimAnswered(workflow: string, result: ClaimResult): void;
}

/** One event as the journal keeps it and swoop_record_events takes it. */
interface EventRow {
  readonly run: string;
  readonly workflow: string;
  readonly state: RunState;
  readonly source: string;
  readonly uid?: string | null;
  readonly payloadId: string | null;
  readonly parentRun?: string | null;
  readonly input: string | null;
  readonly output?: string | null;
  readonly error: string | null;
  readonly startedAt?: string | null;
  readonly finishedAt?: string | null;
  readonly claim?: string;
  readonly claimReason?: string;
  readonly claimOwner?: string;
  /** running events: sets the run's deadline_at (0007) */
  readonly deadlineSeconds?: number;
}

function toEventRow(ev: LifecycleEvent | InvalidEvent): EventRow {
  if (ev.type === 'invalid') {
    const run = ev.run || invalidRunName(ev);
    const error = [ev.message || 'invalid payload', ev.detail].filter((s) => s !== '').join('\n');
    return {
      run, workflow: ev.workflow, state: 'INVALID', source: ev.source ? `ingress:${ev.source}` : 'ingress',
      payloadId: orNull(ev.payloadId) ?? derivedPayloadIdOrNull(cirrusPayloadId(ev.input, ev.workflow)), input: ev.input,
      error: truncateText(error, MAX_ERROR_TEXT), claim: 'claimed', claimReason: 'invalid at ingress', claimOwner: run,
    };
  }
  const state = stateOfPhase(ev.phase, ev.message, ev.failures);
  return {
    run: ev.run, workflow: ev.workflow, state, source: ev.type, uid: orNull(ev.uid), payloadId: orNull(ev.payloadId),
    parentRun: orNull(ev.parentRun), input: orNull(ev.input), output: orNull(ev.output),
    error: state === 'SUCCESSFUL' ? null : errorText(ev.message, ev.failures),
    startedAt: orNull(ev.startedAt), finishedAt: orNull(ev.finishedAt),
    ...(ev.deadlineSeconds !== null ? { deadlineSeconds: ev.deadlineSeconds } : {}),
  };
}

export class StateStore {
  private readonly batcher: Batcher<EventRow, undefined>;
  private readonly observer?: StoreObserver;

  constructor(readonly db: Db, options: StateStoreOptions = {}) {
    this.observer = options.observer;
    this.batcher = new Batcher({
      ...options,
      run: async (rows) => {
        await db.query(
          `INSERT INTO event_journal (event)
           SELECT e.v FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, n) ORDER BY e.n`,
          [JSON.stringify(rows)],
          'swoop_accept',
        );
        options.onAccepted?.(rows.length);
        return rows.map(() => undefined);
      },
    });
  }

  /** Stores the event durably; the JournalApplier records it moments later. */
  async accept(ev: LifecycleEvent | InvalidEvent): Promise<AcceptResult> {
    const row = toEventRow(ev);
    await this.batcher.submit(row);
    this.observer?.eventAccepted(row.workflow, row.state);
    return { accepted: true, run: row.run };
  }

  async claim(req: ClaimRequest): Promise<ClaimResult> {
    await catchUp(this.db);
    const [row] = await this.db.query<{ claimed: boolean; reason: string; owner: string }>(
      'SELECT claimed, reason, owner FROM swoop_claim($1, $2, $3, $4, $5, $6, $7)',
      [req.payloadId || derivedPayloadId(derivePayloadId(req.input, req.workflow)), req.workflow, req.run, orNull(req.input), req.replace,
        orNull(req.parentRun), orNull(req.uid)],
    );
    const result = { claimed: row!.claimed, reason: row!.reason, run: row!.owner };
    this.observer?.claimAnswered(req.workflow, result);
    return result;
  }

  /** By cirrus payload id, or by its 64-hex-digit hash: one query after the catch-up. */
  async payload(idOrHash: string): Promise<PayloadView | undefined> {
    const byHash = /^[0-9a-f]{64}$/.test(idOrHash);
    await catchUp(this.db);
    const [p] = await this.db.query<Omit<PayloadView, 'state'>>(
      `SELECT p.payload_id AS "payloadId", p.hash, p.workflow, p.collections, p.item_ids AS "itemIds", p.input,
              ${TS('p.created_at')} AS "createdAt",
              (SELECT coalesce(json_agg(x ORDER BY x.attempt DESC), '[]'::json)
               FROM (SELECT ${RUN_COLUMNS} FROM runs r WHERE r.payload_id = p.payload_id) x) AS runs,
              (SELECT coalesce(json_agg(h ORDER BY h."recordedAt", h.run, h.rank), '[]'::json)
               FROM (SELECT ${HISTORY_COLUMNS}, swoop_state_rank(e.state) AS rank
                     FROM runs r JOIN run_events e ON e.run = r.run AND e.run_created_at = r.created_at
                     WHERE r.payload_id = p.payload_id) h) AS history
       FROM payloads p WHERE p.${byHash ? 'hash' : 'payload_id'} = $1`,
      [idOrHash],
    );
    if (!p) return undefined;
    const history = p.history.map(({ rank: _rank, ...h }: HistoryEntry & { rank?: number }) => h);
    const latest = p.runs.find((r) => r.claim === 'claimed');
    return { ...p, history, state: latest?.state ?? null };
  }

  async run(name: string): Promise<(RunView & { history: HistoryEntry[] }) | undefined> {
    await catchUp(this.db);
    const [run] = await this.db.query<RunView>(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.run = $1`, [name]);
    if (!run) return undefined;
    const history = await this.db.query<HistoryEntry>(
      `SELECT ${HISTORY_COLUMNS} FROM run_events e
       WHERE e.run = $1 AND e.run_created_at = $2::timestamptz ORDER BY e.recorded_at, e.state`,
      [name, run.createdAt],
    );
    return { ...run, history };
  }

  async runs(filter: RunFilter, page: Page): Promise<RunPage> {
    await catchUp(this.db);
    if (statusListFilter(filter)) return this.runsByStatus(filter, page);
    const params: unknown[] = [];
    const where = this.where(filter, params);
    if (page.cursor) {
      params.push(page.cursor.createdAt, page.cursor.run);
      where.push(`(r.created_at, r.run) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(page.limit + 1);
    const rows = await this.db.query<RunView>(
      `SELECT ${RUN_COLUMNS} FROM runs r
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY r.created_at DESC, r.run DESC LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > page.limit;
    const runs = rows.slice(0, page.limit);
    const last = runs[runs.length - 1];
    return { runs, next: more && last ? encodeCursor(last.createdAt, last.run) : null };
  }

  /** A status-filtered page: names from finished_runs / the bounded active scan (state/run-counts.ts), then their rows. */
  private async runsByStatus(filter: Parameters<typeof statusListQuery>[0], page: Page): Promise<RunPage> {
    const names = statusListQuery(filter, page);
    const rows = await this.db.query<RunView>(
      `SELECT ${RUN_COLUMNS} FROM (${names.sql}) u JOIN runs r ON r.run = u.run ORDER BY r.created_at DESC, r.run DESC`, names.params);
    const more = rows.length > page.limit;
    const runs = rows.slice(0, page.limit);
    const last = runs[runs.length - 1];
    return { runs, next: more && last ? encodeCursor(last.createdAt, last.run) : null };
  }

  /**
   * Number of runs in every state (zeros included) among those the filter selects: from the
   * count rollups (state/run-counts.ts), or, filtered by payload, from its runs.
   */
  async counts(filter: RunFilter): Promise<Record<RunState, number>> {
    await catchUp(this.db);
    if (countableFilter(filter)) return countRuns(this.db, filter);
    const params: unknown[] = [];
    const where = this.where(filter, params);
    const rows = await this.db.query<{ state: RunState; n: number }>(
      `SELECT r.state::text AS state, count(*)::int AS n FROM runs r
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY r.state`,
      params,
    );
    const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  /**
   * Runs per state for every hour of run creation (UTC) with runs, oldest first (trend views);
   * buckets are whole hours overlapping since/until. From the count rollups.
   */
  async countsByHour(filter: CountFilter): Promise<HourCounts[]> {
    await catchUp(this.db);
    return countRunsByHour(this.db, filter);
  }

  /**
   * Every workflow some run was recorded for, except those only INVALID reports named (ingress
   * reports payloads naming unknown workflows). A skip scan over runs_by_workflow: one index
   * probe per workflow, however many runs there are.
   */
  async workflows(): Promise<string[]> {
    await catchUp(this.db);
    const rows = await this.db.query<{ w: string }>(
      `WITH RECURSIVE w(wf) AS (
         SELECT min(workflow) FROM runs
         UNION ALL
         SELECT (SELECT min(r.workflow) FROM runs r WHERE r.workflow > w.wf) FROM w WHERE w.wf IS NOT NULL)
       SELECT wf AS w FROM w
       WHERE wf IS NOT NULL AND wf <> ''
         AND EXISTS (SELECT 1 FROM runs r WHERE r.workflow = w.wf AND r.state <> 'INVALID')`);
    return rows.map((r) => r.w);
  }

  /** Whether a run that was not an INVALID report was recorded for this workflow. */
  async hasWorkflow(workflow: string): Promise<boolean> {
    await catchUp(this.db);
    const rows = await this.db.query(`SELECT 1 FROM runs r WHERE r.workflow = $1 AND r.state <> 'INVALID' LIMIT 1`, [workflow]);
    return rows.length > 0;
  }

  /** Month partitions of the history for this month and the next two. */
  async ensurePartitions(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT swoop_ensure_event_partitions(now(), 3) AS n');
    return row!.n;
  }

  /** The journal's backlog and its rejects: what an operator watches (GET /journal). */
  async journal(): Promise<JournalStatus> {
    const [row] = await this.db.query<JournalStatus>(
      `SELECT (SELECT count(*)::int FROM event_journal) AS pending,
              (SELECT ${TS('min(accepted_at)')} FROM event_journal) AS "oldestAcceptedAt",
              (SELECT count(*)::int FROM event_journal_rejects) AS rejected`);
    return row!;
  }

  /**
   * Why the store cannot serve yet, or undefined when it can: the database must answer and
   * carry every migration this build knows (the migration Job may still be running).
   */
  async notReady(expectedVersion: number): Promise<string | undefined> {
    const [table] = await this.db.query<{ t: string | null }>(`SELECT to_regclass('swoop_migrations')::text AS t`);
    const [row] = table?.t
      ? await this.db.query<{ v: number }>('SELECT coalesce(max(version), 0)::int AS v FROM swoop_migrations')
      : [{ v: 0 }];
    const version = row?.v ?? 0;
    if (version < expectedVersion) {
      return `the database schema is at version ${version}, this build needs ${expectedVersion}: run the migration (npm run state:migrate / the migration Job; `
        + 'with STATE_APP_URL when the service has its own role, which sees nothing until it is granted)';
    }
    const { role, missing } = await missingServicePrivileges(this.db);
    return missing.length > 0
      ? `the database role ${role} lacks ${missing.join(', ')}: run the migration as the schema owner with STATE_APP_URL set to this service's database URL, which grants them (docs/state.md)`
      : undefined;
  }

  // Every value is a bind parameter; only fixed SQL fragments are concatenated.
  private where(f: RunFilter, params: unknown[]): string[] {
    const where: string[] = [];
    const add = (sql: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (f.workflows !== undefined) add((n) => `r.workflow = ANY(${n}::text[])`, f.workflows);
    if (f.payloadId !== undefined) add((n) => `r.payload_id = ${n}`, f.payloadId);
    if (f.states !== undefined) add((n) => `r.state::text = ANY(${n}::text[])`, f.states);
    if (f.since !== undefined) add((n) => `r.created_at >= ${n}::timestamptz`, f.since);
    if (f.until !== undefined) add((n) => `r.created_at < ${n}::timestamptz`, f.until);
    if (f.through !== undefined) add((n) => `r.created_at <= ${n}::timestamptz`, f.through);
    const duration = `extract(epoch FROM coalesce(r.finished_at, now()) - coalesce(r.started_at, r.created_at))`;
    if (f.minDurationSeconds !== undefined) add((n) => `${duration} >= ${n}`, f.minDurationSeconds);
    if (f.maxDurationSeconds !== undefined) add((n) => `${duration} <= ${n}`, f.maxDurationSeconds);
    if (f.collection !== undefined) {
      add((n) => `r.payload_id IN (SELECT p.payload_id FROM payloads p WHERE p.collections @> ARRAY[${n}::text])`, f.collection);
    }
    return where;
  }
}
