/**
 * Accept, then apply (migration 0008, docs/state.md). POST /events answers once its event
 * is durably in `event_journal`; the JournalApplier moves accepted events through the
 * recording rules in large batches, in the background. `catchUp` is what readers, claims
 * and the sweeper call first, so no answer is based on less than what was acknowledged.
 */
import { BackgroundLoop } from './background-loop';
import type { Db, Queryable } from './db';
import { rollUpRunCounts } from './run-counts';

/** Events applied per transaction. */
export const APPLY_BATCH = 500;

/** Applies up to `limit` accepted events; returns how many it took (0: journal empty). */
export async function applyJournal(db: Queryable, limit: number, wait: boolean): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT swoop_apply_journal($1, $2) AS n', [limit, wait], wait ? 'swoop_catch_up' : 'swoop_apply');
  return row!.n;
}

/**
 * Applies every event acknowledged before the call, waiting for rows another applier holds.
 * One cheap round trip when the journal is empty, as it is whenever the appliers keep up.
 */
export async function catchUp(db: Queryable): Promise<void> {
  while ((await applyJournal(db, APPLY_BATCH, true)) === APPLY_BATCH);
}

export interface JournalApplierProps {
  readonly db: Db;
  /** Most events per transaction. Default: APPLY_BATCH (500). */
  readonly batchSize?: number;
  /**
   * How long accepted events may wait for more to gather, ms; a full batch goes at once.
   * Fewer, larger transactions cost less per event, and on a small node each of the
   * applier's CPU bursts delays the request path. Readers and claims never wait for it:
   * they catch up themselves. Default: 250.
   */
  readonly lingerMs?: number;
  /**
   * Apply once no event has been accepted for this long, ms, without lingering further: the
   * end of a burst, or a lone event in quiet hours, is applied at once. Default: 10.
   */
  readonly quietMs?: number;
  /** Poll for events other replicas accepted and did not apply (they died), ms. Default: 1000. */
  readonly pollIntervalMs?: number;
  /**
   * Roll the run count deltas up (swoop_roll_up_run_counts, 0016) after a round when this
   * long has passed since the last roll-up, ms; 0: never (tests that drive it). Reads sum
   * the rollups and the pending deltas, so this only keeps the deltas few. Default: 1000.
   */
  readonly rollUpIntervalMs?: number;
  /** Called after a round applied events (e.g. to wake the outbox forwarder). */
  readonly onApplied?: (count: number) => void;
  /** Where problems are reported. Default: silent. */
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** One per replica; replicas share the journal (SKIP LOCKED), so any number may run. */
export class JournalApplier extends BackgroundLoop {
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly quietMs: number;
  private readonly pollIntervalMs: number;
  /** Events this replica accepted since the last round, and when the first and the last of them were. */
  private accepted = 0;
  private firstAcceptedAt?: number;
  private lastAcceptedAt = 0;
  private idleSince = Date.now();
  private readonly rollUpIntervalMs: number;
  private lastRollUp = 0;

  constructor(private readonly props: JournalApplierProps) {
    super();
    this.batchSize = props.batchSize ?? APPLY_BATCH;
    this.lingerMs = props.lingerMs ?? 250;
    this.quietMs = props.quietMs ?? 10;
    this.pollIntervalMs = props.pollIntervalMs ?? 1_000;
    this.rollUpIntervalMs = props.rollUpIntervalMs ?? 1_000;
    for (const [name, v, min] of [['batchSize', this.batchSize, 1], ['lingerMs', this.lingerMs, 0], ['quietMs', this.quietMs, 0],
      ['pollIntervalMs', this.pollIntervalMs, 1], ['rollUpIntervalMs', this.rollUpIntervalMs, 0]] as const) {
      if (!Number.isInteger(v) || v < min) throw new Error(`JournalApplier: ${name} must be an integer >= ${min} (got ${v})`);
    }
  }

  /** `count` events were accepted: apply them within lingerMs, after quietMs without more, or at once when a batch is full. */
  nudge(count = 1): void {
    const first = this.firstAcceptedAt === undefined;
    this.lastAcceptedAt = Date.now();
    if (first) this.firstAcceptedAt = this.lastAcceptedAt;
    this.accepted += count;
    if (first || this.accepted >= this.batchSize) this.wake();
  }

  private async waitForWork(): Promise<void> {
    while (this.running && this.accepted < this.batchSize) {
      const deadline = this.firstAcceptedAt === undefined
        ? this.idleSince + this.pollIntervalMs
        : Math.min(this.firstAcceptedAt + this.lingerMs, this.lastAcceptedAt + this.quietMs);
      const left = deadline - Date.now();
      if (left <= 0) return;
      await this.sleep(left);
    }
  }

  // stop() leaves events in the journal for the next applier (or the final catch-up).
  protected async run(): Promise<void> {
    let failures = 0;
    let full = false;
    while (this.running) {
      // After a full batch more is already waiting: no reason to linger.
      if (!full) await this.waitForWork();
      if (!this.running) break;
      this.accepted = 0;
      this.firstAcceptedAt = undefined;
      try {
        const n = await applyJournal(this.props.db, this.batchSize, false);
        failures = 0;
        if (n > 0) this.props.onApplied?.(n);
        full = n === this.batchSize;
        if (this.rollUpIntervalMs > 0 && Date.now() - this.lastRollUp >= this.rollUpIntervalMs) {
          this.lastRollUp = Date.now();
          await rollUpRunCounts(this.props.db);
        }
      } catch (err) {
        failures++;
        this.props.log?.('applying accepted events failed; will retry', { error: err instanceof Error ? err.message : String(err), failures });
        // The events stay in the journal; back off while the database recovers, then retry.
        await this.sleep(Math.min(5_000, 50 * 2 ** failures));
        full = true;
      }
      this.idleSince = Date.now();
    }
  }
}
