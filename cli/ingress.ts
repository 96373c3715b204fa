/**
 * Sending payloads to a deployment's ingress: the authenticated webhook (`POST /payloads`,
 * Bearer token, optional Idempotency-Key) or the SQS process queue (AWS SDK, credentials from
 * the usual AWS chain; batches of up to 10 with SendMessageBatch). Both are what producers use
 * (README "Events"); the CLI adds nothing the platform does not already accept.
 */
import { SQSClient, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type Deployment, ENV, need, needSecret } from './config';
import { CliError } from './io';
import { failOn, send } from './http';
import type { PayloadDoc } from './payloads';

export type Via = 'webhook' | 'sqs';

/** The ingress a command uses: --via, the deployment's `ingress.via`, SQS when a queue is set, else the webhook. */
export function chooseVia(deployment: Deployment, via: string | undefined): Via {
  const chosen = via ?? deployment.ingress.via ?? (deployment.ingress.sqs.queueUrl ? 'sqs' : 'webhook');
  if (chosen !== 'sqs' && chosen !== 'webhook') throw new CliError(`--via must be sqs or webhook (got "${chosen}")`);
  return chosen;
}

/** The headers a webhook request carries (Authorization added at send time, so predictions never hold the token). */
export function webhookHeaders(idempotencyKey: string | undefined): Record<string, string> {
  return { 'Content-Type': 'application/json', ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}) };
}

export async function sendWebhook(deployment: Deployment, doc: PayloadDoc, headers: Record<string, string>, signal?: AbortSignal): Promise<void> {
  const url = need(deployment.ingress.webhook.url, deployment, 'ingress.webhook.url', ENV.webhookUrl);
  const token = needSecret(deployment.ingress.webhook.token, deployment, 'ingress.webhook.token', ENV.webhookToken);
  const r = { what: 'ingress webhook', tokenHint: `ingress.webhook.token of deployment "${deployment.name}" or ${ENV.webhookToken}`, signal };
  const answer = await send(url, { ...r, method: 'POST', headers: { ...headers, Authorization: `Bearer ${token}` }, body: doc.text });
  failOn(answer, url, r);
}

/** Region of a queue URL `https://sqs.<region>.amazonaws.com/<account>/<name>`. */
function regionOf(queueUrl: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\//.exec(queueUrl)?.[1];
}

export class SqsSender {
  private readonly client: SQSClient;
  readonly queueUrl: string;

  constructor(deployment: Deployment) {
    this.queueUrl = need(deployment.ingress.sqs.queueUrl, deployment, 'ingress.sqs.queueUrl', ENV.sqsQueueUrl);
    const region = deployment.ingress.sqs.region ?? regionOf(this.queueUrl);
    // A queue outside AWS's own endpoints (a VPC endpoint, a local SQS) is reached at the queue URL's origin.
    const endpoint = regionOf(this.queueUrl) ? undefined : new URL(this.queueUrl).origin;
    this.client = new SQSClient({ ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}), maxAttempts: 3 });
  }

  private failure(e: unknown): CliError {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
    const status = err.$metadata?.httpStatusCode;
    const where = `SQS queue ${this.queueUrl}`;
    if (err.name === 'CredentialsProviderError' || /credential/i.test(err.message ?? '')) {
      return new CliError(`${where}: no AWS credentials (${err.message}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`);
    }
    if (/region/i.test(err.message ?? '') && !status) return new CliError(`${where}: no AWS region; set ingress.sqs.region in the deployment or AWS_REGION`);
    if (status === 401 || status === 403) return new CliError(`${where} refused the request (${status} ${err.name}): ${err.message}; check the AWS identity may sqs:SendMessage on it`);
    if (status) return new CliError(`${where} answered ${status} ${err.name}: ${err.message}`);
    return new CliError(`${where} is unreachable (${err.code ?? err.name ?? ''} ${err.message ?? ''}); check the queue URL and network`.replace(/\( /, '('));
  }

  /** Sends one message; the message id SQS assigned (the delivery's identity for the sensors). */
  async sendOne(doc: PayloadDoc, signal?: AbortSignal): Promise<string> {
    try {
      const out = await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: doc.text }), { abortSignal: signal });
      if (!out.MessageId) throw new CliError(`SQS queue ${this.queueUrl} answered without a MessageId`);
      return out.MessageId;
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw this.failure(e);
    }
  }

  /** Sends up to 10 messages in one request; per message its id, or the error SQS gave it. */
  async sendBatch(docs: readonly PayloadDoc[], signal?: AbortSignal): Promise<({ messageId: string } | { error: string })[]> {
    if (docs.length === 0) return [];
    if (docs.length > 10) throw new Error('SendMessageBatch takes at most 10 entries');
    try {
      const out = await this.client.send(new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: docs.map((d, i) => ({ Id: `m${i}`, MessageBody: d.text })),
      }), { abortSignal: signal });
      return docs.map((_, i) => {
        const ok = out.Successful?.find((s) => s.Id === `m${i}`);
        if (ok?.MessageId) return { messageId: ok.MessageId };
        const bad = out.Failed?.find((f) => f.Id === `m${i}`);
        return { error: bad ? `${bad.Code ?? 'error'}: ${bad.Message ?? ''}` : 'no result for this entry' };
      });
    } catch (e) {
      throw this.failure(e);
    }
  }

  close(): void {
    this.client.destroy();
  }
}
