/**
 * A wait-for-callback step end to end: the synthesized template's HTTP open (rendered as the
 * agent would send it) reaches the real state service, which delivers the token to a loopback
 * receiver (or, for an SQS target read from the environment, sends it to a loopback SQS
 * endpoint, to the queue the ConfigMap holds); the answer posted to the real service resumes the suspend node through a
 * loopback Argo Server (swagger-checked, util.go semantics); the run goes on with the answer's
 * output, or fails with the error and cause, and is recorded so.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ContainerTask, environmentValues, synthesize, TaskLibrary, TaskTokenTarget, Workflow } from '../../constructs';
import { PlatformEvents } from '../../constructs/events';
import { FakeArgoServer } from '../support/argo-server';
import { HAVE_REFERENCE, REFERENCE_MISSING_MESSAGE } from '../support/reference';
import { SqsEndpoint, sqsSignature } from '../support/sqs-endpoint';
import { sendHttp, workflowFailures, type Doc } from './support/argo';
import { cirrusId, cirrusPayload } from './support/fixtures';
import { ARGO_TOKEN, BACKEND, startPlatform, type RunningPlatform } from './support/platform';

const NAME = 'e2e-approval';
const FAST = 'e2e-approval-fast';
const REVIEW_SECRET = { name: 'e2e-review-api', key: 'authorization' };
const BY_SQS = 'e2e-approval-sqs';
const LAST = 'e2e-approval-last';
const REVIEW_QUEUE = 'https://sqs.us-west-2.amazonaws.com/123456789012/e2e-review-tasks.fifo';
const env = environmentValues({ 'e2e-review-queue': 'the SQS queue reviewers take task tokens from' });

function synthesizeApproval(receiverUrl: string) {
  const app = new App();
  const lib = new TaskLibrary(app, 'task-library');
  const publish = new ContainerTask(lib, 'e2e-approved-publish', {
    image: 'ghcr.io/example/publisher:1.0.4', resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(128) } },
  });
  const wf = new Workflow(app, NAME, { parameters: { reviewer: { default: 'ops' } }, timeout: Duration.hours(1) });
  const approve = wf.addWaitForCallback('approve', {
    send: TaskTokenTarget.http({ url: receiverUrl, auth: { secret: REVIEW_SECRET } }),
    parameters: { reviewer: wf.params.reviewer },
    heartbeat: Duration.minutes(5),
    timeout: Duration.minutes(30),
  });
  wf.addStep('publish', publish, { input: approve.output });
  // The same step with timeouts short enough to watch them fire.
  const fast = new Workflow(app, FAST, { timeout: Duration.minutes(10) });
  const approveFast = fast.addWaitForCallback('approve', {
    send: TaskTokenTarget.http({ url: receiverUrl, auth: { secret: REVIEW_SECRET } }),
    heartbeat: Duration.seconds(2),
    timeout: Duration.seconds(5),
  });
  fast.addStep('publish', publish, { input: approveFast.output });
  // The token by SQS, to the queue the environment names.
  const bySqs = new Workflow(app, BY_SQS, { timeout: Duration.hours(1) });
  const approveBySqs = bySqs.addWaitForCallback('approve', { send: TaskTokenTarget.sqs({ queueUrl: env.value('e2e-review-queue') }) });
  bySqs.addStep('publish', publish, { input: approveBySqs.output });
  // The wait step as the run's last step: its answer is the run's output (cirrus: the archive's receipt).
  const last = new Workflow(app, LAST, { timeout: Duration.hours(1) });
  last.addWaitForCallback('approve', { send: TaskTokenTarget.http({ url: receiverUrl, auth: { secret: REVIEW_SECRET } }) });
  new PlatformEvents(app, 'events', { workflows: [wf, fast, bySqs, last] });
  const docs = [...synthesize(app).values()].flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as Doc)).filter(Boolean);
  return {
    docs,
    find(kind: string, name: string): Doc {
      const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
      if (!doc) throw new Error(`no ${kind}/${name}`);
      return doc;
    },
  };
}

describe.skipIf(!HAVE_REFERENCE)(`a wait-for-callback step through the real state service (${BACKEND})${HAVE_REFERENCE ? '' : ` - ${REFERENCE_MISSING_MESSAGE}`}`, () => {
  const deliveries: { headers: IncomingHttpHeaders; body: any }[] = [];
  let receiver: Server;
  let argo: FakeArgoServer;
  let platform: RunningPlatform;
  let manifests: ReturnType<typeof synthesizeApproval>;
  const sqs = new SqsEndpoint();
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    // The state service sends with the SDK's standard settings: these reach the loopback SQS (test/state/sqs-delivery.test.ts).
    await sqs.start();
    Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: sqs.url, AWS_ACCESS_KEY_ID: 'AKIDE2EEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
    receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body: JSON.parse(text) });
        res.writeHead(202).end('{}');
      });
    });
    receiver.keepAliveTimeout = 120_000; // longer than fetch keeps idle connections (see e2e/support/platform.ts)
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    argo = new FakeArgoServer(ARGO_TOKEN);
    await argo.start();
    manifests = synthesizeApproval(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/reviews`);
    // As a stack listing the queue in taskTokenQueues and setting workflowValues.e2e-review-queue writes them.
    platform = await startPlatform(manifests, { argoServerUrl: argo.url, values: { 'task-token-queues': REVIEW_QUEUE, 'e2e-review-queue': REVIEW_QUEUE } });
    (platform.cluster.secrets as Record<string, Record<string, string>>)[REVIEW_SECRET.name] = { [REVIEW_SECRET.key]: 'Bearer review-secret' };
  });
  afterAll(async () => {
    await platform?.stop();
    await argo?.stop();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    await sqs.stop();
    for (const k of ['AWS_ENDPOINT_URL_SQS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) if (savedEnv[k] === undefined) delete process.env[k]; else process.env[k] = savedEnv[k];
  });

  /** Claims, reports running, opens the wait step's task; returns the run, its token and its suspend node. */
  async function startRun(item: string, workflow = NAME) {
    const input = JSON.stringify(cirrusPayload([{ workflow }], { id: cirrusId(workflow, item), item }));
    const run = await platform.start(workflow, { input, 'payload-id': cirrusId(workflow, item) });
    expect(run.userTasksThatRun()).toEqual(workflow === LAST ? { approve: true } : { approve: true, publish: true });
    expect((await run.running()).succeeded).toBe(true);
    const dag = run.nestedDag('approve');
    const before = deliveries.length;
    const open = await sendHttp(dag.httpRequest('send'));
    expect({ status: open.status, succeeded: open.succeeded }).toEqual({ status: 201, succeeded: true });
    expect(open.body).not.toContain('swt1_'); // the token is not in the node's outputs
    // Argo starts the suspend node once the open succeeded.
    const nodes = dag.suspendNodes();
    expect(nodes.map((n) => n.name)).toEqual([`${run.run.name}.approve.wait`]);
    argo.addWorkflow('swoop', run.run.name, nodes);
    const delivery = deliveries[before]!;
    return { run, dag, input, delivery, token: delivery.body.taskToken as string, node: () => argo.node('swoop', run.run.name, nodes[0]!.name)! };
  }

  const until = async (cond: () => boolean) => {
    const end = Date.now() + 10_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`not in time; Argo requests ${JSON.stringify(argo.requests)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const answer = (token: string, kind: string, body: unknown) => fetch(`${platform.stateUrl}/tasks/${token}/${kind}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });

  it('success: the token reaches the receiver, the answer resumes the node, the next step reads its output, the run is SUCCESSFUL', async () => {
    const { run, dag, input, delivery, token, node } = await startRun('APPROVED');
    expect(delivery.headers.authorization).toBe('Bearer review-secret');
    expect(delivery.headers['idempotency-key']).toBe(`${run.run.uid}/approve`);
    expect(delivery.body).toMatchObject({ workflow: NAME, run: run.run.name, step: 'approve', input, parameters: { reviewer: 'ops' }, heartbeatSeconds: 300, timeoutSeconds: 1800 });

    expect((await answer(token, 'success', { output: 's3://swoop-e2e/reviewed/approved.json' })).status).toBe(202);
    await until(() => node().phase === 'Succeeded');
    expect(argo.invalid).toEqual([]);
    const approved = dag.outputs({ wait: node() });
    expect(approved).toEqual({ output: 's3://swoop-e2e/reviewed/approved.json' });
    expect(run.argument('publish', 'input', { approve: { parameters: approved } })).toBe('s3://swoop-e2e/reviewed/approved.json');

    expect((await run.completed('Succeeded', workflowFailures([]))).succeeded).toBe(true);
    const recorded = await platform.read(`/runs/${run.run.name}`);
    expect(recorded).toMatchObject({ state: 'SUCCESSFUL', error: null });
    expect((await answer(token, 'success', { output: 's3://again' })).status).toBe(409);
  });

  it('a wait step that ends the run: its answer, exported to the exit handler (globalName), is the run\'s recorded output', async () => {
    const template = manifests.find('WorkflowTemplate', LAST);
    const dagTemplate = (template.spec.templates as Doc[]).find((t) => t.name === 'swoop-wait-approve')!;
    expect(dagTemplate.outputs.parameters).toEqual([
      { name: 'output', globalName: 'swoop-wait-approve-output', valueFrom: { parameter: '{{tasks.wait.outputs.parameters.output}}' } },
    ]);
    const { run, dag, token, node } = await startRun('LAST', LAST);
    expect((await answer(token, 'success', { output: 's3://swoop-e2e/archive/receipt.json' })).status).toBe(202);
    await until(() => node().phase === 'Succeeded');
    const outputs = run.globalOutputs({ approve: { parameters: dag.outputs({ wait: node() }) } });
    expect(outputs).toEqual({ 'swoop-wait-approve-output': 's3://swoop-e2e/archive/receipt.json' });
    // The exit handler runs outside the DAG: without the exported output it cannot render (tasks.* is not defined there).
    expect(() => run.completedRequest('Succeeded', workflowFailures([]))).toThrow();
    expect((await run.completed('Succeeded', workflowFailures([]), outputs)).succeeded).toBe(true);
    expect(await platform.read(`/runs/${run.run.name}`)).toMatchObject({ state: 'SUCCESSFUL', output: 's3://swoop-e2e/archive/receipt.json' });
  });

  it('failure: the node fails with "error: cause", the run fails with it and is recorded FAILED', async () => {
    const { run, delivery, token, node } = await startRun('REJECTED');
    expect(delivery.body.run).toBe(run.run.name);
    const res = await answer(token, 'failure', { error: 'Rejected', cause: 'cloud cover 80% over the AOI' });
    expect(res.status).toBe(202);
    await until(() => node().phase === 'Failed');
    expect(node().message).toBe('Rejected: cloud cover 80% over the AOI');
    // Argo fails the run; workflow.failures lists the failed suspend node with its message.
    const failures = workflowFailures([{ displayName: 'wait', message: node().message!, templateName: node().templateName, phase: 'Failed', podName: '', finishedAt: '2026-03-02T10:20:00Z' }]);
    expect((await run.completed('Failed', failures)).succeeded).toBe(true);
    const recorded = await platform.read(`/runs/${run.run.name}`);
    expect(recorded).toMatchObject({ state: 'FAILED', error: 'wait: Rejected: cloud cover 80% over the AOI' });
    const forwarded = await platform.lifecycle.waitFor((r) => r.body.run === run.run.name);
    expect(forwarded.body).toMatchObject({ state: 'FAILED', error: 'wait: Rejected: cloud cover 80% over the AOI' });
  });

  it('the run\'s own deadline: Argo fails it, it is recorded TIMED_OUT, and a late answer is 409', async () => {
    const { run, token } = await startRun('TOO-LATE');
    const message = 'Step exceeded its deadline';
    expect((await run.completed('Failed', workflowFailures([{ displayName: 'wait', message, templateName: 'swoop-wait-approve-suspend', phase: 'Failed', podName: '', finishedAt: '2026-03-02T11:15:30Z' }]))).succeeded).toBe(true);
    expect((await platform.read(`/runs/${run.run.name}`)).state).toBe('TIMED_OUT');
    const late = await answer(token, 'success', { output: 's3://late' });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { message: string }).message).toMatch(/the run already ended \(TIMED_OUT\); the answer is refused$/);
  });

  /** Argo's own part at a timeout: nothing. The suspend node has no duration, which would resume it Succeeded. */
  function expectNoArgoTimeout(workflow: string) {
    const suspend = (manifests.find('WorkflowTemplate', workflow).spec.templates as Doc[]).find((t) => t.suspend !== undefined)!;
    expect(suspend.suspend).toEqual({});
    expect(suspend.timeout).toBeUndefined();
  }

  it('heartbeat timeout: no heartbeat for heartbeatSeconds fails the suspend node (States.HeartbeatTimeout), the run is FAILED with it, a late answer is 409', async () => {
    expectNoArgoTimeout(FAST);
    const { run, token, node } = await startRun('NO-HEARTBEAT', FAST);
    await until(() => node().phase === 'Failed');
    expect(argo.invalid).toEqual([]);
    expect(node().message).toBe('States.HeartbeatTimeout: no heartbeat or answer for 2 seconds');
    const failures = workflowFailures([{ displayName: 'wait', message: node().message!, templateName: node().templateName, phase: 'Failed', podName: '', finishedAt: '2026-03-02T10:20:00Z' }]);
    expect((await run.completed('Failed', failures)).succeeded).toBe(true);
    expect(await platform.read(`/runs/${run.run.name}`)).toMatchObject({ state: 'FAILED', error: 'wait: States.HeartbeatTimeout: no heartbeat or answer for 2 seconds' });
    expect((await answer(token, 'success', { output: 's3://late' })).status).toBe(409);
  });

  it('overall timeout: heartbeats keep the step waiting until timeoutSeconds, then States.Timeout fails it', async () => {
    const { run, token, node } = await startRun('HEARTBEATS', FAST);
    const opened = Date.now();
    const beats = setInterval(() => void answer(token, 'heartbeat', {}), 300);
    try {
      await until(() => node().phase === 'Failed');
    } finally {
      clearInterval(beats);
    }
    // Heartbeats every 0.3 s beat the 2 s heartbeat timeout (with room for a loaded machine); the 5 s overall one still fires.
    expect(Date.now() - opened).toBeGreaterThanOrEqual(4_500);
    expect(node().message).toBe('States.Timeout: no answer within 5 seconds of the task opening');
    expect((await run.completed('Failed', workflowFailures([{ displayName: 'wait', message: node().message!, templateName: node().templateName, phase: 'Failed', podName: '', finishedAt: '2026-03-02T10:20:00Z' }]))).succeeded).toBe(true);
    expect((await platform.read(`/runs/${run.run.name}`)).error).toBe('wait: States.Timeout: no answer within 5 seconds of the task opening');
  });

  it('SQS from the environment: the manifest names the key, the open carries the ConfigMap\'s queue, the state service sends the token there, the answer resumes the run', async () => {
    const template = manifests.find('WorkflowTemplate', BY_SQS);
    const send = (template.spec.templates as Doc[]).find((t) => t.name === 'swoop-wait-approve-send')!;
    expect(send.inputs.parameters).toContainEqual({ name: 'sqs-queue-url', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'e2e-review-queue' } } });
    expect(JSON.stringify(template)).not.toContain('e2e-review-tasks');

    const item = 'BY-SQS';
    const input = JSON.stringify(cirrusPayload([{ workflow: BY_SQS }], { id: cirrusId(BY_SQS, item), item }));
    const run = await platform.start(BY_SQS, { input, 'payload-id': cirrusId(BY_SQS, item) });
    expect((await run.running()).succeeded).toBe(true);
    const dag = run.nestedDag('approve');
    const request = dag.httpRequest('send');
    expect(JSON.parse(request.body).send).toEqual({ sqs: { queueUrl: REVIEW_QUEUE } });
    const before = sqs.received.length;
    const open = await sendHttp(request);
    expect({ status: open.status, succeeded: open.succeeded, body: open.body }).toMatchObject({ status: 201, succeeded: true });
    expect(sqs.received).toHaveLength(before + 1);
    const { headers, body } = sqs.received.at(-1)!;
    expect(headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    expect(headers.authorization).toMatch(sqsSignature('AKIDE2EEXAMPLE', 'us-west-2'));
    expect(body.QueueUrl).toBe(REVIEW_QUEUE);
    expect(body.MessageGroupId).toBe(run.run.uid); // FIFO: the run's messages in order
    const message = JSON.parse(body.MessageBody);
    expect(message).toMatchObject({ workflow: BY_SQS, run: run.run.name, step: 'approve', input });

    const nodes = dag.suspendNodes();
    argo.addWorkflow('swoop', run.run.name, nodes);
    expect((await answer(message.taskToken, 'success', { output: 's3://swoop-e2e/reviewed/by-sqs.json' })).status).toBe(202);
    const node = () => argo.node('swoop', run.run.name, nodes[0]!.name)!;
    await until(() => node().phase === 'Succeeded');
    expect(run.argument('publish', 'input', { approve: { parameters: dag.outputs({ wait: node() }) } })).toBe('s3://swoop-e2e/reviewed/by-sqs.json');
    expect((await run.completed('Succeeded', workflowFailures([]))).succeeded).toBe(true);
    expect((await platform.read(`/runs/${run.run.name}`)).state).toBe('SUCCESSFUL');
  });

  it('SQS from the environment: a ConfigMap value the service may not send to reaches it and is refused (what the synth check prevents)', async () => {
    const data = platform.cluster.configMaps['swoop-platform']!.data as Record<string, string>;
    const other = 'https://sqs.us-west-2.amazonaws.com/123456789012/unlisted';
    data['e2e-review-queue'] = other;
    try {
      const item = 'UNLISTED';
      const input = JSON.stringify(cirrusPayload([{ workflow: BY_SQS }], { id: cirrusId(BY_SQS, item), item }));
      const run = await platform.start(BY_SQS, { input, 'payload-id': cirrusId(BY_SQS, item) });
      const before = sqs.received.length;
      const open = await sendHttp(run.nestedDag('approve').httpRequest('send'));
      expect({ status: open.status, succeeded: open.succeeded }).toEqual({ status: 400, succeeded: false });
      expect(open.body).toContain(`send.sqs.queueUrl ${other} is not a queue this service sends task tokens to`);
      expect(sqs.received).toHaveLength(before);
    } finally {
      data['e2e-review-queue'] = REVIEW_QUEUE;
    }
  });
});
