import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../state/db';
import { JournalApplier } from '../../state/journal';
import { KubeClient } from '../../state/kube-client';
import { buildStateServer } from '../../state/server';
import { StateStore } from '../../state/store';
import { Submitter } from '../../state/submit';
import { FakeKubeApi } from '../support/kube-api';
import { HAVE_REFERENCE } from '../support/reference';
import { BACKEND, call, createTestDb, HAVE_POSTGRES, lifecycle, type TestDb, WRITER } from './support';

const NAMESPACE = 'swoop';
const KUBE_TOKEN = 'kube-token-of-the-state-service';

/** The service as service.ts wires it, on `port` (0: any), creating Workflows in the fake API server. */
async function startService(db: Db, kubeUrl: string | undefined, tokenFile: string, port = 0) {
  const applier = new JournalApplier({ db });
  const store = new StateStore(db, { onAccepted: (n) => applier.nudge(n) });
  const submitter = kubeUrl ? new Submitter({ store, kube: new KubeClient({ url: kubeUrl, tokenFile, timeoutMs: 2000 }), namespace: NAMESPACE }) : undefined;
  const app = buildStateServer({ store, submitter, writerToken: WRITER, readerToken: 'reader' });
  await app.listen({ host: '127.0.0.1', port });
  applier.start();
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    port: (app.server.address() as AddressInfo).port,
    close: async () => {
      await app.close();
      await applier.stop();
    },
  };
}

let serial = 0;
/** What the ingress sensor's trigger sends for a payload (docs/events.md). */
function submission(item: string, options: { name?: string; replace?: boolean; claim?: boolean; extra?: Record<string, string> } = {}) {
  const input = JSON.stringify({ type: 'FeatureCollection', features: [{ id: item, collection: 'c1' }], process: [{ workflow: 'wf-a', replace: options.replace ?? false }] });
  return {
    workflow: 'wf-a',
    name: options.name ?? `wf-a-${(++serial).toString(16).padStart(16, '0')}`,
    namespace: NAMESPACE,
    startedBy: 'ingress',
    ...(options.claim === false ? { claim: 'false' } : {}),
    arguments: { input, 'payload-id': '', replace: String(options.replace ?? false), ...options.extra },
  };
}

describe.skipIf(!HAVE_REFERENCE)(`POST /submit: claim before create (${BACKEND}, fake Kubernetes API on loopback)`, () => {
  let t: TestDb;
  let kube: FakeKubeApi;
  let s: Awaited<ReturnType<typeof startService>>;
  let tokenFile: string;
  beforeAll(async () => {
    t = await createTestDb();
    tokenFile = join(mkdtempSync(join(tmpdir(), 'swoop-kube-')), 'token');
    writeFileSync(tokenFile, `${KUBE_TOKEN}\n`);
    kube = new FakeKubeApi(KUBE_TOKEN);
    await kube.start();
    s = await startService(t.db, kube.url, tokenFile);
  });
  afterAll(async () => {
    await s?.close();
    await kube?.stop();
    await t?.drop();
  });
  beforeEach(() => {
    kube.delayMs = 0;
  });
  afterAll(() => expect(kube.invalid).toEqual([]));

  const submit = (body: unknown, token = WRITER) => call(s.url, 'POST', '/submit', { token, body });
  const runs = async (payloadLike: string) => t.db.query<{ run: string; state: string; claim: string }>(
    `SELECT run, state::text AS state, claim FROM runs WHERE input LIKE $1 ORDER BY attempt`, [`%${payloadLike}%`]);
  const finish = async (run: string, phase: 'Succeeded' | 'Failed') => {
    expect((await call(s.url, 'POST', '/events', { token: WRITER, body: lifecycle({ type: 'completed', run, phase, workflow: 'wf-a' }) })).status).toBe(202);
  };

  it('a new payload is claimed, then its Workflow is created: workflowTemplateRef, deterministic name, the arguments as given', async () => {
    const body = submission('NEW', { extra: { 'max-cloud-cover': '40' } });
    const answer = await submit(body);
    expect(answer).toEqual({ status: 201, body: { created: true, claimed: true, reason: 'new payload', run: body.name } });
    const wf = kube.workflows.get(`${NAMESPACE}/${body.name}`)!;
    expect(wf.metadata).toMatchObject({ name: body.name, namespace: NAMESPACE, labels: { 'swoop.dev/started-by': 'ingress' } });
    expect(wf.spec).toEqual({
      workflowTemplateRef: { name: 'wf-a' },
      arguments: { parameters: Object.entries(body.arguments).map(([name, value]) => ({ name, value })) },
    });
    expect(await runs('"NEW"')).toEqual([{ run: body.name, state: 'QUEUED', claim: 'claimed' }]);
  });

  it('a redelivery (same name) creates nothing: AlreadyExists is an answer, 200', async () => {
    const body = submission('REDELIVERED');
    expect((await submit(body)).status).toBe(201);
    const before = kube.workflows.size;
    expect(await submit(body)).toEqual({ status: 200, body: { created: false, claimed: true, reason: `Workflow ${body.name} already exists (a repeated delivery)`, run: body.name } });
    expect(kube.workflows.size).toBe(before);
  });

  it('a duplicate of an active payload (a new delivery) makes no Kubernetes request at all: 0 objects, 0 pods', async () => {
    const first = submission('ACTIVE');
    expect((await submit(first)).status).toBe(201);
    const requests = kube.requests.length;
    const dup = submission('ACTIVE');
    expect(await submit(dup)).toEqual({ status: 200, body: { created: false, claimed: false, reason: `payload is active: run ${first.name} is QUEUED`, run: first.name } });
    expect(kube.requests.length).toBe(requests);
    expect(await runs('"ACTIVE"')).toEqual([
      { run: first.name, state: 'QUEUED', claim: 'claimed' },
      { run: dup.name, state: 'CANCELED', claim: 'refused' },
    ]);
  });

  it('a succeeded payload is refused; with replace it runs again; a FAILED payload runs again', async () => {
    const first = submission('DONE');
    await submit(first);
    await finish(first.name, 'Succeeded');
    const again = submission('DONE');
    expect((await submit(again)).body).toMatchObject({ created: false, claimed: false, reason: `payload already succeeded: run ${first.name}` });
    const replace = submission('DONE', { replace: true });
    expect(await submit(replace)).toEqual({ status: 201, body: { created: true, claimed: true, reason: `replace: supersedes run ${first.name} (SUCCESSFUL)`, run: replace.name } });
    await finish(replace.name, 'Failed');
    const retry = submission('DONE');
    expect((await submit(retry)).body).toEqual({ created: true, claimed: true, reason: `retry after run ${replace.name} FAILED`, run: retry.name });
  });

  it('a redelivery after the run finished and its Workflow was garbage-collected starts nothing', async () => {
    const body = submission('COLLECTED');
    await submit(body);
    await finish(body.name, 'Succeeded');
    expect(kube.collect(NAMESPACE, body.name)).toBe(true);
    const requests = kube.requests.length;
    expect(await submit(body)).toEqual({ status: 200, body: { created: false, claimed: true, reason: `run ${body.name} already finished SUCCESSFUL`, run: body.name } });
    expect(kube.requests.length).toBe(requests);
    expect(kube.workflows.has(`${NAMESPACE}/${body.name}`)).toBe(false);
  });

  it('claim: "false" (platform templates) creates without touching the payload tables', async () => {
    const body = { workflow: 'swoop-dispatch', name: 'swoop-dispatch-00000000000000aa', namespace: NAMESPACE, claim: 'false', startedBy: 'ingress', arguments: { url: 's3://b/k.json', input: '{"url":"s3://b/k.json"}', source: 'swoop-ingress' } };
    expect(await submit(body)).toEqual({ status: 201, body: { created: true, claimed: null, reason: 'no claim (platform template)', run: body.name } });
    expect(await t.db.query('SELECT run FROM runs WHERE run = $1', [body.name])).toEqual([]);
    expect((await submit(body)).body).toMatchObject({ created: false, claimed: null });
  });

  it('the API server down or throttling: 503 with Retry-After, the claim stays; the retry creates exactly one Workflow', async () => {
    const body = submission('OUTAGE');
    kube.failNext(1, 503);
    kube.failNext(1, 0);
    kube.failNext(1, 429, 'TooManyRequests');
    for (const _ of [1, 2, 3]) {
      const answer = await submit(body);
      expect(answer.status).toBe(503);
      expect(answer.body.error).toBe('unavailable');
    }
    expect(await runs('"OUTAGE"')).toEqual([{ run: body.name, state: 'QUEUED', claim: 'claimed' }]);
    expect((await submit(body)).status).toBe(201);
    expect((await submit(body)).status).toBe(200);
    expect([...kube.workflows.keys()].filter((k) => k.endsWith(body.name))).toHaveLength(1);
  });

  it('a Workflow the API server refuses for good: 502, the run is recorded FAILED, and the payload is free again', async () => {
    const body = submission('REFUSED');
    kube.failNext(1, 422, 'Invalid');
    const answer = await submit(body);
    expect([answer.status, answer.body.error]).toEqual([502, 'bad_gateway']);
    expect(answer.body.message).toContain('422 Invalid');
    expect(await submit(body)).toEqual({ status: 200, body: { created: false, claimed: true, reason: `run ${body.name} already finished FAILED`, run: body.name } });
    const run = await call(s.url, 'GET', `/runs/${body.name}`, { token: WRITER });
    expect(run.body).toMatchObject({ state: 'FAILED', error: expect.stringContaining('the Workflow could not be created') });
    expect((await submit(submission('REFUSED'))).status).toBe(201);
  });

  it.each([
    ['no token', {}, 'authorization', 401],
    ['another namespace', { namespace: 'kube-system' }, 'namespace', 400],
    ['an unknown field', { generateName: 'x-' }, 'generateName', 400],
    ['a name Argo would refuse', { name: 'Has_Upper' }, 'name', 400],
    ['a name over 63 characters', { name: 'a'.repeat(64) }, 'name', 400],
    ['claim neither true nor false', { claim: 'maybe' }, 'claim', 400],
    ['a non-string argument', { arguments: { input: { inline: true } } }, 'arguments.input', 400],
    ['a bad replace', { arguments: { input: '{}', replace: 'yes' } }, 'replace', 400],
    ['a label value that is not one', { startedBy: 'a b' }, 'startedBy', 400],
  ])('%s is refused before anything is claimed or created', async (_, change, field, status) => {
    const requests = kube.requests.length;
    const count = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM runs'))[0]!.n;
    const answer = field === 'authorization' ? await submit(submission('BAD'), 'wrong') : await submit({ ...submission('BAD'), ...change });
    expect([answer.status, answer.body.field]).toEqual([status, field]);
    expect(kube.requests.length).toBe(requests);
    expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM runs'))[0]!.n).toBe(count);
  });

  it('without a Kubernetes API the route says so (503), and nothing is claimed', async () => {
    const other = await startService(t.db, undefined, tokenFile);
    try {
      const answer = await call(other.url, 'POST', '/submit', { token: WRITER, body: submission('NOKUBE') });
      expect(answer.status).toBe(503);
      expect(answer.body.message).toContain('KUBE_API_URL');
      expect(await runs('"NOKUBE"')).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe.skipIf(!HAVE_REFERENCE)(`a run's completion across a state service restart (${BACKEND}): recorded once, notified once`, () => {
  it('the exit handler\'s retry after a restart, and a redelivered submission after the Workflow was collected, add nothing', async () => {
    const t = await createTestDb();
    const dir = mkdtempSync(join(tmpdir(), 'swoop-kube-'));
    writeFileSync(join(dir, 'token'), KUBE_TOKEN);
    const kube = new FakeKubeApi(KUBE_TOKEN);
    await kube.start();
    let s = await startService(t.db, kube.url, join(dir, 'token'));
    try {
      const body = submission('RESTART');
      expect((await call(s.url, 'POST', '/submit', { token: WRITER, body })).status).toBe(201);
      const done = lifecycle({ type: 'completed', run: body.name, phase: 'Succeeded', workflow: 'wf-a' });
      expect((await call(s.url, 'POST', '/events', { token: WRITER, body: done })).status).toBe(202);
      await s.close();
      s = await startService(t.db, kube.url, join(dir, 'token'));
      expect((await call(s.url, 'POST', '/events', { token: WRITER, body: done })).status).toBe(202);
      kube.collect(NAMESPACE, body.name);
      expect((await call(s.url, 'POST', '/submit', { token: WRITER, body })).body.reason).toBe(`run ${body.name} already finished SUCCESSFUL`);
      const run = await call(s.url, 'GET', `/runs/${body.name}`, { token: WRITER });
      expect(run.body.history.map((h: { state: string }) => h.state)).toEqual(['QUEUED', 'SUCCESSFUL']);
      const outbox = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE run = $1', [body.name]);
      expect(outbox[0]!.n).toBe(1);
      expect(kube.workflows.size).toBe(0);
    } finally {
      await s.close();
      await kube.stop();
      await t.drop();
    }
  });
});

/** A sensor trigger's delivery: retried on any non-2xx answer or transport error (retryStrategy), scaled down. */
async function triggerDelivers(url: string, body: unknown, steps = 8): Promise<{ status: number; attempts: number }> {
  for (let i = 0; ; i++) {
    try {
      const answer = await call(url, 'POST', '/submit', { token: WRITER, body });
      if ((answer.status >= 200 && answer.status < 300) || i + 1 >= steps) return { status: answer.status, attempts: i + 1 };
    } catch {
      if (i + 1 >= steps) return { status: 0, attempts: i + 1 };
    }
    await new Promise((r) => setTimeout(r, 25 * 2 ** i));
  }
}

describe.skipIf(!HAVE_REFERENCE)(`the state service restarted mid-burst (${BACKEND}): nothing lost, nothing doubled`, () => {
  it('every payload ends with exactly one Workflow and one claimed run, duplicates and redeliveries included', async () => {
    const t = await createTestDb();
    const dir = mkdtempSync(join(tmpdir(), 'swoop-kube-'));
    writeFileSync(join(dir, 'token'), KUBE_TOKEN);
    const kube = new FakeKubeApi(KUBE_TOKEN);
    await kube.start();
    kube.delayMs = 5;
    let s = await startService(t.db, kube.url, join(dir, 'token'));
    const second: Db[] = [];
    try {
      const items = Array.from({ length: 24 }, (_, i) => `BURST_${i}`);
      // Each payload: its delivery, a redelivery of it (same name) and a duplicate (a new message).
      const bodies = items.flatMap((item) => {
        const first = submission(item);
        return [first, { ...first }, submission(item)];
      });
      const url = s.url;
      const deliveries = bodies.map((b, i) => new Promise<void>((resolve) => setTimeout(resolve, i * 4)).then(() => triggerDelivers(url, b)));
      // Restart once a third of the burst is out: the listener goes away, in-flight requests end.
      await new Promise((r) => setTimeout(r, bodies.length * 4 / 3));
      const port = s.port;
      await s.close();
      const db = HAVE_POSTGRES ? await t.open() : t.db;
      if (HAVE_POSTGRES) second.push(db);
      s = await startService(db, kube.url, join(dir, 'token'), port);
      const outcomes = await Promise.all(deliveries);
      expect(outcomes.every((x) => x.status === 200 || x.status === 201)).toBe(true);
      // The restart really happened mid-burst: some deliveries met it and were retried.
      expect(outcomes.some((x) => x.attempts > 1)).toBe(true);
      expect(outcomes.some((x) => x.attempts === 1)).toBe(true);
      expect(kube.invalid).toEqual([]);
      expect(kube.workflows.size).toBe(items.length);
      const claimed = await t.db.query<{ payload_id: string; n: number }>(
        `SELECT payload_id, count(*)::int AS n FROM runs WHERE claim = 'claimed' GROUP BY payload_id`);
      expect(claimed).toHaveLength(items.length);
      expect(claimed.every((r) => r.n === 1)).toBe(true);
      const created = new Set([...kube.workflows.values()].map((w) => w.metadata.name));
      const owners = await t.db.query<{ run: string }>(`SELECT run FROM runs WHERE claim = 'claimed'`);
      expect(new Set(owners.map((o) => o.run))).toEqual(created);
    } finally {
      await s.close();
      await kube.stop();
      await t.drop();
    }
  });
});
