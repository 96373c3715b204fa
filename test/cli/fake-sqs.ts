/**
 * A loopback endpoint speaking SQS's JSON protocol (AWS JSON 1.0) for SendMessage and
 * SendMessageBatch, checking each request as the AWS API reference defines it (see
 * test/cli/sqs.test.ts for what that proves and does not).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const QUEUE_PATH = '/123456789012/swoop-test-process';
const SEND_MEMBERS = ['QueueUrl', 'MessageBody', 'DelaySeconds', 'MessageAttributes', 'MessageSystemAttributes', 'MessageDeduplicationId', 'MessageGroupId'];
const ENTRY_MEMBERS = ['Id', 'MessageBody', 'DelaySeconds', 'MessageAttributes', 'MessageSystemAttributes', 'MessageDeduplicationId', 'MessageGroupId'];

export interface Sent { readonly body: string; readonly messageId: string }

export class FakeSqs {
  readonly sent: Sent[] = [];
  readonly invalid: string[] = [];
  readonly operations: string[] = [];
  /** entries (by index in a batch) SQS reports as failed */
  failEntries = new Set<number>();
  status = 200;
  private server?: Server;
  private n = 0;
  url = '';

  private check(req: { headers: Record<string, string | string[] | undefined> }, body: any, queueUrl: string): string | undefined {
    if (req.headers['content-type'] !== 'application/x-amz-json-1.0') return `content-type ${req.headers['content-type']}`;
    if (!/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-west-2\/sqs\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/.test(String(req.headers.authorization))) {
      return `authorization ${req.headers.authorization}`;
    }
    if (body.QueueUrl !== queueUrl) return `QueueUrl ${body.QueueUrl}`;
    return undefined;
  }

  private body(messageBody: unknown): string | undefined {
    if (typeof messageBody !== 'string' || messageBody.length === 0) return 'MessageBody must be a non-empty string';
    if (Buffer.byteLength(messageBody) > 256 * 1024) return 'MessageBody over 256 KiB';
    return undefined;
  }

  private accept(messageBody: string) {
    const messageId = `00000000-0000-4000-8000-${String(++this.n).padStart(12, '0')}`;
    this.sent.push({ body: messageBody, messageId });
    return { MessageId: messageId, MD5OfMessageBody: createHash('md5').update(messageBody).digest('hex') };
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target']);
        this.operations.push(target);
        const error = (status: number, type: string, message: string) =>
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${type};Sender` }).end(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message }));
        if (this.status !== 200) return error(this.status, 'AccessDenied', 'User is not authorized to perform: sqs:sendmessage');
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          this.invalid.push('body is not JSON');
          return error(400, 'InvalidParameterValue', 'not JSON');
        }
        const problem = this.check(req, body, `${this.url}${QUEUE_PATH}`);
        if (problem) {
          this.invalid.push(problem);
          return error(400, 'InvalidParameterValue', problem);
        }
        if (target === 'AmazonSQS.SendMessage') {
          const unknown = Object.keys(body).filter((k) => !SEND_MEMBERS.includes(k));
          const bad = unknown.length ? `unknown members ${unknown}` : this.body(body.MessageBody);
          if (bad) {
            this.invalid.push(bad);
            return error(400, 'InvalidParameterValue', bad);
          }
          return res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(this.accept(body.MessageBody)));
        }
        if (target === 'AmazonSQS.SendMessageBatch') {
          const entries = body.Entries as any[];
          const unknown = Object.keys(body).filter((k) => !['QueueUrl', 'Entries'].includes(k));
          const ids = (entries ?? []).map((e) => e.Id);
          const bad = unknown.length ? `unknown members ${unknown}`
            : !Array.isArray(entries) || entries.length < 1 || entries.length > 10 ? `Entries must hold 1-10 entries, has ${entries?.length}`
              : new Set(ids).size !== ids.length ? 'BatchEntryIdsNotDistinct'
                : entries.map((e) => (ids.some((id) => !/^[A-Za-z0-9_-]{1,80}$/.test(id)) ? 'InvalidBatchEntryId' : Object.keys(e).some((k) => !ENTRY_MEMBERS.includes(k)) ? 'unknown entry member' : this.body(e.MessageBody))).find(Boolean);
          if (bad) {
            this.invalid.push(bad);
            return error(400, 'InvalidParameterValue', bad);
          }
          const successful: unknown[] = [];
          const failed: unknown[] = [];
          entries.forEach((e, i) => {
            if (this.failEntries.has(i)) failed.push({ Id: e.Id, SenderFault: false, Code: 'InternalError', Message: 'try again' });
            else successful.push({ Id: e.Id, ...this.accept(e.MessageBody) });
          });
          return res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ Successful: successful, Failed: failed }));
        }
        this.invalid.push(`operation ${target}`);
        return error(400, 'UnsupportedOperation', target);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

