import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

/** What a JSON call to another API answered: its status and body text, for the caller to interpret. */
export interface JsonAnswer {
  readonly status: number;
  readonly text: string;
}

export interface JsonRequest {
  readonly method: string;
  readonly body: string;
  readonly token: string;
  readonly timeoutMs: number;
  /** TLS settings for an https URL (a CA bundle, or skipping verification); ignored for http. */
  readonly tls?: Pick<RequestOptions, 'ca' | 'rejectUnauthorized'>;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * One JSON request with a bearer token and a hard timeout, shared by the clients of the Argo
 * Server (state/argo-client.ts) and of the Kubernetes API (state/kube-client.ts): both need the
 * raw status to tell a retryable answer from a refusal, so nothing here throws on a status.
 */
export function sendJson(url: URL, r: JsonRequest): Promise<JsonAnswer> {
  const https = url.protocol === 'https:';
  const request = https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: r.method,
      headers: { 'content-type': 'application/json', ...r.headers, 'content-length': Buffer.byteLength(r.body), authorization: `Bearer ${r.token}` },
      timeout: r.timeoutMs,
      ...(https ? r.tls : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${r.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(r.body);
  });
}
