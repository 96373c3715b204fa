/**
 * Delivers outbox rows (run.finished events) to the lifecycle webhook, leased and retried
 * as state/leased-retry-loop.ts does for any such table, so any number of replicas share
 * the work. Failures back off exponentially (base * 2^attempts, capped) and are retried
 * for ever: the receiver only has to come back. Delivery is at least once; the receiver
 * deduplicates by run (the X-Swoop-Run header and the body's `run`).
 */
import { LeasedRetryLoop, type LeasedRetryLoopOptions } from './leased-retry-loop';

export interface OutboxForwarderProps extends LeasedRetryLoopOptions {
  /** Webhook URL (contracts: swoop-platform/lifecycle-url). */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. Default: no header. */
  readonly token?: string;
  /** Longest retry delay, ms. Default: 300000 (5 min). */
  readonly retryMaxMs?: number;
  /** HTTP timeout per delivery, ms. Default: 10000. */
  readonly timeoutMs?: number;
  /** Told of each delivery attempt's outcome (state/metrics.ts). Default: none. */
  readonly onAttempt?: (delivered: boolean) => void;
}

interface Leased {
  id: number | string;
  run: string;
  body: unknown;
  attempts: number;
}

export class OutboxForwarder extends LeasedRetryLoop {
  private readonly timeoutMs: number;

  constructor(private readonly props: OutboxForwarderProps) {
    super(
      { table: 'outbox', doneAt: 'delivered_at', dueAt: 'next_attempt_at', attempts: 'attempts', error: 'last_error' },
      props,
      300_000,
      'outbox round failed',
    );
    this.timeoutMs = props.timeoutMs ?? 10_000;
  }

  /** Leases the rows that are due and tries each once. Returns how many it tried. */
  async deliverDue(): Promise<number> {
    const rows = await this.lease<Leased>('leased.id, leased.run, leased.body, leased.attempts');
    await Promise.all(rows.map((row) => this.deliver(row)));
    return rows.length;
  }

  protected round(): Promise<number> {
    return this.deliverDue();
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
      await this.done(row.id);
      return;
    }
    const delay = this.retryDelayMs(row.attempts + 1);
    this.props.log?.('lifecycle delivery failed; will retry', { run: row.run, attempts: row.attempts + 1, retryInMs: delay, error: failure });
    await this.retryLater(row.id, failure, delay);
  }
}
