/**
 * Reads a payload passed by URL for POST /submit's payload projections (state/projection.ts):
 * only objects under the payload store (`PAYLOAD_STORE`, the `payload-store` key of the
 * platform ConfigMap, where runs write their outputs), the only prefix the service's IAM role
 * may read (infra/artifact-bucket.ts), at most `maxBytes`, within `timeoutMs`.
 * Two ways to fail (docs/state.md, "Payload projections"):
 * - `PayloadUnreadable`: this payload can never be projected (outside the store, no such
 *   object, too large, not a JSON object); retrying cannot help;
 * - `PayloadUnavailable`: S3 did not answer in time, throttled, failed, or refused the
 *   service's identity (a role not yet in place); the submission is retried.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';

export class PayloadUnreadable extends Error {}
export class PayloadUnavailable extends Error {}

export interface PayloadReaderOptions {
  /** `s3://bucket/prefix` (PAYLOAD_STORE). */
  readonly store: string;
  /** Largest object read (PAYLOAD_MAX_BYTES). */
  readonly maxBytes: number;
  /** Time for the whole read, body included (PAYLOAD_READ_TIMEOUT_SECONDS). */
  readonly timeoutMs: number;
}

export interface PayloadReader {
  /** The parsed JSON object at `url`. */
  read(url: string): Promise<Record<string, unknown>>;
}

const S3_URL = /^s3:\/\/([^/]+)\/(.+)$/;

/** Why `store` is not a payload store URL, or undefined. */
export function payloadStoreProblem(store: string): string | undefined {
  return /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/.test(store) ? undefined : `PAYLOAD_STORE must be s3://<bucket>[/<prefix>] (got "${store}")`;
}

export class S3PayloadReader implements PayloadReader {
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: PayloadReaderOptions) {
    const problem = payloadStoreProblem(options.store);
    if (problem) throw new Error(problem);
    this.prefix = `${options.store.replace(/\/+$/, '')}/`;
    // The usual credential chain (Pod Identity in the cluster); AWS_ENDPOINT_URL_S3 reaches
    // another endpoint (path-style then, as S3-compatible stores and the tests need). A bucket
    // in another region is followed. One attempt: the trigger retries a 503 with its own
    // backoff, and an SDK retry would spend the submission's time budget.
    this.client = new S3Client({
      region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
      followRegionRedirects: true,
      forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL),
      maxAttempts: 1,
    });
  }

  async read(url: string): Promise<Record<string, unknown>> {
    const m = S3_URL.exec(url);
    if (!m || !url.startsWith(this.prefix)) {
      throw new PayloadUnreadable(`${url.slice(0, 200)} is not under the payload store ${this.prefix}, the only place the state service reads payloads from; inline the payload or put it under the payload store`);
    }
    const controller = new AbortController();
    let body: Readable | undefined;
    const timer = setTimeout(() => {
      controller.abort();
      body?.destroy(new PayloadUnavailable(`reading ${url} took longer than ${this.options.timeoutMs} ms`));
    }, this.options.timeoutMs);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }), { abortSignal: controller.signal });
      body = out.Body as Readable;
      if ((out.ContentLength ?? 0) > this.options.maxBytes) throw this.tooLarge(url);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > this.options.maxBytes) throw this.tooLarge(url);
        chunks.push(chunk as Buffer);
      }
      let doc: unknown;
      try {
        doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        throw new PayloadUnreadable(`${url} is not JSON; a payload is a JSON ItemCollection`);
      }
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new PayloadUnreadable(`${url} is not a JSON object; a payload is a JSON ItemCollection`);
      return doc as Record<string, unknown>;
    } catch (e) {
      if (e instanceof PayloadUnreadable || e instanceof PayloadUnavailable) throw e;
      if (controller.signal.aborted) throw new PayloadUnavailable(`reading ${url} took longer than ${this.options.timeoutMs} ms`);
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = err.$metadata?.httpStatusCode ?? 0;
      const what = `S3 answered ${status || 'nothing'} ${err.name ?? ''}: ${err.message ?? ''}`.replace(/\s+/g, ' ').trim();
      // Gone or refused for good; 403 is not: without s3:ListBucket a missing key is 403, but so is a role not yet bound.
      if (err.name === 'NoSuchKey' || (status >= 400 && status < 500 && ![403, 408, 429].includes(status))) {
        throw new PayloadUnreadable(`${url} cannot be read (${what})`);
      }
      throw new PayloadUnavailable(`${url} could not be read (${what})`);
    } finally {
      clearTimeout(timer);
      body?.destroy();
    }
  }

  private tooLarge(url: string): PayloadUnreadable {
    return new PayloadUnreadable(`${url} is larger than ${this.options.maxBytes} bytes (PAYLOAD_MAX_BYTES), too large to project; branch on process.tasks only, or raise PAYLOAD_MAX_BYTES`);
  }

  destroy(): void {
    this.client.destroy();
  }
}
