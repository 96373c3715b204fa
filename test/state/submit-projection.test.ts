/**
 * POST /submit fills the payload projections (state/projection.ts) from the payload it claims:
 * inline, by reference `{"url", "process"}`, by a then() link's output URL, a parallel group's
 * member; objects are read from a loopback S3 (test/support/loopback-s3.ts, SigV4-signed
 * requests) through the AWS SDK, and the Workflow is created in the loopback Kubernetes API
 * server, which validates it against the upstream Argo schema. A payload that can never be
 * projected is a recorded failure (422, run FAILED); an S3 that cannot answer now is a 503.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JournalApplier } from '../../state/journal';
import { KubeClient } from '../../state/kube-client';
import { S3PayloadReader } from '../../state/payload-reader';
import { buildStateServer } from '../../state/server';
import { StateStore } from '../../state/store';
import { Submitter } from '../../state/submit';
import { FakeKubeApi } from '../support/kube-api';
import { LoopbackS3 } from '../support/loopback-s3';
import { HAVE_REFERENCE } from '../support/reference';
import { BACKEND, call, createTestDb, type TestDb, WRITER } from './support';

const NAMESPACE = 'swoop';
const KUBE_TOKEN = 'kube-token-of-the-state-service';
const STORE = 's3://swoop-test/payloads';
const MAX_BYTES = 4096;
const TIMEOUT_MS = 400;
const PROJECTION = {
  'payload-collections': 'collections',
  'payload-convert-batch': 'process.tasks.convert.batch',
  'payload-item-count': 'item-count',
};

const items = (n: number, collection = 'sentinel-2-l2a') => Array.from({ length: n }, (_, i) => ({ type: 'Feature', id: `item-${i}`, collection }));
const payload = (n: number, batch: unknown, extra: Record<string, unknown> = {}) => ({
  type: 'FeatureCollection', features: items(n), process: [{ workflow: 'wf-a', tasks: { convert: { batch } } }], ...extra,
});

let serial = 0;
function submission(input: unknown, projection: Record<string, string> = PROJECTION, workflow = 'wf-a') {
  return {
    workflow,
    name: `${workflow}-${(++serial).toString(16).padStart(16, '0')}`,
    namespace: NAMESPACE,
    startedBy: 'ingress',
    arguments: { input: typeof input === 'string' ? input : JSON.stringify(input), 'payload-id': '', replace: 'false' },
    projection,
  };
}

describe.skipIf(!HAVE_REFERENCE)(`POST /submit fills the payload projections from the claimed payload (${BACKEND}, loopback S3 and Kubernetes API)`, () => {
  let t: TestDb;
  let kube: FakeKubeApi;
  const s3 = new LoopbackS3();
  let reader: S3PayloadReader;
  let url = '';
  let close: () => Promise<void>;
  beforeAll(async () => {
    t = await createTestDb();
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'swoop-kube-')), 'token');
    writeFileSync(tokenFile, KUBE_TOKEN);
    kube = new FakeKubeApi(KUBE_TOKEN);
    await kube.start();
    await s3.start();
    for (const [k, v] of Object.entries(s3.credentials())) vi.stubEnv(k, v);
    const applier = new JournalApplier({ db: t.db });
    const store = new StateStore(t.db, { onAccepted: (n) => applier.nudge(n) });
    reader = new S3PayloadReader({ store: STORE, maxBytes: MAX_BYTES, timeoutMs: TIMEOUT_MS });
    const submitter = new Submitter({ store, kube: new KubeClient({ url: kube.url, tokenFile, timeoutMs: 2000 }), namespace: NAMESPACE, payloads: reader });
    const app = buildStateServer({ store, submitter, writerToken: WRITER, readerToken: 'reader' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    applier.start();
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    close = async () => {
      await app.close();
      await applier.stop();
    };
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await close?.();
    reader?.destroy();
    await s3.stop();
    await kube?.stop();
    await t?.drop();
  });
  beforeEach(() => {
    s3.delayMs = 0;
  });
  afterAll(() => expect(kube.invalid).toEqual([]));

  const submit = (body: unknown) => call(url, 'POST', '/submit', { token: WRITER, body });
  /** The created Workflow's arguments, by name. */
  const parameters = (name: string) => Object.fromEntries((kube.workflows.get(`${NAMESPACE}/${name}`)!.spec.arguments.parameters as { name: string; value: string }[]).map((p) => [p.name, p.value]));
  const projected = (name: string) => Object.fromEntries(Object.entries(parameters(name)).filter(([k]) => k in PROJECTION));
  const state = async (run: string) => (await call(url, 'GET', `/runs/${run}`, { token: WRITER })).body;

  it('an inline payload: every projection from it, with no S3 request; the Workflow carries the arguments, then the values', async () => {
    const gets = s3.gets.length;
    const body = submission(payload(3, true));
    expect((await submit(body)).status).toBe(201);
    expect(projected(body.name)).toEqual({ 'payload-collections': '["sentinel-2-l2a","sentinel-2-l2a","sentinel-2-l2a"]', 'payload-convert-batch': 'true', 'payload-item-count': '3' });
    expect(Object.keys(parameters(body.name))).toEqual(['input', 'payload-id', 'replace', 'payload-collections', 'payload-convert-batch', 'payload-item-count']);
    expect(s3.gets.length).toBe(gets);
  });

  it('a reference {"url", "process"}: the items from the object (one signed GET), process.tasks from the reference\'s process', async () => {
    const object = s3.put(`${STORE}/in/ref-1.json`, payload(5, 'from-the-object'));
    const body = submission({ url: object, process: [{ workflow: 'wf-a', tasks: { convert: { batch: false } } }] });
    expect((await submit(body)).status).toBe(201);
    expect(projected(body.name)).toMatchObject({ 'payload-convert-batch': 'false', 'payload-item-count': '5' });
    expect(s3.gets.at(-1)).toEqual({ path: '/swoop-test/payloads/in/ref-1.json', signed: true });
  });

  it('a then() link (the upstream run\'s output URL): items and process from the object', async () => {
    const output = s3.put(`${STORE}/upstream-run/publish/output.json`, payload(2, 'yes'));
    const body = submission(output);
    expect((await submit(body)).status).toBe(201);
    expect(projected(body.name)).toEqual({ 'payload-collections': '["sentinel-2-l2a","sentinel-2-l2a"]', 'payload-convert-batch': 'yes', 'payload-item-count': '2' });
  });

  it('a reference when only process.tasks is declared: nothing is read', async () => {
    const gets = s3.gets.length;
    const body = submission({ url: `${STORE}/never-read.json`, process: [{ workflow: 'wf-a', tasks: { convert: { batch: 7 } } }] }, { 'payload-convert-batch': 'process.tasks.convert.batch' });
    expect((await submit(body)).status).toBe(201);
    expect(parameters(body.name)['payload-convert-batch']).toBe('7');
    expect(s3.gets.length).toBe(gets);
  });

  it('a parallel first link: each member\'s run gets its own process.tasks', async () => {
    const group = { type: 'FeatureCollection', features: items(1), process: [[{ workflow: 'wf-a', tasks: { convert: { batch: 'a' } } }, { workflow: 'wf-b', tasks: { convert: { batch: 'b' } } }]] };
    const a = submission(group);
    const b = submission(group, PROJECTION, 'wf-b');
    expect((await submit(a)).status).toBe(201);
    expect((await submit(b)).status).toBe(201);
    expect([parameters(a.name)['payload-convert-batch'], parameters(b.name)['payload-convert-batch']]).toEqual(['a', 'b']);
  });

  it.each([
    ['outside the payload store', () => ({ url: 's3://someone-elses/bucket/key.json', process: [] }), /is not under the payload store s3:\/\/swoop-test\/payloads\//, false],
    ['an https:// URL', () => 'https://example.com/payload.json', /is not under the payload store/, false],
    ['a missing object (NoSuchKey)', () => `${STORE}/missing.json`, /cannot be read \(S3 answered 404 NoSuchKey/, true],
    ['an object over PAYLOAD_MAX_BYTES', () => s3.put(`${STORE}/big.json`, payload(200, true)), /larger than 4096 bytes \(PAYLOAD_MAX_BYTES\)/, true],
    ['an object that is not JSON', () => s3.put(`${STORE}/text.json`, 'not json'), /is not JSON/, true],
    ['a filtered then() link', () => ({ url: `${STORE}/x.json`, chain_filter: '@.id' }), /filtered then\(\) link/, false],
  ])('%s can never be projected: 422 (field input), the run recorded FAILED with why, its retry 200', async (_, input, message, reads) => {
    const gets = s3.gets.length;
    const body = submission(input());
    const answer = await submit(body);
    expect([answer.status, answer.body.error, answer.body.field]).toEqual([422, 'unprocessable', 'input']);
    expect(answer.body.message).toMatch(message);
    expect(s3.gets.length - gets).toBe(reads ? 1 : 0);
    expect(kube.workflows.has(`${NAMESPACE}/${body.name}`)).toBe(false);
    expect(await state(body.name)).toMatchObject({ state: 'FAILED', error: expect.stringMatching(message) });
    expect(await submit(body)).toMatchObject({ status: 200, body: { created: false, reason: `run ${body.name} already finished FAILED` } });
  });

  it.each([
    ['S3 throttling (503 SlowDown)', () => s3.failNext(1, 503, 'SlowDown'), /503 SlowDown/],
    ['S3 refusing the service\'s identity (403 AccessDenied: a role not yet bound)', () => s3.failNext(1, 403, 'AccessDenied'), /403 AccessDenied/],
    ['S3 slower than PAYLOAD_READ_TIMEOUT_SECONDS', () => { s3.delayMs = TIMEOUT_MS * 3; }, /took longer than 400 ms/],
  ])('%s: 503 with Retry-After, the claim stays QUEUED, the retry creates the Workflow with the same values', async (_, fail, message) => {
    const object = s3.put(`${STORE}/retry-${serial}.json`, payload(4, true));
    const body = submission(object);
    fail();
    const answer = await submit(body);
    expect([answer.status, answer.body.error]).toEqual([503, 'unavailable']);
    expect(answer.body.message).toMatch(message);
    expect(await state(body.name)).toMatchObject({ state: 'QUEUED' });
    s3.delayMs = 0;
    expect((await submit(body)).status).toBe(201);
    expect(projected(body.name)).toMatchObject({ 'payload-item-count': '4', 'payload-convert-batch': 'true' });
  });

  it.each([
    ['a path that is not a projection', { 'payload-x': 'features.0.id' }, 'projection.payload-x'],
    ['a parameter both argued and projected', { replace: 'item-count' }, 'projection.replace'],
    ['a projection that is not an object', 'item-count', 'projection'],
  ])('%s is refused (400) before anything is claimed or read', async (_, projection, field) => {
    const gets = s3.gets.length;
    const body = { ...submission(payload(1, true)), projection };
    const answer = await submit(body);
    expect([answer.status, answer.body.field]).toEqual([400, field]);
    expect(s3.gets.length).toBe(gets);
    expect(await t.db.query('SELECT run FROM runs WHERE run = $1', [body.name])).toEqual([]);
  });

  it('claim false (a platform template) takes no projection', async () => {
    const answer = await submit({ ...submission(payload(1, true)), claim: 'false' });
    expect([answer.status, answer.body.field]).toEqual([400, 'projection.payload-collections']);
  });
});
