/**
 * A retry node as the Argo Workflows v4 controller drives it
 * (workflow/controller/operator.go processNodeRetries), step by step, on a simulated clock:
 * 1. the last attempt succeeded: the node succeeds;
 * 2. with a backoff: past `maxDuration` since the first attempt started -> fail "Max
 *    duration limit exceeded"; the wait is `duration * factor^(attempts-1)`, at most `cap`;
 *    a wait ending after the maxDuration deadline -> fail "Backoff would exceed max duration
 *    limit"; otherwise wait (while attempts <= limit) -- before the policy and the
 *    expression are even looked at;
 * 3. the policy (`retryPolicy`, or Always when only an expression is given,
 *    RetryStrategy.RetryPolicyActual) refuses the phase -> fail with the attempt's message;
 * 4. attempts > limit -> fail "No more retries left";
 * 5. the expression, over buildRetryStrategyLocalScope's strings, is false -> fail
 *    "retryStrategy.expression evaluated to false";
 * 6. otherwise another attempt.
 * The node fails with the last attempt's phase. Shutdown and workflow deadlines are not
 * modelled (the lifecycle tests cover their messages).
 */
import type { Doc } from './argo';
import { evaluate } from './expr';

export interface Attempt {
  readonly phase: 'Succeeded' | 'Failed' | 'Error';
  /** What the pod's main container exited with; undefined = no exit code (e.g. pod deleted). */
  readonly exitCode?: number;
  readonly message: string;
  /** Seconds the attempt runs. @default 30 */
  readonly seconds?: number;
}

export interface RetryOutcome {
  readonly phase: 'Succeeded' | 'Failed' | 'Error';
  /** The retry node's message (what `workflow.failures` reports for it). */
  readonly message: string;
  /** Attempts that ran. */
  readonly attempts: number;
  /** Backoff waits, in seconds, in order. */
  readonly waits: readonly number[];
}

const POLICIES = ['Always', 'OnFailure', 'OnError', 'OnTransientError'];

/** Go's ParseStringToDuration as Argo uses it: whole seconds, or a Go duration. */
function seconds(value: unknown): number {
  const text = String(value);
  if (/^\d+$/.test(text)) return Number(text);
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text) throw new Error(`backoff duration "${text}" does not parse`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]!]!, 0);
}

/**
 * Runs attempts (taken in order from `script`, the last one repeating) under `strategy`
 * until the node is decided. Throws when the script runs out while Argo would retry.
 */
export function runRetryNode(strategy: Doc, script: readonly Attempt[]): RetryOutcome {
  const policy = String(strategy.retryPolicy ?? (strategy.expression ? 'Always' : 'OnFailure'));
  if (!POLICIES.includes(policy)) throw new Error(`${policy} is not a valid RetryPolicy`);
  const limit = strategy.limit === undefined ? undefined : Number(strategy.limit);
  const backoff = strategy.backoff as Doc | undefined;
  const attempts: (Attempt & { startedAt: number; finishedAt: number })[] = [];
  const waits: number[] = [];
  let now = 0;
  for (;;) {
    const next = script[Math.min(attempts.length, script.length - 1)]!;
    const run = { ...next, startedAt: now, finishedAt: now + (next.seconds ?? 30) };
    attempts.push(run);
    now = run.finishedAt;
    const n = attempts.length;
    const done = (phase: RetryOutcome['phase'], message: string): RetryOutcome => ({ phase, message, attempts: n, waits });
    if (run.phase === 'Succeeded') return done('Succeeded', '');
    if (backoff) {
      let maxDeadline: number | undefined;
      if (backoff.maxDuration !== undefined) {
        maxDeadline = attempts[0]!.startedAt + seconds(backoff.maxDuration);
        if (now > maxDeadline) return done(run.phase, 'Max duration limit exceeded');
      }
      if (backoff.duration === undefined) throw new Error('no base duration specified for retryStrategy');
      let wait = seconds(backoff.duration);
      const factor = backoff.factor === undefined ? undefined : Number(backoff.factor);
      if (factor !== undefined && !Number.isInteger(factor)) throw new Error(`factor ${backoff.factor} is not an int32`);
      if (factor !== undefined && factor > 0) wait *= factor ** (n - 1);
      if (backoff.cap !== undefined) wait = Math.min(wait, seconds(backoff.cap));
      if (maxDeadline !== undefined && run.finishedAt + wait > maxDeadline) return done(run.phase, 'Backoff would exceed max duration limit');
      if (limit !== undefined && n <= limit) {
        waits.push(wait);
        now = run.finishedAt + wait;
      }
    }
    const retryOnFailed = policy === 'Always' || policy === 'OnFailure';
    const retryOnError = policy === 'Always' || policy === 'OnError';
    if (policy === 'OnTransientError') throw new Error('OnTransientError depends on the controller\'s error classification; not modelled');
    if ((run.phase === 'Failed' && !retryOnFailed) || (run.phase === 'Error' && !retryOnError)) return done(run.phase, run.message);
    if (limit !== undefined && n > limit) return done(run.phase, 'No more retries left');
    if (strategy.expression) {
      const scope = {
        retries: String(n - 1),
        lastRetry: { exitCode: run.exitCode === undefined ? '-1' : String(run.exitCode), status: run.phase, duration: String(run.finishedAt - run.startedAt), message: run.message },
      };
      const verdict = evaluate(String(strategy.expression), scope);
      if (typeof verdict !== 'boolean') throw new Error(`retryStrategy.expression gave ${String(verdict)}, not a bool`);
      if (!verdict) return done(run.phase, 'retryStrategy.expression evaluated to false');
    }
    if (n > 100) throw new Error('more than 100 attempts: the strategy never stops');
  }
}
