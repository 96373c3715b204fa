/**
 * Task tokens by SQS (Step Functions' `.waitForTaskToken` with an SQS message): the state
 * service sends `{"taskToken", "workflow", "run", "step", "input", "parameters",
 * "heartbeatSeconds", "timeoutSeconds"}` as the message body with @aws-sdk/client-sqs when it
 * mints the token, so no pod runs for it and the token never appears in the Workflow.
 * Only queues listed in TASK_TOKEN_QUEUES may be named: the service sends with its own AWS
 * identity, which infra grants sqs:SendMessage on exactly those queues.
 */
import { createHash } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SQS_QUEUE_URL } from './sqs-queue-url';

/** Where the token goes: an SQS queue, by URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`). */
export interface SqsDelivery {
  readonly queueUrl: string;
}

export { SQS_QUEUE_URL };

export interface SqsSenderProps {
  /** Queue URLs the service may send tokens to (TASK_TOKEN_QUEUES). */
  readonly allowedQueues: readonly string[];
  /** Another endpoint (tests: a loopback server speaking the SQS JSON protocol). @default AWS's, from the queue URL's region */
  readonly endpoint?: string;
  /** Static credentials (tests). @default the SDK's chain: Pod Identity / IRSA in the cluster */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Per-request timeout, ms. @default 10000 */
  readonly timeoutMs?: number;
}

/** The region of a queue URL. */
export function queueRegion(queueUrl: string): string {
  const m = SQS_QUEUE_URL.exec(queueUrl);
  if (!m) throw new Error(`not an SQS queue URL: ${queueUrl}`);
  return m[1]!;
}

export class SqsSender {
  private readonly clients = new Map<string, SQSClient>();

  constructor(private readonly props: SqsSenderProps) {}

  allows(queueUrl: string): boolean {
    return this.props.allowedQueues.includes(queueUrl);
  }

  /** Sends one token message; throws with the SDK's reason when SQS refuses or does not answer. */
  async send(queueUrl: string, body: unknown, idempotencyKey: string, token: string): Promise<void> {
    const region = queueRegion(queueUrl);
    let client = this.clients.get(region);
    if (!client) {
      client = new SQSClient({
        region,
        ...(this.props.endpoint ? { endpoint: this.props.endpoint } : {}),
        ...(this.props.credentials ? { credentials: { ...this.props.credentials } } : {}),
        // The SDK's own endpoint setting (AWS_ENDPOINT_URL_SQS, as payload-reader.ts honours
        // AWS_ENDPOINT_URL_S3) must win: by default the SDK sends to the queue URL's host instead.
        ...(!this.props.endpoint && (process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL) ? { useQueueUrlAsEndpoint: false } : {}),
        maxAttempts: 1, // the wait step's open is retried by Argo, minting a new token
      });
      this.clients.set(region, client);
    }
    const fifo = queueUrl.endsWith('.fifo');
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(body),
        MessageAttributes: { 'Idempotency-Key': { DataType: 'String', StringValue: idempotencyKey } },
        // A FIFO queue keeps a run's messages in order; each token is its own message.
        ...(fifo ? { MessageGroupId: idempotencyKey.split('/')[0]!, MessageDeduplicationId: createHash('sha256').update(token).digest('hex') } : {}),
      }),
      { abortSignal: AbortSignal.timeout(this.props.timeoutMs ?? 10_000) },
    );
  }
}
