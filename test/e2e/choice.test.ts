/**
 * Choice on the payload, end to end: a fixture workflow branches on `process.tasks.convert.batch`
 * and the number of items, and joins the branches with `wf.firstOf`. A payload goes through
 * the synthesized ingress sensor (the simulator, held against Argo Events' own libraries by
 * test/events/oracle.test.ts), whose trigger fills the projection parameters; the run claims
 * it at the real state service, the DAG is decided by the controller's rules
 * (support/dag.ts), the join is rendered with the tasks' statuses, and the completed event
 * reaches the state service. No step reads the payload: the pods per run are those of the
 * same workflow without the conditions.
 */
import { isSubmit, submissions } from '../support/submissions';
import { App } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerTask, TaskLibrary, Workflow, podsPerRun } from '../../constructs';
import { PAYLOAD_PROJECTION_ANNOTATION, projectPayload } from '../../constructs/payload';
import { Simulator, webhookEvent, type Firing } from '../../tools/simulator';
import { renderTags, workflowFailures, type Doc } from './support/argo';
import { runDag } from './support/dag';
import { fixtureManifests } from './support/fixture-app';
import { cirrusPayload } from './support/fixtures';
import { BACKEND, PAYLOAD_STORE, startPlatform, type RunningPlatform } from './support/platform';
import { ArgoRun } from './support/run';

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
  return { app, wf };
}

const fixture = build(true);
const manifests = fixtureManifests(fixture.app, [fixture.wf]);
const template = manifests.find('WorkflowTemplate', 'choice');

function payload(batch: unknown, items: number): Doc {
  const base = cirrusPayload([{ workflow: 'choice', tasks: { convert: batch === undefined ? {} : { batch } } }], { item: `S2B_CHOICE_${String(batch)}_${items}` });
  base.features = Array.from({ length: items }, (_, i) => ({ ...base.features[0], id: `${base.features[0].id}_${i}` }));
  return base;
}

/** The one run the ingress sensor hands to the state service (POST /submit), and its firing. */
function submittedArguments(firings: Firing[]): { name: string; params: Record<string, string>; firing: Firing } {
  const created = submissions(firings);
  expect(created).toHaveLength(1);
  return { name: created[0]!.name, params: created[0]!.params, firing: firings.find(isSubmit)! };
}

describe(`a Choice on payload content, filled by the ingress sensor, through the controller's DAG rules and the state service (${BACKEND})`, () => {
  let platform: RunningPlatform;
  const sim = new Simulator(manifests.docs);
  beforeAll(async () => {
    platform = await startPlatform(manifests);
  });
  afterAll(async () => platform?.stop());

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
    const { name, params, firing } = submittedArguments(sim.deliver(webhookEvent('swoop-ingress', 'payload', body)).firings);
    // The sensor's gjson paths and the shared projectPayload (what the state service calls) agree.
    const declaration = JSON.parse(template.metadata.annotations[PAYLOAD_PROJECTION_ANNOTATION]);
    expect(Object.fromEntries(Object.keys(declaration).map((k) => [k, params[k]]))).toEqual(projectPayload(body, declaration));
    expect(params['payload-item-count']).toBe(String(items));

    // The state service claims the payload and creates the Workflow with every argument the sensor filled.
    const answer = await platform.deliverSubmit(firing);
    expect([answer.status, answer.body.claimed]).toEqual([201, true]);
    const run = answer.run!;
    expect(run.parameters).toMatchObject(params);
    const dag = runDag(run.dagTasks, run.scope(), {});
    const other = branch === 'convert-batch' ? 'convert-single' : 'convert-batch';
    expect(dag.phases).toMatchObject({ [branch]: 'Succeeded', [other]: 'Skipped', publish: 'Succeeded' });
    expect(dag.phase).toBe('Succeeded');

    // publish's input as the controller renders it, with its ancestors' statuses in scope.
    const publish = run.dagTasks.find((t) => t.name === 'publish')!;
    const input = (publish.arguments.parameters as Doc[]).find((p) => p.name === 'input')!;
    const scope = { ...run.scope(), ...Object.fromEntries(Object.entries(dag.phases).map(([t, p]) => [`tasks.${t}.status`, p])) };
    expect(renderTags(String(input.value), scope, 'publish input')).toBe(`${PAYLOAD_STORE}/${name}/${branch}/output.json`);

    expect((await run.running()).succeeded).toBe(true);
    expect((await run.completed('Succeeded', workflowFailures([]))).succeeded).toBe(true);
    expect(await platform.read(`/runs/${name}`)).toMatchObject({ state: 'SUCCESSFUL', output: `${PAYLOAD_STORE}/${name}/publish/output.json` });
  });

  it('a payload passed by reference has no items the sensor can count: the condition fails the step (Argo: node Error) instead of choosing a branch', () => {
    const { params } = submittedArguments(sim.deliver(webhookEvent('swoop-ingress', 'payload', { url: 's3://bucket/ref.json', process: [{ workflow: 'choice', tasks: { convert: { batch: true } } }] })).firings);
    expect(params).toMatchObject({ 'payload-convert-batch': 'true', 'payload-item-count': '' });
    const run = new ArgoRun(structuredClone(template), { name: 'choice-ref', uid: 'uid-ref', creationTimestamp: '2026-03-02T10:15:30Z', arguments: params }, platform.cluster);
    expect(() => runDag(run.dagTasks, run.scope(), {})).toThrow(/asInt/);
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
