import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArgoClient } from '../../state/argo-client';
import { configFromEnv } from '../../state/config';
import { CallbackTaskLoop } from '../../state/callback-task-loop';
import { CallbackTasks, isTokenShaped } from '../../state/callback-tasks';
import { type Db, openDb, quoteIdent } from '../../state/db';
import { JournalApplier } from '../../state/journal';
import { grantServiceRole } from '../../state/roles';
import { buildStateServer } from '../../state/server';
import { StateStore } from '../../state/store';
import { argoRequestValidators, FakeArgoServer, type SuspendNode } from '../support/argo-server';
import { HAVE_REFERENCE, REFERENCE_MISSING_MESSAGE } from '../support/reference';
import {
  BACKEND, call, createTestDb, DATABASE_URL, databaseUrlAs, lifecycle, payloadIdOf, READER, type TestDb, until, WRITER,
} from './support';

const ARGO_TOKEN = 'argo-token-for-tests';
const NS = 'swoop';

/** A loopback external system: records each token delivery; answers with `status()`. */
async function tokenReceiver() {
  const received: { headers: IncomingHttpHeaders; body: any; method: string }[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text), method: req.method ?? '' });
      res.writeHead(status).end('{}');
    });
  });
  server.keepAliveTimeout = 120_000; // longer than fetch keeps idle connections (see e2e/support/platform.ts)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/approvals`,
    received,
    setStatus: (s: number) => (status = s),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function suspendNode(run: string, step: string): SuspendNode {
  return {
    id: `${run}-${createHash('sha1').update(step).digest('hex').slice(0, 8)}`,
    name: `${run}.${step}.wait`,
    displayName: 'wait',
    templateName: `swoop-wait-${step}`,
    type: 'Suspend',
    phase: 'Running',
    outputs: { parameters: [{ name: 'output', valueFrom: { supplied: {} } }] },
  };
}

describe.skipIf(!HAVE_REFERENCE)(`wait-for-callback tasks through the HTTP API (${BACKEND})${HAVE_REFERENCE ? '' : ` - ${REFERENCE_MISSING_MESSAGE}`}`, () => {
  let t: TestDb;
  let db: Db;
  let url: string;
  let argo: FakeArgoServer;
  let rx: Awaited<ReturnType<typeof tokenReceiver>>;
  let loop: CallbackTaskLoop;
  let close: () => Promise<void>;
  const role = `swoop_test_cb_${randomBytes(5).toString('hex')}`;
  let n = 0;

  beforeAll(async () => {
    t = await createTestDb();
    db = t.db;
    if (DATABASE_URL) {
      // As deployed: the service connects as its own role, which writes only through grants.
      await grantServiceRole(t.db, { name: role });
      db = await t.open({ url: databaseUrlAs(role), maxConnections: 4 });
    }
    argo = new FakeArgoServer(ARGO_TOKEN);
    await argo.start();
    rx = await tokenReceiver();
    loop = new CallbackTaskLoop({ db, argo: new ArgoClient({ url: argo.url, token: ARGO_TOKEN }), pollIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 200, maxAttempts: 40 });
    const applier = new JournalApplier({ db });
    const store = new StateStore(db, { onAccepted: (k) => applier.nudge(k) });
    const tasks = new CallbackTasks({ db, canResume: true, onAnswered: () => loop.nudge() });
    const app = buildStateServer({ store, writerToken: WRITER, readerToken: READER, callbackTasks: tasks });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    applier.start();
    loop.start();
    close = async () => {
      await loop.stop();
      await app.close();
      await applier.stop();
    };
  });

  afterAll(async () => {
    await close?.();
    await rx?.close();
    await argo?.stop();
    await t?.drop();
    if (DATABASE_URL) {
      const admin = await openDb({ url: DATABASE_URL });
      await admin.exec(`DROP OWNED BY ${quoteIdent(role)}; DROP ROLE IF EXISTS ${quoteIdent(role)}`);
      await admin.close();
    }
  });

  beforeEach(() => {
    rx.setStatus(200);
    argo.failNext = { count: 0, status: 503 };
  });

  /** A claimed, running run with its wait step's suspend node in the fake Argo Server. */
  async function claimedRun(opts: { node?: boolean } = {}) {
    const run = `wait-run-${++n}`;
    const payloadId = payloadIdOf(n, 'approvals');
    expect((await call(url, 'POST', '/claim', { token: WRITER, body: { payloadId, workflow: 'approvals', run, input: 's3://in/x.json' } })).body.claimed).toBe(true);
    expect((await call(url, 'POST', '/events', { token: WRITER, body: lifecycle({ type: 'running', run, phase: 'Running', payloadId, workflow: 'approvals' }) })).status).toBe(202);
    argo.addWorkflow(NS, run, opts.node === false ? [] : [suspendNode(run, 'approve')]);
    return { run, payloadId, uid: `uid-${run}` };
  }

  const openBody = (run: string, uid: string, extra: Record<string, unknown> = {}) => ({
    namespace: NS, workflow: 'approvals', run, uid, step: 'approve', node: `${run}.approve.wait`,
    timeoutSeconds: 3600, input: 's3://in/x.json', parameters: { reviewer: 'ops' },
    send: { url: rx.url, headers: { 'X-Team': 'geo' }, authHeader: 'Authorization' },
    ...extra,
  });

  async function open(run: string, uid: string, extra: Record<string, unknown> = {}) {
    const before = rx.received.length;
    const res = await fetch(`${url}/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'application/json', 'x-swoop-send-authorization': 'Bearer receiver-secret' },
      body: JSON.stringify(openBody(run, uid, extra)),
    });
    const body = (await res.json()) as any;
    return { status: res.status, body, delivery: rx.received[before] };
  }

  const answer = (token: string, kind: string, body?: unknown): Promise<{ status: number; body: any }> =>
    call(url, 'POST', `/tasks/${token}/${kind}`, body === undefined ? {} : { body });

  it('opens a task: the token goes to the external system with its headers, and is stored only as a hash', async () => {
    const { run, uid } = await claimedRun();
    const opened = await open(run, uid);
    expect(opened.status).toBe(201);
    expect(opened.body).toEqual({ task: expect.any(String), state: 'WAITING', delivered: true });
    expect(JSON.stringify(opened.body)).not.toContain('swt1_'); // the workflow never sees the token
    const d = opened.delivery!;
    expect(d.method).toBe('POST');
    expect(d.headers.authorization).toBe('Bearer receiver-secret');
    expect(d.headers['x-team']).toBe('geo');
    expect(d.headers['idempotency-key']).toBe(`${uid}/approve`);
    expect(d.body).toEqual({
      taskToken: expect.any(String), workflow: 'approvals', run, step: 'approve', input: 's3://in/x.json',
      parameters: { reviewer: 'ops' }, heartbeatSeconds: null, timeoutSeconds: 3600,
    });
    const token = d.body.taskToken as string;
    expect(isTokenShaped(token)).toBe(true);
    expect(Buffer.from(token.slice(5), 'base64url')).toHaveLength(32); // 256 random bits
    const stored = await t.db.query<{ hash: Buffer; row: string }>(
      'SELECT k.token_hash AS hash, row_to_json(c)::text || row_to_json(k)::text AS row FROM callback_tokens k JOIN callback_tasks c ON c.id = k.task WHERE c.run = $1', [run]);
    expect(stored).toHaveLength(1);
    expect(Buffer.from(stored[0]!.hash).equals(createHash('sha256').update(token).digest())).toBe(true);
    expect(stored[0]!.row).not.toContain(token.slice(5));
  });

  it('success resumes the Argo node with the output through PUT .../set (valid against the swagger); a repeat is 409', async () => {
    const { run, uid } = await claimedRun();
    const token = (await open(run, uid)).delivery!.body.taskToken;
    const ok = await answer(token, 'success', { output: 's3://bucket/approved/output.json' });
    expect(ok).toEqual({ status: 202, body: { task: expect.any(String), run, step: 'approve', state: 'SUCCEEDED' } });
    await until(() => argo.node(NS, run, `${run}.approve.wait`)!.phase === 'Succeeded', 5_000);
    const node = argo.node(NS, run, `${run}.approve.wait`)!;
    expect(node.outputs!.parameters).toEqual([{ name: 'output', value: 's3://bucket/approved/output.json' }]);
    const sent = argo.requests.filter((r) => r.path === `/api/v1/workflows/${NS}/${run}/set`);
    expect(sent).toEqual([{
      method: 'PUT', path: `/api/v1/workflows/${NS}/${run}/set`, authorization: `Bearer ${ARGO_TOKEN}`, status: 200,
      body: { namespace: NS, name: run, nodeFieldSelector: `name=${run}.approve.wait`, phase: 'Succeeded', outputParameters: '{"output":"s3://bucket/approved/output.json"}' },
    }]);
    expect(argo.invalid).toEqual([]);

    for (const [kind, body] of [['success', { output: 's3://x' }], ['failure', { error: 'Late' }], ['heartbeat', undefined]] as const) {
      const again = await answer(token, kind, body);
      expect(again.status).toBe(409);
      expect(again.body.message).toMatch(/^task \d+ \(step "approve" of run "wait-run-\d+"\) was already answered \(SUCCEEDED at .+\); a task takes one answer$/);
    }
    // a JSON output is passed on as its text
    const second = await claimedRun();
    const token2 = (await open(second.run, second.uid)).delivery!.body.taskToken;
    expect((await answer(token2, 'success', { output: { type: 'FeatureCollection', features: [] } })).status).toBe(202);
    await until(() => argo.node(NS, second.run, `${second.run}.approve.wait`)!.phase === 'Succeeded', 5_000);
    expect(argo.node(NS, second.run, `${second.run}.approve.wait`)!.outputs!.parameters[0]!.value).toBe('{"type":"FeatureCollection","features":[]}');
  });

  it('failure fails the node with "error: cause" as its message', async () => {
    const { run, uid } = await claimedRun();
    const token = (await open(run, uid)).delivery!.body.taskToken;
    expect((await answer(token, 'failure', { error: 'Rejected', cause: 'the reviewer refused the scene' })).body.state).toBe('FAILED');
    await until(() => argo.node(NS, run, `${run}.approve.wait`)!.phase === 'Failed', 5_000);
    expect(argo.node(NS, run, `${run}.approve.wait`)!.message).toBe('Rejected: the reviewer refused the scene');
    expect(argo.requests.find((r) => r.path.endsWith(`/${run}/set`))!.body).toEqual({
      namespace: NS, name: run, nodeFieldSelector: `name=${run}.approve.wait`, phase: 'Failed', message: 'Rejected: the reviewer refused the scene',
    });
    expect(argo.invalid).toEqual([]);
  });

  it('answers unknown tokens 404 and bad bodies 400 naming the field, never 5xx', async () => {
    const { run, uid } = await claimedRun();
    const token = (await open(run, uid)).delivery!.body.taskToken;
    const unknown = `swt1_${randomBytes(32).toString('base64url')}`;
    expect(await answer(unknown, 'success', { output: 's3://x' })).toEqual({ status: 404, body: { error: 'not_found', field: 'token', message: 'no task has this token' } });
    expect((await answer('not-a-token', 'failure', { error: 'E' })).status).toBe(404);
    expect((await answer(`${token}x`, 'heartbeat')).status).toBe(404);
    const bad: [string, unknown, string][] = [
      ['success', {}, 'output'],
      ['success', { output: '' }, 'output'],
      ['success', { output: 's3://x', extra: 1 }, 'extra'],
      ['success', [], 'body'],
      ['failure', { cause: 'no error given' }, 'error'],
      ['failure', { error: 5 }, 'error'],
      ['failure', { error: 'x'.repeat(300) }, 'error'],
      ['heartbeat', { beat: true }, 'beat'],
    ];
    for (const [kind, body, field] of bad) {
      const res = await answer(token, kind, body);
      expect({ kind, body, status: res.status, field: res.body.field }).toEqual({ kind, body, status: 400, field });
      expect(res.body.message).not.toContain('\n');
    }
    const notJson = await call(url, 'POST', `/tasks/${token}/success`, { raw: '{"output": ', contentType: 'application/json' });
    expect(notJson.status).toBe(400);
    // the task is still open: a good answer still works
    expect((await answer(token, 'success', { output: 's3://ok' })).status).toBe(202);

    const badOpens: [Record<string, unknown>, string][] = [
      [{ timeoutSeconds: 0 }, 'timeoutSeconds'],
      [{ heartbeatSeconds: 'soon' }, 'heartbeatSeconds'],
      [{ node: 'other-run.approve.wait' }, 'node'],
      [{ send: { url: 'ftp://x' } }, 'send.url'],
      [{ send: { url: rx.url, method: 'GET' } }, 'send.method'],
      [{ send: { url: rx.url, secret: 'x' } }, 'send.secret'],
      [{ step: 'Approve!' }, 'step'],
      [{ extra: true }, 'extra'],
    ];
    for (const [extra, field] of badOpens) {
      const res = await open(run, uid, extra);
      expect({ extra, status: res.status, field: res.body.field }).toEqual({ extra, status: 400, field });
    }
    expect((await call(url, 'POST', '/tasks', { body: openBody(run, uid) })).status).toBe(401);
  });

  it('keeps the claim gate: a run that did not claim opens no task; a run that ended takes no answer', async () => {
    const unclaimed = await open('never-claimed', 'uid-never-claimed', { node: 'never-claimed.approve.wait' });
    expect(unclaimed.status).toBe(409);
    expect(unclaimed.body).toEqual({ error: 'conflict', field: 'run', message: 'run "never-claimed" (uid uid-never-claimed) has not claimed its payload; a wait step runs only after a successful claim' });
    expect(unclaimed.delivery).toBeUndefined();

    const { run, uid, payloadId } = await claimedRun();
    const token = (await open(run, uid)).delivery!.body.taskToken;
    const ended = await call(url, 'POST', '/events', { token: WRITER, body: lifecycle({ type: 'completed', run, phase: 'Failed', payloadId, workflow: 'approvals', message: 'Stopped with strategy \'Stop\'' }) });
    expect(ended.status).toBe(202);
    expect((await call(url, 'GET', `/runs/${run}`, { token: READER })).body.state).toBe('CANCELED');
    const late = await answer(token, 'success', { output: 's3://x' });
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/the run already ended \(CANCELED\); the answer is refused$/);
    expect((await open(run, uid)).status).toBe(409);
  });

  it('times out on a missed heartbeat (States.HeartbeatTimeout); heartbeats keep a task alive; a late answer is 409', async () => {
    const quiet = await claimedRun();
    const quietToken = (await open(quiet.run, quiet.uid, { heartbeatSeconds: 1 })).delivery!.body.taskToken;
    const beating = await claimedRun();
    const beatingToken = (await open(beating.run, beating.uid, { heartbeatSeconds: 1 })).delivery!.body.taskToken;
    const started = Date.now();
    while (Date.now() - started < 2_200) {
      const beat = await answer(beatingToken, 'heartbeat');
      expect(beat.status).toBe(200);
      expect(Date.parse(beat.body.heartbeatDueAt)).toBeGreaterThan(Date.now());
      await new Promise((r) => setTimeout(r, 300));
    }
    const quietNode = () => argo.node(NS, quiet.run, `${quiet.run}.approve.wait`)!;
    await until(() => quietNode().phase === 'Failed', 5_000);
    expect(quietNode().message).toBe('States.HeartbeatTimeout: no heartbeat or answer for 1 seconds');
    const late = await answer(quietToken, 'success', { output: 's3://late' });
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/timed out at .+; the answer came too late$/);
    expect(argo.node(NS, beating.run, `${beating.run}.approve.wait`)!.phase).toBe('Running');
    expect((await answer(beatingToken, 'success', { output: 's3://alive' })).status).toBe(202);
    await until(() => argo.node(NS, beating.run, `${beating.run}.approve.wait`)!.phase === 'Succeeded', 5_000);
    expect(argo.invalid).toEqual([]);
  });

  it('times out when no answer comes within timeoutSeconds (States.Timeout)', async () => {
    const { run, uid } = await claimedRun();
    const token = (await open(run, uid, { timeoutSeconds: 1 })).delivery!.body.taskToken;
    await until(() => argo.node(NS, run, `${run}.approve.wait`)!.phase === 'Failed', 5_000);
    expect(argo.node(NS, run, `${run}.approve.wait`)!.message).toBe('States.Timeout: no answer within 1 seconds of the task opening');
    expect((await answer(token, 'failure', { error: 'Late' })).status).toBe(409);
  });

  it('retries Argo until the answer lands: an outage, and an answer that arrives before the suspend node exists', async () => {
    const { run, uid } = await claimedRun({ node: false });
    const token = (await open(run, uid)).delivery!.body.taskToken;
    argo.failNext = { count: 2, status: 503 };
    expect((await answer(token, 'success', { output: 's3://early' })).status).toBe(202);
    await until(() => argo.requests.filter((r) => r.path.endsWith(`/${run}/set`)).length >= 4, 5_000);
    const node = suspendNode(run, 'approve');
    argo.workflows.get(`${NS}/${run}`)!.nodes.set(node.id, node); // Argo starts the suspend node after the answer came
    await until(() => argo.node(NS, run, `${run}.approve.wait`)?.phase === 'Succeeded', 5_000);
    const statuses = argo.requests.filter((r) => r.path.endsWith(`/${run}/set`)).map((r) => r.status);
    expect(statuses.slice(0, 3)).toEqual([503, 503, 500]); // 500: "no suspend nodes matching", retried
    expect(statuses.at(-1)).toBe(200);
    const [row] = await t.db.query<{ applied: boolean; attempts: number }>(
      'SELECT applied_at IS NOT NULL AS applied, apply_attempts AS attempts FROM callback_tasks WHERE run = $1', [run]);
    expect(row).toEqual({ applied: true, attempts: statuses.length });
  });

  it('gives up, keeping why for an operator: the workflow is gone (404), the run ended first, or maxAttempts failures', async () => {
    // The background loop pauses; a loop of this test's own, allowing 3 attempts, works the rows round by round.
    await loop.stop();
    const strict = new CallbackTaskLoop({ db, argo: new ArgoClient({ url: argo.url, token: ARGO_TOKEN }), retryBaseMs: 1, retryMaxMs: 1, maxAttempts: 3 });
    const row = async (run: string) => (await t.db.query<{ applied: boolean; due: boolean; attempts: number; error: string | null }>(
      'SELECT applied_at IS NOT NULL AS applied, next_apply_at IS NOT NULL AS due, apply_attempts AS attempts, apply_error AS error FROM callback_tasks WHERE run = $1', [run]))[0]!;
    const roundsUntilSettled = async (run: string) => {
      for (let i = 0; i < 10 && (await row(run)).due; i++) {
        await new Promise((r) => setTimeout(r, 5));
        await strict.round();
      }
      return row(run);
    };
    try {
      const gone = await claimedRun();
      expect((await answer((await open(gone.run, gone.uid)).delivery!.body.taskToken, 'success', { output: 's3://x' })).status).toBe(202);
      argo.workflows.delete(`${NS}/${gone.run}`);
      expect(await roundsUntilSettled(gone.run)).toEqual({
        applied: false, due: false, attempts: 1, error: `Argo Server answered 404: workflows.argoproj.io "${gone.run}" not found`,
      });

      const ended = await claimedRun();
      expect((await answer((await open(ended.run, ended.uid)).delivery!.body.taskToken, 'success', { output: 's3://x' })).status).toBe(202);
      expect((await call(url, 'POST', '/events', { token: WRITER, body: lifecycle({ type: 'completed', run: ended.run, phase: 'Failed', payloadId: ended.payloadId, workflow: 'approvals' }) })).status).toBe(202);
      await until(async () => (await call(url, 'GET', `/runs/${ended.run}`, { token: READER })).body.state === 'FAILED', 5_000);
      expect(await roundsUntilSettled(ended.run)).toEqual({ applied: false, due: false, attempts: 1, error: 'the run ended before the answer reached its node' });
      expect(argo.node(NS, ended.run, `${ended.run}.approve.wait`)!.phase).not.toBe('Succeeded');

      const down = await claimedRun();
      expect((await answer((await open(down.run, down.uid)).delivery!.body.taskToken, 'success', { output: 's3://x' })).status).toBe(202);
      argo.failNext = { count: 100, status: 503 };
      const settled = await roundsUntilSettled(down.run);
      expect(settled).toMatchObject({ applied: false, due: false, attempts: 3 });
      expect(settled.error).toMatch(/^Argo Server answered 503: .* \(gave up after 3 attempts\)$/);
    } finally {
      argo.failNext = { count: 0, status: 503 };
      loop.start();
    }
  });

  it('a failed delivery is 502 and the retried open delivers a new token; every token answers the one task, once', async () => {
    const { run, uid } = await claimedRun();
    rx.setStatus(500);
    const failed = await open(run, uid);
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ error: 'bad_gateway', field: 'send.url' });
    expect(failed.body.message).toMatch(/^delivering the task token to POST http:\/\/127\.0\.0\.1:\d+\/approvals failed: answered HTTP 500; retry the open$/);
    rx.setStatus(200);
    const retried = await open(run, uid);
    expect(retried.status).toBe(201);
    expect(retried.body.task).toBe(failed.body.task ?? retried.body.task);
    const [first, second] = [failed.delivery!.body.taskToken, retried.delivery!.body.taskToken];
    expect(first).not.toBe(second);
    expect((await answer(first, 'success', { output: 's3://one' })).status).toBe(202);
    expect((await answer(second, 'success', { output: 's3://two' })).status).toBe(409);
    // an open retried after the answer delivers nothing and reports the answer
    const afterAnswer = await open(run, uid);
    expect(afterAnswer).toMatchObject({ status: 200, body: { state: 'SUCCEEDED', delivered: false }, delivery: undefined });
  });

  it('opens no task when no Argo Server is configured (503): the step could never be resumed', async () => {
    const app = buildStateServer({ store: new StateStore(db), writerToken: WRITER, readerToken: READER, callbackTasks: new CallbackTasks({ db, canResume: false }) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const res = await call(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, 'POST', '/tasks', { token: WRITER, body: openBody('r', 'u', { node: 'r.approve.wait' }) });
      expect(res.status).toBe(503);
      expect(res.body.message).toBe('this state service cannot resume workflows: ARGO_SERVER_URL and ARGO_TOKEN are not set (docs/callbacks.md)');
    } finally {
      await app.close();
    }
  });
});

describe.skipIf(!HAVE_REFERENCE)('the Argo Server stand-in checks requests against the upstream swagger', () => {
  it('refuses a misspelt or mistyped field of WorkflowSetRequest, accepts the real ones', () => {
    const { set, resume } = argoRequestValidators();
    expect(set({ namespace: 'swoop', name: 'r', nodeFieldSelector: 'name=r.a.wait', phase: 'Succeeded', outputParameters: '{}', message: 'm' })).toBe(true);
    expect(set({ namespace: 'swoop', name: 'r', nodeSelector: 'name=r.a.wait' })).toBe(false);
    expect(set({ namespace: 'swoop', name: 'r', outputParameters: { output: 'x' } })).toBe(false);
    expect(resume({ namespace: 'swoop', name: 'r', nodeFieldSelector: 'name=r.a.wait' })).toBe(true);
    expect(resume({ namespace: 'swoop', name: 'r', phase: 'Succeeded' })).toBe(false);
  });
});

describe('state service configuration of the Argo Server', () => {
  const base = { STATE_WRITE_TOKEN: 'w', STATE_READ_TOKEN: 'r' };
  it('reads ARGO_SERVER_URL, ARGO_TOKEN and ARGO_INSECURE_SKIP_VERIFY; without a URL wait steps are refused', () => {
    expect(configFromEnv(base).argoServer).toBeUndefined();
    expect(configFromEnv({ ...base, ARGO_SERVER_URL: 'https://argo:2746', ARGO_TOKEN: 't' }).argoServer).toEqual({ url: 'https://argo:2746', token: 't', insecureSkipVerify: false });
    expect(configFromEnv({ ...base, ARGO_SERVER_URL: 'https://argo:2746', ARGO_TOKEN: 't', ARGO_INSECURE_SKIP_VERIFY: 'true' }).argoServer!.insecureSkipVerify).toBe(true);
  });
  it('fails at start naming the variable', () => {
    expect(() => configFromEnv({ ...base, ARGO_SERVER_URL: 'argo:2746', ARGO_TOKEN: 't' })).toThrow('ARGO_SERVER_URL must be an http(s) URL (got "argo:2746")');
    expect(() => configFromEnv({ ...base, ARGO_SERVER_URL: 'https://argo:2746' })).toThrow('ARGO_TOKEN is required with ARGO_SERVER_URL');
    expect(() => configFromEnv({ ...base, ARGO_INSECURE_SKIP_VERIFY: 'yes' })).toThrow('ARGO_INSECURE_SKIP_VERIFY must be true or false (got "yes")');
  });
});
