/**
 * Ends runs whose completion never arrives. Argo skips the exit handler of a terminated
 * workflow, and a lost workflow (deleted, controller or cluster failure) reports nothing,
 * so without this such runs stay RUNNING forever and keep their payload "active" for the
 * claim. Accepted events are applied first (a completion waiting in the journal is not
 * stuck). Each round is one call to swoop_end_stuck_runs (0007), which records TIMED_OUT
 * through the normal recording path and skips rows another replica or writer holds, so
 * any number of replicas may sweep at once.
 */
import type { Db } from './db';
import { catchUp } from './journal';

export interface StuckRunSweeperProps {
  readonly db: Db;
  /** How long after its deadline a run may still report its end, ms. Default: 600000 (10 min). */
  readonly graceMs?: number;
  /** How long a run without a deadline may stay silent, ms. Default: 86400000 (24 h). */
  readonly maxSilenceMs?: number;
  /** Between sweeps, ms. Default: 60000. */
  readonly intervalMs?: number;
  /** Runs ended per transaction. Default: 100. */
  readonly batchSize?: number;
  /** Called with the runs a sweep ended (e.g. to wake the outbox forwarder). Default: none. */
  readonly onEnded?: (runs: readonly EndedRun[]) => void;
  /** Where problems are reported. Default: silent. */
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface EndedRun {
  readonly run: string;
  readonly workflow: string;
  readonly payloadId: string | null;
  readonly reason: string;
}

export class StuckRunSweeper {
  readonly graceMs: number;
  readonly maxSilenceMs: number;
  readonly intervalMs: number;
  private readonly batchSize: number;
  private timer?: NodeJS.Timeout;
  private current?: Promise<unknown>;

  constructor(private readonly props: StuckRunSweeperProps) {
    this.graceMs = props.graceMs ?? 600_000;
    this.maxSilenceMs = props.maxSilenceMs ?? 86_400_000;
    this.intervalMs = props.intervalMs ?? 60_000;
    this.batchSize = props.batchSize ?? 100;
    for (const [name, v] of [['graceMs', this.graceMs], ['maxSilenceMs', this.maxSilenceMs], ['intervalMs', this.intervalMs], ['batchSize', this.batchSize]] as const) {
      if (!Number.isInteger(v) || v < (name === 'graceMs' ? 0 : 1)) {
        throw new Error(`StuckRunSweeper: ${name} must be a ${name === 'graceMs' ? 'non-negative' : 'positive'} integer (got ${v})`);
      }
    }
  }

  /**
   * Records TIMED_OUT for every run stuck at `now` (runs whose rows are busy are left to the
   * next sweep). Returns the runs this call ended; calling it again ends nothing new.
   */
  async sweep(now: Date = new Date()): Promise<EndedRun[]> {
    // A completion already acknowledged but not yet applied must win over the timeout.
    await catchUp(this.props.db);
    const ended: EndedRun[] = [];
    for (;;) {
      const rows = await this.props.db.query<EndedRun>(
        // The workflow (for the metrics' label) from the run row: it never changes once written.
        `SELECT e.run, r.workflow, e.payload_id AS "payloadId", e.reason
         FROM swoop_end_stuck_runs($1::timestamptz, $2 * interval '1 millisecond', $3 * interval '1 millisecond', $4) e
         JOIN runs r ON r.run = e.run`,
        [now.toISOString(), this.graceMs, this.maxSilenceMs, this.batchSize],
      );
      ended.push(...rows);
      if (rows.length < this.batchSize) break;
    }
    if (ended.length > 0) this.props.onEnded?.(ended);
    return ended;
  }

  /** Sweeps every intervalMs until stop(); the first sweep is one interval after start. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.current) return; // a slow sweep is still going: skip this tick
      this.current = this.sweep()
        .then((runs) => {
          if (runs.length > 0) this.props.log?.('ended runs that reported no completion', { count: runs.length, runs: runs.slice(0, 20).map((r) => r.run) });
        })
        .catch((err: Error) => this.props.log?.('stuck-run sweep failed', { error: err.message }))
        .finally(() => {
          this.current = undefined;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.current;
  }
}
