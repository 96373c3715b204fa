/**
 * Map over the payload's items, end to end: a fixture workflow maps a task over the features
 * of its input (at most 2 at once) and publishes the merged ItemCollection. The run claims its
 * payload at the real state service; the map's DAG is rendered as the controller renders it
 * (arguments, withParam expansion with `item`, the `len(fromJSON(...))` count), its split and
 * merge pods run the synthesized script with Argo's S3 artifact handling over a local folder
 * (support/script-pod.ts), each iteration is played by a stand-in for the task that reads its
 * single-item input and writes its output where the arguments say; the merged payload is
 * read back at the map's `.output`, and the completed event reaches the state service.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerTask, TaskLibrary, Workflow, podsPerRun } from '../../constructs';
import { inputVariables, renderTags, workflowFailures, type Doc } from './support/argo';
import { runDag } from './support/dag';
import { fixtureManifests } from './support/fixture-app';
import { cirrusId, cirrusPayload } from './support/fixtures';
import { BACKEND, PAYLOAD_STORE, startPlatform, type RunningPlatform } from './support/platform';
import type { ArgoRun } from './support/run';
import { LocalS3, runScriptPod } from './support/script-pod';

const image = 'ghcr.io/example/stac-tools:2.1.0';
const app = new App();
const lib = new TaskLibrary(app, 'lib');
const stamp = new ContainerTask(lib, 'stamp', { image, inputs: { parameters: { note: { default: 'none' } } } });
const publish = new ContainerTask(lib, 'publish', { image });
const wf = new Workflow(app, 'map-items');
const perItem = wf.addMap('per-item', stamp, { maxConcurrency: 2, parameters: { note: 'stamped' } });
wf.addStep('publish', publish, { input: perItem.output });
const manifests = fixtureManifests(app, [wf]);

function payload(items: number, id: string): Doc {
  const p = cirrusPayload([{ workflow: 'map-items', tasks: { stamp: {} } }], { id, item: `S2B_MAP_${items}` });
  p.features = Array.from({ length: items }, (_, i) => ({ ...p.features[0], id: `${p.features[0].id}_${i}` }));
  return p;
}

describe(`Map over items: split, one iteration per feature, merge, through the state service (${BACKEND})`, () => {
  let platform: RunningPlatform;
  let root: string;
  let s3: LocalS3;
  beforeAll(async () => {
    platform = await startPlatform(manifests);
    root = mkdtempSync(join(tmpdir(), 'swoop-map-'));
    s3 = new LocalS3(join(root, 's3'));
  });
  afterAll(async () => {
    await platform?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Runs the map step of `run`; `iteration` plays the task for one single-item payload (undefined: it writes nothing). */
  function runMap(run: ArgoRun, iteration: (input: Doc, note: string) => Doc | undefined) {
    const scope = run.scope();
    const task = run.dagTasks.find((t) => t.name === 'per-item')!;
    const template = run.templateNamed(String(task.template));
    expect(template.parallelism).toBe(2);
    const args = Object.fromEntries((task.arguments.parameters as Doc[]).map((p) => [p.name, renderTags(String(p.value), scope, `per-item ${p.name}`)]));
    const inputs = inputVariables(template, args);
    const inner = (name: string) => (template.dag.tasks as Doc[]).find((t) => t.name === name)!;
    const innerArgs = (t: Doc, extra: Record<string, string>) =>
      Object.fromEntries(((t.arguments?.parameters ?? []) as Doc[]).map((p) => [p.name, renderTags(String(p.value), { ...scope, ...inputs, ...extra }, `${t.name} ${p.name}`)]));

    const splitTemplate = run.templateNamed(String(inner('split').template));
    const split = runScriptPod(splitTemplate, { ...scope, ...inputVariables(splitTemplate, innerArgs(inner('split'), {})) }, s3, join(root, run.run.name, 'split'));
    expect(split.exitCode, split.stderr).toBe(0);
    const splitOutputs = { 'tasks.split.outputs.parameters.items': split.outputs.items! };

    // withParam expands to one node per item, each rendered with `item` (dag.go expandTask).
    const item = inner('item');
    const indexes = JSON.parse(renderTags(String(item.withParam), { ...scope, ...splitOutputs }, 'item withParam')) as string[];
    // The task each iteration runs, followed through its templateRef, takes these arguments.
    const taskDoc = manifests.find('WorkflowTemplate', item.templateRef.name);
    const taskTemplate = (taskDoc.spec.templates as Doc[]).find((t) => t.name === item.templateRef.template)!;
    const iterations = indexes.map((index) => {
      const a = innerArgs(item, { ...splitOutputs, item: index });
      expect(inputVariables(taskTemplate, a)).toMatchObject({ 'inputs.parameters.note': 'stamped' });
      const input = JSON.parse(s3.get(a.input!));
      const out = iteration(input, a.note!);
      if (out) s3.put(a.output!, JSON.stringify(out));
      return { index, input, output: a.output! };
    });

    const mergeTemplate = run.templateNamed(String(inner('merge').template));
    const merge = runScriptPod(mergeTemplate, { ...scope, ...inputVariables(mergeTemplate, innerArgs(inner('merge'), splitOutputs)) }, s3, join(root, run.run.name, 'merge'));
    return { split, iterations, merge };
  }

  const stampIt = (input: Doc, note: string): Doc => ({ ...input, features: input.features.map((f: Doc) => ({ ...f, properties: { ...f.properties, note } })) });

  async function start(input: string, key: string) {
    // The state service claims the payload and creates the run.
    const run = await platform.start('map-items', { input, 'payload-id': cirrusId('map-items', key) });
    const dag = runDag(run.dagTasks, run.scope(), {});
    expect(dag.phases).toMatchObject({ 'per-item': 'Succeeded', publish: 'Succeeded' });
    return run;
  }

  function mapOutput(run: ArgoRun): string {
    const publishTask = run.dagTasks.find((t) => t.name === 'publish')!;
    return renderTags(String((publishTask.arguments.parameters as Doc[]).find((p) => p.name === 'input')!.value), run.scope(), 'publish input');
  }

  it.each([
    ['an inline payload of three items', 3, 'inline'],
    ['a payload passed by s3:// URL', 2, 'url'],
  ] as const)('%s: one single-item iteration per feature, merged back in order with the process block', async (_label, count, how) => {
    const body = payload(count, cirrusId('map-items', `MAP-${how}`));
    const url = `s3://swoop-e2e/inputs/${how}.json`;
    if (how === 'url') s3.put(url, JSON.stringify(body));
    const run = await start(how === 'url' ? url : JSON.stringify(body), `MAP-${how}`);
    const { split, iterations, merge } = runMap(run, stampIt);
    expect(split.artifacts.payload).toBe(how === 'url' ? 'file' : 'not-found');
    expect(iterations.map((i) => i.input.features.map((f: Doc) => f.id))).toEqual(body.features.map((f: Doc) => [f.id]));
    for (const i of iterations) expect(i.input).toMatchObject({ type: 'FeatureCollection', process: body.process });
    for (const i of iterations) expect(i.input.id).toBeUndefined(); // each single-item payload is a payload of its own
    expect(iterations.map((i) => i.output)).toEqual(iterations.map((_, n) => `${PAYLOAD_STORE}/${run.run.name}/per-item/items/${String(n).padStart(5, '0')}/output.json`));
    expect(merge.exitCode, merge.stderr).toBe(0);

    const output = mapOutput(run);
    expect(output).toBe(`${PAYLOAD_STORE}/${run.run.name}/per-item/output.json`);
    const merged = JSON.parse(s3.get(output));
    expect(merged).toEqual({ ...body, features: body.features.map((f: Doc) => ({ ...f, properties: { ...f.properties, note: 'stamped' } })) });

    expect((await run.running()).succeeded).toBe(true);
    expect((await run.completed('Succeeded', workflowFailures([]))).succeeded).toBe(true);
    expect(await platform.read(`/runs/${run.run.name}`)).toMatchObject({ state: 'SUCCESSFUL', output: `${PAYLOAD_STORE}/${run.run.name}/publish/output.json` });
  });

  it('a payload without features runs no iteration and merges to an empty ItemCollection', async () => {
    const body = payload(0, cirrusId('map-items', 'MAP-empty'));
    const run = await start(JSON.stringify(body), 'MAP-empty');
    const { iterations, merge } = runMap(run, stampIt);
    expect(iterations).toEqual([]);
    expect(merge.exitCode, merge.stderr).toBe(0);
    expect(merge.artifacts.outputs).toBe('not-found');
    expect(JSON.parse(s3.get(mapOutput(run)))).toEqual({ ...body, features: [] });
  });

  it('an iteration that writes no output fails the merge, and the run is recorded FAILED', async () => {
    const body = payload(2, cirrusId('map-items', 'MAP-missing'));
    const run = await start(JSON.stringify(body), 'MAP-missing');
    const { merge } = runMap(run, (input, note) => (input.features[0].id.endsWith('_1') ? undefined : stampIt(input, note)));
    expect(merge.exitCode).toBe(1);
    expect(merge.stderr).toContain('iteration 00001 wrote no output payload');
    const failures = workflowFailures([{ displayName: 'merge', message: 'Error (exit code 1)', templateName: 'swoop-map-per-item-merge', phase: 'Failed', podName: `${run.run.name}-merge`, finishedAt: '2026-03-02T10:45:00Z' }]);
    expect((await run.completed('Failed', failures)).succeeded).toBe(true);
    expect(await platform.read(`/runs/${run.run.name}`)).toMatchObject({ state: 'FAILED' });
  });

  it('costs two pods (split, merge) besides one per item, and synth says so', () => {
    expect(podsPerRun(wf)).toEqual({ workflow: 'map-items', pods: 2 + 10 + 1 + 1, naivePods: 2 + 2 + 10 + 1, assumedFanOut: 10, httpSteps: 2, mapPods: 2 });
  });
});
