/**
 * The one job the outbox forwarder and the callback task loop share: a table of rows, each
 * to be sent somewhere once it is due, worked off by every replica. Each round leases due
 * rows (UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) moving their due time a
 * lease ahead), so replicas never take the same row, no transaction stays open while the
 * row is sent, and a replica that dies mid-send only delays its rows until the lease ends.
 * Each row is then tried once and marked done, retried after an exponential backoff, or
 * given up (its due time cleared). Rounds follow each other at once while batches come
 * back full, and otherwise every poll interval or when nudged.
 */
import { BackgroundLoop } from './background-loop';
import type { Db } from './db';

/** base * 2^(attempts-1), capped at max: the wait before retry number `attempts`. */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/** The table and the columns that keep one row's sending state (fixed names, never input). */
export interface RetryTable {
  readonly table: string;
  /** when the row was sent; NULL until then */
  readonly doneAt: string;
  /** when the row is next due; NULL once given up */
  readonly dueAt: string;
  readonly attempts: string;
  /** the last failure; NULL once sent */
  readonly error: string;
}

/** What a loop's user may tune; each field says its default. */
export interface LeasedRetryLoopOptions {
  readonly db: Db;
  /** Rows leased per round. Default: 20. */
  readonly batchSize?: number;
  /** Sleep between rounds when a round was not full, ms. Default: 1000 (also the resolution of due times). */
  readonly pollIntervalMs?: number;
  /** First retry delay, ms. Default: 1000. */
  readonly retryBaseMs?: number;
  /** Longest retry delay, ms. Default: the loop's own (LeasedRetryLoop's `retryMaxMs` argument). */
  readonly retryMaxMs?: number;
  /** How long a leased row is hidden from other replicas, ms. Default: 30000. */
  readonly leaseMs?: number;
  /** Where problems are reported. Default: silent. */
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** The options with every default applied. */
export type LeasedRetryLoopSettings = Required<Omit<LeasedRetryLoopOptions, 'log'>> & Pick<LeasedRetryLoopOptions, 'log'>;

export abstract class LeasedRetryLoop extends BackgroundLoop {
  protected readonly settings: LeasedRetryLoopSettings;

  constructor(
    private readonly columns: RetryTable,
    options: LeasedRetryLoopOptions,
    /** the loop's longest retry delay when `options` sets none, ms */
    retryMaxMs: number,
    /** what a failed round is logged as, e.g. 'outbox round failed' */
    private readonly roundFailed: string,
  ) {
    super();
    this.settings = {
      db: options.db,
      batchSize: options.batchSize ?? 20,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      retryBaseMs: options.retryBaseMs ?? 1_000,
      retryMaxMs: options.retryMaxMs ?? retryMaxMs,
      leaseMs: options.leaseMs ?? 30_000,
      log: options.log,
    };
  }

  /** One round; returns how many rows it tried. */
  protected abstract round(): Promise<number>;

  /** Delay before retry number `attempts` (1 = first retry). */
  retryDelayMs(attempts: number): number {
    return backoffMs(attempts, this.settings.retryBaseMs, this.settings.retryMaxMs);
  }

  /** Leases up to a batch of due rows, oldest due first, returning `returning` of each (the row is `leased`). */
  protected lease<Row>(returning: string): Promise<Row[]> {
    const { table, doneAt, dueAt } = this.columns;
    return this.settings.db.query<Row>(
      `UPDATE ${table} leased SET ${dueAt} = now() + $2 * interval '1 millisecond'
       WHERE leased.id IN (SELECT id FROM ${table}
                      WHERE ${doneAt} IS NULL AND ${dueAt} <= now()
                      ORDER BY ${dueAt}, id LIMIT $1
                      FOR UPDATE SKIP LOCKED)
       RETURNING ${returning}`,
      [this.settings.batchSize, this.settings.leaseMs],
    );
  }

  /** The row was sent. */
  protected async done(id: string | number): Promise<void> {
    const { table, doneAt, attempts, error } = this.columns;
    await this.settings.db.query(`UPDATE ${table} SET ${doneAt} = now(), ${attempts} = ${attempts} + 1, ${error} = NULL WHERE id = $1`, [id]);
  }

  /** The row failed: due again in `delayMs` (retryDelayMs of its attempts so far), `failure` kept. */
  protected async retryLater(id: string | number, failure: string, delayMs: number): Promise<void> {
    const { table, dueAt, attempts, error } = this.columns;
    await this.settings.db.query(
      `UPDATE ${table} SET ${attempts} = ${attempts} + 1, ${error} = $2, ${dueAt} = now() + $3 * interval '1 millisecond' WHERE id = $1`,
      [id, failure, delayMs],
    );
  }

  /** The row cannot be sent: never due again; `failure` stays for an operator. */
  protected async giveUp(id: string | number, failure: string): Promise<void> {
    const { table, dueAt, attempts, error } = this.columns;
    await this.settings.db.query(`UPDATE ${table} SET ${attempts} = ${attempts} + 1, ${error} = $2, ${dueAt} = NULL WHERE id = $1`, [id, failure]);
  }

  protected async run(): Promise<void> {
    while (this.running) {
      let tried = 0;
      try {
        tried = await this.round();
      } catch (err) {
        this.settings.log?.(this.roundFailed, { error: err instanceof Error ? err.message : String(err) });
      }
      if (tried < this.settings.batchSize && this.running) await this.sleep(this.settings.pollIntervalMs);
    }
  }

  /** Ends the current sleep, so rows that just became due go out without waiting a poll interval. */
  nudge(): void {
    this.wake();
  }
}
