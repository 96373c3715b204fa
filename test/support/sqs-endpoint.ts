/**
 * A loopback stand-in for SQS's JSON protocol, enough for SendMessage: it records each request
 * and answers as SQS does, with the body's MD5 (which the SDK verifies), or with an SQS error
 * while `status` is not 200. The tests check the request's target, content type, SigV4
 * signature and body themselves; this proves the request the state service sends and its
 * handling of the answer, not that AWS accepts the signature.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class SqsEndpoint {
  public readonly received: { headers: IncomingHttpHeaders; body: any }[] = [];
  /** The status of the next answers; not 200: SQS's QueueDoesNotExist. */
  public status = 200;
  private server?: Server;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c));
      req.on('end', () => {
        const body = JSON.parse(text);
        this.received.push({ headers: req.headers, body });
        if (this.status !== 200) {
          res.writeHead(this.status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' }));
          return;
        }
        const md5 = createHash('md5').update(body.MessageBody).digest('hex');
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ MessageId: `m-${this.received.length}`, MD5OfMessageBody: md5 }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** SigV4 `Authorization` of a request signed for `region` and service sqs with `accessKeyId`. */
export const sqsSignature = (accessKeyId: string, region: string): RegExp =>
  new RegExp(`^AWS4-HMAC-SHA256 Credential=${accessKeyId}/\\d{8}/${region}/sqs/aws4_request, SignedHeaders=\\S+, Signature=[0-9a-f]{64}$`);
