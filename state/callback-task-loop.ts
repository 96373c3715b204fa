/**
 * The background side of wait-for-callback tasks: each round it times out waiting tasks
 * whose heartbeat or overall deadline passed (swoop_task_expire), then applies recorded
 * answers to their Argo nodes (`PUT .../set`). Rows are leased as the outbox leases them
 * (FOR UPDATE SKIP LOCKED and a lease time), so replicas share the work and nothing is lost
 * when one dies. An answer can arrive before Argo has started the suspend node (the token
 * is delivered just before it), so "no suspend node matching" is retried like an outage;
 * retries stop when the run has ended, when the workflow is gone (404), or after
 * `maxAttempts`, leaving apply_error for an operator. Leasing and retrying are
 * state/leased-retry-loop.ts's, as for the outbox.
 */
import type { ArgoClient, WorkflowSetRequest } from './argo-client';
import { LeasedRetryLoop, type LeasedRetryLoopOptions } from './leased-retry-loop';

export interface CallbackTaskLoopProps extends LeasedRetryLoopOptions {
  readonly argo: ArgoClient;
  /** Longest retry delay, ms. Default: 60000. */
  readonly retryMaxMs?: number;
  /** Attempts before giving up on one answer. Default: 30 (about 25 minutes with the defaults). */
  readonly maxAttempts?: number;
}

interface Due {
  id: string;
  namespace: string;
  run: string;
  node: string;
  state: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  output: string | null;
  error: string | null;
  cause: string | null;
  apply_attempts: number;
  run_ended: boolean;
}

/** The WorkflowSetRequest that applies a task's answer to its suspend node. */
export function setRequestFor(t: Pick<Due, 'namespace' | 'run' | 'node' | 'state' | 'output' | 'error' | 'cause'>): WorkflowSetRequest {
  const base = { namespace: t.namespace, name: t.run, nodeFieldSelector: `name=${t.node}` };
  if (t.state === 'SUCCEEDED') {
    return { ...base, phase: 'Succeeded', outputParameters: JSON.stringify({ output: t.output ?? '' }) };
  }
  // The node's message becomes the run's failure message (workflow.failures), so the run
  // is recorded FAILED with the error and cause the external system gave.
  return { ...base, phase: 'Failed', message: t.cause ? `${t.error}: ${t.cause}` : String(t.error) };
}

export class CallbackTaskLoop extends LeasedRetryLoop {
  private readonly maxAttempts: number;

  constructor(private readonly props: CallbackTaskLoopProps) {
    super(
      { table: 'callback_tasks', doneAt: 'applied_at', dueAt: 'next_apply_at', attempts: 'apply_attempts', error: 'apply_error' },
      props,
      60_000,
      'callback task round failed',
    );
    this.maxAttempts = props.maxAttempts ?? 30;
  }

  /** Times out what is due, then applies what is due. Returns how many answers it tried. */
  async round(): Promise<number> {
    await this.props.db.query('SELECT swoop_task_expire($1)', [this.settings.batchSize]);
    const rows = await this.lease<Due>(
      `leased.id::text AS id, leased.namespace, leased.run, leased.node, leased.state, leased.output, leased.error, leased.cause, leased.apply_attempts,
         (SELECT swoop_state_is_final(r.state) FROM runs r WHERE r.run = leased.run) AS run_ended`,
    );
    await Promise.all(rows.map((row) => this.apply(row)));
    return rows.length;
  }

  private async apply(row: Due): Promise<void> {
    if (row.run_ended) {
      await this.abandon(row, 'the run ended before the answer reached its node');
      return;
    }
    const answer = await this.props.argo.setNode(setRequestFor(row));
    if (answer.status >= 200 && answer.status < 300) {
      await this.done(row.id);
      return;
    }
    const failure = `Argo Server answered ${answer.status || 'nothing'}: ${answer.message}`;
    if (answer.status === 404) {
      await this.abandon(row, failure);
      return;
    }
    const attempts = row.apply_attempts + 1;
    if (attempts >= this.maxAttempts) {
      await this.abandon(row, `${failure} (gave up after ${attempts} attempts)`);
      return;
    }
    const delay = this.retryDelayMs(attempts);
    this.props.log?.('resuming a wait step failed; will retry', { run: row.run, node: row.node, attempts, retryInMs: delay, error: failure });
    await this.retryLater(row.id, failure, delay);
  }

  private async abandon(row: Due, why: string): Promise<void> {
    this.props.log?.('a wait step answer cannot be applied', { run: row.run, node: row.node, error: why });
    await this.giveUp(row.id, why);
  }
}
