/**
 * `swoop process --via sqs` through the real AWS SDK (@aws-sdk/client-sqs) against a loopback
 * endpoint that speaks SQS's JSON protocol (AWS JSON 1.0) for SendMessage and
 * SendMessageBatch, checking each request as the AWS API reference defines it: the target
 * header and content type, a SigV4 signature scoped to the queue's region and `sqs`, the
 * queue URL, only the members the operation has, MessageBody within 256 KiB, 1-10 batch
 * entries with unique ids of [A-Za-z0-9_-]{1,80}. It answers with a MessageId and the body's
 * MD5 (which the SDK verifies). What this proves: the CLI's requests are well-formed SQS calls
 * carrying the payload bytes unchanged, and the run name it prints is the one the deployment's
 * SQS sensor computes from the message id SQS assigned. What it does not: IAM permissions,
 * KMS, the real service's throttling or the EventSource's polling.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Simulator, sqsMessage } from '../../tools/simulator';
import { eventsFixture } from '../events/fixture';
import { swoop, writeManifests } from './support';

const QUEUE_PATH = '/123456789012/swoop-test-process';
const SEND_MEMBERS = ['QueueUrl', 'MessageBody', 'DelaySeconds', 'MessageAttributes', 'MessageSystemAttributes', 'MessageDeduplicationId', 'MessageGroupId'];
const ENTRY_MEMBERS = ['Id', 'MessageBody', 'DelaySeconds', 'MessageAttributes', 'MessageSystemAttributes', 'MessageDeduplicationId', 'MessageGroupId'];

interface Sent { readonly body: string; readonly messageId: string }

class FakeSqs {
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

describe('swoop process through SQS (AWS SDK against a loopback SQS JSON-protocol endpoint)', () => {
  const fixture = eventsFixture();
  const sim = new Simulator(fixture.docs);
  const sqs = new FakeSqs();
  let dir = '';
  const cli = (argv: string[], stdin?: string) => swoop(argv, { cwd: dir, stdin });
  const payload = (item: string) => ({ type: 'FeatureCollection', features: [{ type: 'Feature', id: item, collection: 'c1' }], process: [{ workflow: 'ingest' }] });

  beforeAll(async () => {
    await sqs.start();
    dir = mkdtempSync(join(tmpdir(), 'swoop-sqs-'));
    writeManifests(join(dir, 'dist'), fixture.docs);
    writeFileSync(join(dir, 'swoop.config.yaml'), stringify({
      deployments: { q: { ingress: { sqs: { queueUrl: `${sqs.url}${QUEUE_PATH}`, region: 'us-west-2' } }, manifests: 'dist' } },
    }));
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_PROFILE', '');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await sqs.stop();
  });

  /** The run the SQS sensor starts for a message SQS accepted (what the platform computes). */
  const runOf = (s: Sent) => {
    const f = sim.deliver(sqsMessage('swoop-ingress-sqs', 'payload', s.body, s.messageId)).firings.find((x) => x.action.type === 'k8s' || x.action.type === 'argoWorkflow')!;
    return ((f.action as { resource: any }).resource).metadata.name as string;
  };

  it('one payload is one SendMessage with the payload bytes; the run printed is the one the message id names', async () => {
    const before = sqs.sent.length;
    writeFileSync(join(dir, 'one.json'), JSON.stringify(payload('ITEM_ONE'), null, 2));
    const r = await cli(['process', 'one.json', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [sent] = sqs.sent.slice(before);
    expect(JSON.parse(sent!.body)).toEqual(payload('ITEM_ONE'));
    expect(JSON.parse(r.stdout).payloads).toEqual([{
      source: 'one.json', via: 'sqs', sent: true, messageId: sent!.messageId,
      runs: [{ workflow: 'ingest', run: runOf(sent!), payloadId: 'c1/workflow-ingest/ITEM_ONE' }],
    }]);
    expect(sqs.operations.at(-1)).toBe('AmazonSQS.SendMessage');
    expect(sqs.invalid).toEqual([]);
  });

  it('an NDJSON stream goes in SendMessageBatch requests of at most 10, each message its own run', async () => {
    const before = sqs.sent.length;
    const ops = sqs.operations.length;
    const lines = Array.from({ length: 12 }, (_, i) => JSON.stringify(payload(`ITEM_${i}`))).join('\n');
    const r = await cli(['process', '-', '--json'], lines);
    expect(r.code).toBe(0);
    expect(sqs.operations.slice(ops)).toEqual(['AmazonSQS.SendMessageBatch', 'AmazonSQS.SendMessageBatch']);
    const sent = sqs.sent.slice(before);
    expect(sent.map((s) => JSON.parse(s.body).features[0].id)).toEqual(Array.from({ length: 12 }, (_, i) => `ITEM_${i}`));
    expect(JSON.parse(r.stdout).payloads.map((x: any) => [x.source, x.messageId, x.runs[0].run])).toEqual(sent.map((s, i) => [`stdin:${i + 1}`, s.messageId, runOf(s)]));
    expect(new Set(sent.map(runOf)).size).toBe(12);
    expect(sqs.invalid).toEqual([]);
  });

  it('entries SQS refuses in a batch are named, with what was sent before', async () => {
    sqs.failEntries = new Set([1]);
    try {
      const lines = [1, 2, 3].map((i) => JSON.stringify(payload(`PARTIAL_${i}`))).join('\n');
      const r = await cli(['process', '-'], lines);
      expect([r.code, r.stderr]).toEqual([1, 'swoop: SQS refused 1 message(s): stdin:2 (InternalError: try again); 2 sent before (see above), 0 not sent; fix and send the rest again\n']);
    } finally {
      sqs.failEntries = new Set();
    }
  });

  it('an access denied is one line naming the queue and the permission', async () => {
    sqs.status = 403;
    try {
      writeFileSync(join(dir, 'denied.json'), JSON.stringify(payload('DENIED')));
      const r = await cli(['process', 'denied.json']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`swoop: SQS queue ${sqs.url}${QUEUE_PATH} refused the request (403 AccessDenied): User is not authorized to perform: sqs:sendmessage; check the AWS identity may sqs:SendMessage on it\n`);
    } finally {
      sqs.status = 200;
    }
  });

  it('refuses a payload larger than an SQS message before sending anything', async () => {
    const before = sqs.operations.length;
    const big = { ...payload('BIG'), padding: 'x'.repeat(300 * 1024) };
    writeFileSync(join(dir, 'big.json'), JSON.stringify(big));
    const r = await cli(['process', 'big.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^swoop: big\.json: \d+ bytes, more than an SQS message holds \(262144\); upload it to S3 and send \{"url": "s3:\/\/\.\.\.", "process": \[\.\.\.\]\}\n$/);
    expect(sqs.operations.length).toBe(before);
  });
});
