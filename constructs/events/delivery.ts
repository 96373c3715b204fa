import { Duration } from 'cdk8s';

/** How a trigger's action is retried before its dead-letter trigger records the failure. */
export interface DeliveryPolicy {
  /** Attempts in all, the first included. @default 5 for HTTP and log triggers, 3 for Workflow submissions */
  readonly attempts?: number;
  /** Wait before the second attempt. @default 2 seconds for HTTP and log triggers, 1 second for Workflow submissions */
  readonly backoff?: Duration;
  /** Each wait is the previous one times this. @default 2 */
  readonly factor?: number;
  /** Random extra wait, as a fraction of the wait. @default 0.2 */
  readonly jitter?: number;
}

/**
 * Delivery fields every trigger gets: at-least-once (the bus message is acknowledged only
 * after the action ran), retries with exponential backoff, and a dead-letter trigger that
 * writes the events it could not deliver to the sensor log, so a failure is never silent.
 * (v1.9 reads `atLeastOnce`, `retryStrategy` and `dlqTrigger` on the trigger, not its template.)
 */
export function deliveryFields(triggerName: string, policy: DeliveryPolicy = {}, submitsWorkflow = false): Record<string, unknown> {
  // A hand-written k8s create of a duplicate fails with AlreadyExists on every attempt, and an
  // at-least-once trigger waits for its retries before taking the next event, so such
  // triggers retry briefly. The platform's own submissions are HTTP to the state service,
  // which answers a duplicate 200, so they get the HTTP policy.
  const attempts = policy.attempts ?? (submitsWorkflow ? 3 : 5);
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`delivery attempts must be a whole number >= 1, got ${attempts}`);
  const backoff = policy.backoff ?? Duration.seconds(submitsWorkflow ? 1 : 2);
  return {
    atLeastOnce: true,
    retryStrategy: {
      steps: attempts,
      duration: `${backoff.toSeconds()}s`,
      factor: policy.factor ?? 2,
      jitter: policy.jitter ?? 0.2,
    },
    dlqTrigger: {
      template: { name: `${triggerName}-dead-letter`, log: {} },
      atLeastOnce: true,
      retryStrategy: { steps: 3, duration: '1s', factor: 2 },
    },
  };
}
