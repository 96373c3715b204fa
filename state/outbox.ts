/**
 * Delivers outbox rows (run.finished events) to the lifecycle webhook. Rows are leased
 * with SELECT ... FOR UPDATE SKIP LOCKED and a lease time, so any number of replicas
 * share the work, no transaction stays open during HTTP, and a replica that dies
 * mid-delivery only delays its rows until the lease ends. Failures back off
 * exponentially (base * 2^attempts, capped). Delivery is at least once; the receiver
 * deduplicates by run (the X-Swoop-Run header and the body's `run`).
 */
import { BackgroundLoop } from './background-loop';
import type { Db } from './db';

export interface OutboxForwarderProps {
  readonly db: Db;
  /** Webhook URL (contracts: swoop-platform/lifecycle-url). */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. Default: no header. */
  readonly token?: string;
  /** Rows leased per round. Default: 20. */
  readonly batchSize?: number;
  /** Sleep between rounds when nothing is due, ms. Default: 1000. */
  readonly pollIntervalMs?: number;
  /** First retry delay, ms. Default: 1000. */
  readonly retryBaseMs?: number;
  /** Longest retry delay, ms. Default: 300000 (5 min). */
  readonly retryMaxMs?: number;
  /** How long a leased row is hidden from other replicas, ms. Default: 30000. */
  readonly leaseMs?: number;
  /** HTTP timeout per delivery, ms. Default: 10000. */
  readonly timeoutMs?: number;
  /** Where problems are reported. Default: silent. */
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Told of each delivery attempt's outcome (state/metrics.ts). Default: none. */
  readonly onAttempt?: (delivered: boolean) => void;
}

/** base * 2^(attempts-1), capped at max: the wait before retry number `attempts`. */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

interface Leased {
  id: number | string;
  run: string;
  body: unknown;
  attempts: number;
}

export class OutboxForwarder extends BackgroundLoop {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly props: OutboxForwarderProps) {
    super();
    this.batchSize = props.batchSize ?? 20;
    this.pollIntervalMs = props.pollIntervalMs ?? 1_000;
    this.retryBaseMs = props.retryBaseMs ?? 1_000;
    this.retryMaxMs = props.retryMaxMs ?? 300_000;
    this.leaseMs = props.leaseMs ?? 30_000;
    this.timeoutMs = props.timeoutMs ?? 10_000;
  }

  /** Delay before retry number `attempts` (1 = first retry). */
  retryDelayMs(attempts: number): number {
    return backoffMs(attempts, this.retryBaseMs, this.retryMaxMs);
  }

  /** Leases the rows that are due and tries each once. Returns how many it tried. */
  async deliverDue(): Promise<number> {
    const rows = await this.props.db.query<Leased>(
      `UPDATE outbox o SET next_attempt_at = now() + $2 * interval '1 millisecond'
       WHERE o.id IN (SELECT id FROM outbox
                      WHERE delivered_at IS NULL AND next_attempt_at <= now()
                      ORDER BY next_attempt_at, id LIMIT $1
                      FOR UPDATE SKIP LOCKED)
       RETURNING o.id, o.run, o.body, o.attempts`,
      [this.batchSize, this.leaseMs],
    );
    await Promise.all(rows.map((row) => this.deliver(row)));
    return rows.length;
  }

  private async deliver(row: Leased): Promise<void> {
    let failure: string | undefined;
    try {
      const res = await fetch(this.props.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-swoop-run': row.run,
          ...(this.props.token ? { authorization: `Bearer ${this.props.token}` } : {}),
        },
        body: JSON.stringify(row.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) failure = `HTTP ${res.status}`;
    } catch (err) {
      failure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    this.props.onAttempt?.(failure === undefined);
    if (failure === undefined) {
      await this.props.db.query(
        'UPDATE outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1',
        [row.id],
      );
      return;
    }
    const delay = this.retryDelayMs(row.attempts + 1);
    this.props.log?.('lifecycle delivery failed; will retry', { run: row.run, attempts: row.attempts + 1, retryInMs: delay, error: failure });
    await this.props.db.query(
      `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
         next_attempt_at = now() + $3 * interval '1 millisecond' WHERE id = $1`,
      [row.id, failure, delay],
    );
  }

  protected async run(): Promise<void> {
    while (this.running) {
      let tried = 0;
      try {
        tried = await this.deliverDue();
      } catch (err) {
        this.props.log?.('outbox round failed', { error: err instanceof Error ? err.message : String(err) });
      }
      if (tried < this.batchSize && this.running) await this.sleep(this.pollIntervalMs);
    }
  }

  /** Ends the current sleep so newly committed rows go out without waiting a poll interval. */
  nudge(): void {
    this.wake();
  }
}
