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
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Simulator, sqsMessage } from '../../tools/simulator';
import { eventsFixture } from '../events/fixture';
import { FakeSqs, QUEUE_PATH, type Sent } from './fake-sqs';
import { BACKEND, call, createTestDb, READER, startTestService, WRITER, type TestDb, type TestService } from '../state/support';
import { submissions } from '../support/submissions';
import { swoop, writeManifests } from './support';

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
  const runOf = (s: Sent) => submissions(sim.deliver(sqsMessage('swoop-ingress-sqs', 'payload', s.body, s.messageId)).firings)[0]!.name;

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

describe(`swoop rerun through SQS, against the real state service (${BACKEND})`, () => {
  const fixture = eventsFixture();
  const sim = new Simulator(fixture.docs);
  const sqs = new FakeSqs();
  let db: TestDb;
  let service: TestService;
  let dir = '';
  const payload = (item: string) => ({ type: 'FeatureCollection', features: [{ type: 'Feature', id: item, collection: 'c1' }], process: [{ workflow: 'ingest', replace: true }, { workflow: 'cog' }] });

  /** Records a run of `ingest` that failed, as its claim step and exit handler would. */
  async function failedRun(run: string, item: string): Promise<void> {
    const input = JSON.stringify(payload(item));
    const now = new Date().toISOString();
    const claim = await call(service.url, 'POST', '/claim', { token: WRITER, body: { payloadId: '', workflow: 'ingest', run, input } });
    expect(claim.body).toMatchObject({ claimed: true });
    const done = await call(service.url, 'POST', '/events', { token: WRITER, body: { type: 'completed', workflow: 'ingest', run, phase: 'Failed', message: 'boom', startedAt: now, finishedAt: now, input } });
    expect(done.status).toBe(202);
  }

  beforeAll(async () => {
    db = await createTestDb();
    service = await startTestService(db.db);
    await sqs.start();
    dir = mkdtempSync(join(tmpdir(), 'swoop-sqs-rerun-'));
    writeManifests(join(dir, 'dist'), fixture.docs);
    writeFileSync(join(dir, 'swoop.config.yaml'), stringify({
      deployments: { q: { state: { url: service.url, readToken: READER }, ingress: { sqs: { queueUrl: `${sqs.url}${QUEUE_PATH}`, region: 'us-west-2' } }, manifests: 'dist' } },
    }));
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    await failedRun('ingest-failed-1', 'RERUN_1');
    await failedRun('ingest-failed-2', 'RERUN_2');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await sqs.stop();
    await service?.close();
    await db?.drop();
  });

  it('re-sends each failed payload as one SQS message with replace false; the runs printed are the ones the message ids name', async () => {
    const before = sqs.sent.length;
    const r = await swoop(['rerun', '--workflow', 'ingest', '--since', '1h', '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const sent = sqs.sent.slice(before);
    expect(sent).toHaveLength(2);
    for (const s of sent) expect(JSON.parse(s.body).process).toEqual([{ workflow: 'ingest', replace: false }, { workflow: 'cog' }]);
    const runOf = (s: Sent) => submissions(sim.deliver(sqsMessage('swoop-ingress-sqs', 'payload', s.body, s.messageId)).firings)[0]!.name;
    const byItem = Object.fromEntries(sent.map((s) => [JSON.parse(s.body).features[0].id, runOf(s)]));
    expect(out.payloads.map((e: any) => [e.payloadId, e.outcome, e.detail]).sort()).toEqual([
      ['c1/workflow-ingest/RERUN_1', 'sent', byItem.RERUN_1],
      ['c1/workflow-ingest/RERUN_2', 'sent', byItem.RERUN_2],
    ]);
    expect(sqs.invalid).toEqual([]);
  });
});
