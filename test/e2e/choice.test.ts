/**
 * Choice on the payload, end to end: a fixture workflow branches on `process.tasks.convert.batch`
 * and the number of items, and joins the branches with `wf.firstOf`. A payload goes through
 * the synthesized sensors (the simulator, held against Argo Events' own libraries by
 * test/events/oracle.test.ts), whose trigger hands the run and the projection declaration to
 * the real state service; the service claims it and fills the projections from the payload
 * (inline, or read through the AWS SDK from a loopback S3 when passed by URL or by a then()
 * link), the DAG is decided by the controller's rules (support/dag.ts), the join is rendered
 * with the tasks' statuses, and the completed event reaches the state service. No step reads
 * the payload: the pods per run are those of the same workflow without the conditions.
 */
import { isSubmit, submissions } from '../support/submissions';
import { App } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ContainerTask, TaskLibrary, Workflow, podsPerRun } from '../../constructs';
import { PAYLOAD_PROJECTION_ANNOTATION, projectPayload } from '../../constructs/payload';
import { Simulator, webhookEvent, type Firing } from '../../tools/simulator';
import { renderTags, workflowFailures, type Doc } from './support/argo';
import { runDag } from './support/dag';
import { fixtureManifests } from './support/fixture-app';
import { cirrusPayload } from './support/fixtures';
import { BACKEND, PAYLOAD_STORE, startPlatform, type RunningPlatform } from './support/platform';
import { type ArgoRun, runToEnd } from './support/run';
import { LoopbackS3 } from '../support/loopback-s3';

const image = 'ghcr.io/example/stac-tools:2.1.0';

function build(conditions: boolean) {
  const app = new App();
  const lib = new TaskLibrary(app, 'lib');
  const convert = new ContainerTask(lib, 'convert', { image });
  const publish = new ContainerTask(lib, 'publish', { image });
  const wf = new Workflow(app, 'choice');
  const batch = wf.payload.task('convert').param('batch');
  const several = wf.payload.itemCount.greaterThan(1);
  const batched = wf.addStep('convert-batch', convert, conditions ? { when: batch.isTrue().and(several) } : {});
  const single = wf.addStep('convert-single', convert, conditions ? { when: batch.isTrue().and(several).not() } : {});
  wf.addStep('publish', publish, { input: wf.firstOf(batched.output, single.output) });
  // A then() link into the Choice: its input is the upstream run's output URL.
  const upstream = new Workflow(app, 'upstream');
  upstream.addStep('work', convert);
  upstream.then(wf);
  return { app, wf, upstream };
}

const fixture = build(true);
const manifests = fixtureManifests(fixture.app, [fixture.wf, fixture.upstream]);
const template = manifests.find('WorkflowTemplate', 'choice');

function payload(batch: unknown, items: number): Doc {
  const base = cirrusPayload([{ workflow: 'choice', tasks: { convert: batch === undefined ? {} : { batch } } }], { item: `S2B_CHOICE_${String(batch)}_${items}` });
  base.features = Array.from({ length: items }, (_, i) => ({ ...base.features[0], id: `${base.features[0].id}_${i}` }));
  return base;
}

/** The one run a sensor hands to the state service (POST /submit), and its firing. */
function submittedArguments(firings: Firing[]): { name: string; params: Record<string, string>; projection: Record<string, string>; firing: Firing } {
  const created = submissions(firings);
  expect(created).toHaveLength(1);
  return { name: created[0]!.name, params: created[0]!.params, projection: { ...created[0]!.request.projection }, firing: firings.find(isSubmit)! };
}

const declaration = (): Record<string, string> => JSON.parse(template.metadata.annotations[PAYLOAD_PROJECTION_ANNOTATION]);

describe(`a Choice on payload content, filled by the ingress sensor, through the controller's DAG rules and the state service (${BACKEND})`, () => {
  let platform: RunningPlatform;
  const sim = new Simulator(manifests.docs);
  // The payload store the service reads payloads passed by URL from, through the AWS SDK.
  const s3 = new LoopbackS3();
  beforeAll(async () => {
    await s3.start();
    for (const [k, v] of Object.entries(s3.credentials())) vi.stubEnv(k, v);
    platform = await startPlatform(manifests);
  });
  afterAll(async () => {
    await platform?.stop();
    await s3.stop();
    vi.unstubAllEnvs();
  });

  /** The DAG of a created run: which branch ran, and what publish read. */
  function decided(run: ArgoRun, branch: string) {
    const dag = runDag(run.dagTasks, run.scope(), {});
    const other = branch === 'convert-batch' ? 'convert-single' : 'convert-batch';
    expect(dag.phases).toMatchObject({ [branch]: 'Succeeded', [other]: 'Skipped', publish: 'Succeeded' });
    expect(dag.phase).toBe('Succeeded');
    // publish's input as the controller renders it, with its ancestors' statuses in scope.
    const publish = run.dagTasks.find((t) => t.name === 'publish')!;
    const input = (publish.arguments.parameters as Doc[]).find((p) => p.name === 'input')!;
    const scope = { ...run.scope(), ...Object.fromEntries(Object.entries(dag.phases).map(([t, p]) => [`tasks.${t}.status`, p])) };
    expect(renderTags(String(input.value), scope, 'publish input')).toBe(`${PAYLOAD_STORE}/${run.run.name}/${branch}/output.json`);
  }

  it('declares its projections on the template, as parameters defaulting to the empty string', () => {
    expect(JSON.parse(template.metadata.annotations[PAYLOAD_PROJECTION_ANNOTATION])).toEqual({
      'payload-convert-batch': 'process.tasks.convert.batch', 'payload-item-count': 'item-count',
    });
    const params = (template.spec.arguments.parameters as Doc[]).filter((p) => p.name.startsWith('payload-') && p.name !== 'payload-id' && p.name !== 'payload-store');
    expect(params.map((p) => [p.name, p.value])).toEqual([['payload-convert-batch', ''], ['payload-item-count', '']]);
  });

  const cases: [string, unknown, number, string][] = [
    ['batch: true over three items takes the batch branch', true, 3, 'convert-batch'],
    ['batch: true over one item takes the single branch', true, 1, 'convert-single'],
    ['batch: "false" takes the single branch', 'false', 3, 'convert-single'],
    ['no batch setting takes the single branch', undefined, 2, 'convert-single'],
  ];

  it.each(cases)('%s, and publish reads that branch\'s output', async (_label, batch, items, branch) => {
    const body = payload(batch, items);
    const { name, params, projection, firing } = submittedArguments(sim.deliver(webhookEvent('swoop-ingress', 'payload', body)).firings);
    // The trigger sends the declaration, not values: the state service is the one that fills them.
    expect(projection).toEqual(declaration());
    expect(Object.keys(params).filter((k) => k in projection)).toEqual([]);

    // The state service claims the payload and creates the Workflow with the sensor's arguments and the projected values.
    const gets = s3.gets.length;
    const answer = await platform.deliverSubmit(firing);
    expect([answer.status, answer.body.claimed]).toEqual([201, true]);
    const run = answer.run!;
    expect(run.parameters).toMatchObject({ ...params, ...projectPayload(body, declaration(), 'choice') });
    expect(run.parameters['payload-item-count']).toBe(String(items));
    expect(s3.gets.length).toBe(gets); // inline: nothing read
    decided(run, branch);

    expect((await run.running()).succeeded).toBe(true);
    expect((await run.completed('Succeeded', workflowFailures([]))).succeeded).toBe(true);
    expect(await platform.read(`/runs/${name}`)).toMatchObject({ state: 'SUCCESSFUL', output: `${PAYLOAD_STORE}/${name}/publish/output.json` });
  });

  it('a payload passed by reference: the service reads its items from the payload store, so the item condition chooses a branch', async () => {
    const url = s3.put(`${PAYLOAD_STORE}/ingress/ref-3.json`, payload(false, 3));
    const { firing } = submittedArguments(sim.deliver(webhookEvent('swoop-ingress', 'payload', { url, process: [{ workflow: 'choice', tasks: { convert: { batch: true } } }] })).firings);
    const answer = await platform.deliverSubmit(firing);
    expect(answer.status).toBe(201);
    // process.tasks from the reference, the items from the object.
    expect(answer.run!.parameters).toMatchObject({ 'payload-convert-batch': 'true', 'payload-item-count': '3' });
    expect(s3.gets.at(-1)).toEqual({ path: `/${url.slice('s3://'.length)}`, signed: true });
    decided(answer.run!, 'convert-batch');
  });

  it('a parallel first link: the Choice\'s run reads its own member\'s process.tasks, not the other member\'s', async () => {
    const body = payload('parallel', 3); // items of their own: a payload id no other case claimed
    body.process = [[{ workflow: 'upstream', tasks: { convert: { batch: false } } }, { workflow: 'choice', tasks: { convert: { batch: true } } }]];
    const firings = sim.deliver(webhookEvent('swoop-ingress', 'payload', body)).firings;
    expect(submissions(firings).map((x) => x.template).sort()).toEqual(['choice', 'upstream']);
    const answer = await platform.deliverSubmit(firings.find((f) => submissions([f])[0]?.template === 'choice')!);
    expect(answer.status).toBe(201);
    expect(answer.run!.parameters).toMatchObject({ 'payload-convert-batch': 'true', 'payload-item-count': '3' });
    decided(answer.run!, 'convert-batch');
  });

  it('a then() link: the service projects the upstream run\'s output payload', async () => {
    const up = await platform.start('upstream', { input: JSON.stringify(payload(true, 1)), 'payload-id': '' });
    await runToEnd(up, 'Succeeded', workflowFailures([]));
    const finished = await platform.lifecycle.waitFor((r) => r.body.run === up.run.name);
    // The upstream run's last step wrote its output payload: two items, batch set.
    s3.put(finished.body.output, payload(true, 2));
    const { firing } = submittedArguments(sim.deliver(finished.event).firings);
    const answer = await platform.deliverSubmit(firing);
    expect(answer.status).toBe(201);
    expect(answer.run!.parameters).toMatchObject({ input: finished.body.output, 'payload-convert-batch': 'true', 'payload-item-count': '2' });
    decided(answer.run!, 'convert-batch');
  });

  it('a payload passed by URL outside the payload store cannot be projected: the run is recorded FAILED (422), no Workflow, no branch guessed', async () => {
    const { name, firing } = submittedArguments(sim.deliver(webhookEvent('swoop-ingress', 'payload', { url: 's3://elsewhere/ref.json', process: [{ workflow: 'choice', tasks: { convert: { batch: true } } }] })).firings);
    const answer = await platform.deliverSubmit(firing, { retried: true });
    expect([answer.status, answer.body.field]).toEqual([422, 'input']);
    expect(platform.kube.workflows.has(`swoop/${name}`)).toBe(false);
    expect(await platform.read(`/runs/${name}`)).toMatchObject({ state: 'FAILED', error: expect.stringContaining('is not under the payload store') });
    // The trigger retries a 422; the retry finds the run final and counts as delivered.
    expect((await platform.deliverSubmit(firing)).status).toBe(200);
  });

  it('adds no pod and no DAG task: the pods per run are those of the same workflow without the conditions', () => {
    const plain = build(false);
    expect(podsPerRun(fixture.wf)).toEqual(podsPerRun(plain.wf));
    expect(run().map((t) => t.name).sort()).toEqual(['convert-batch', 'convert-single', 'publish']);
    function run() {
      return template.spec.templates.find((t: Doc) => t.name === 'main').dag.tasks as Doc[];
    }
  });
});
