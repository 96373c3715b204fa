/**
 * A loopback S3 for the AWS SDK (AWS_ENDPOINT_URL_S3, path-style `GET /<bucket>/<key>`): each
 * request is recorded with whether it carries a SigV4 signature for the test credentials
 * (`credentials()`), and answered from `objects` (or `serve`, when given); a missing key is
 * S3's 404 `NoSuchKey` error document, so the SDK raises what it raises against S3.
 * `failNext(n, status, code)` answers the next n requests with an S3 error; `delayMs` holds
 * each answer back. Used by `swoop run --output` (test/cli) and the state service's payload
 * projections (test/state, test/e2e).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface S3Get {
  readonly path: string;
  readonly signed: boolean;
}

const REGION = 'us-west-2';
const ACCESS_KEY = 'AKIDEXAMPLE';

export class LoopbackS3 {
  readonly gets: S3Get[] = [];
  /** `<bucket>/<key>` -> body. */
  readonly objects = new Map<string, string>();
  delayMs = 0;
  private failures: { status: number; code: string }[] = [];
  private server?: Server;

  /** `serve(path)`: the body for a path, or undefined for NoSuchKey; default: `objects`. */
  constructor(private readonly serve?: (path: string) => string | undefined) {}

  /** The environment the SDK needs to reach this server with the test credentials. */
  credentials(): Record<string, string> {
    return { AWS_ENDPOINT_URL_S3: this.url, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: REGION };
  }

  /** Stores `body` (JSON-encoded unless a string) at `s3://<bucket>/<key>`; returns that URL. */
  put(url: string, body: unknown): string {
    const m = /^s3:\/\/(.+)$/.exec(url);
    if (!m) throw new Error(`not an s3:// URL: ${url}`);
    this.objects.set(m[1]!, typeof body === 'string' ? body : JSON.stringify(body));
    return url;
  }

  failNext(n: number, status: number, code: string): void {
    for (let i = 0; i < n; i++) this.failures.push({ status, code });
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
      const signed = new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/${REGION}/s3/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$`).test(req.headers.authorization ?? '');
      this.gets.push({ path, signed });
      const answer = (): void => {
        const error = (status: number, code: string): void => {
          res.writeHead(status, { 'content-type': 'application/xml' })
            .end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><Resource>${path}</Resource></Error>`);
        };
        const failure = this.failures.shift();
        const body = this.serve ? this.serve(path) : this.objects.get(path.replace(/^\//, ''));
        if (failure) error(failure.status, failure.code);
        else if (req.method !== 'GET') error(405, 'MethodNotAllowed');
        else if (!signed) error(403, 'AccessDenied');
        else if (body === undefined) error(404, 'NoSuchKey');
        else res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      };
      if (this.delayMs > 0) setTimeout(answer, this.delayMs);
      else answer();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
