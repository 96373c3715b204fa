/**
 * Map over the payload's items, end to end. Fixture workflows map a task, or an iteration of
 * several steps (retry, catch, when, item selector), over the features of their input, with a
 * concurrency limit, a failure tolerance or batches, and publish the merged ItemCollection.
 * Each run claims its payload at the real state service; the map's DAG is run as the
 * controller runs it (support/map.ts: withParam expansion, task group phase, depends, when,
 * the nested iteration DAG), its split and merge pods run the synthesized script with Argo's
 * S3 artifact handling over a local folder, and each task an iteration runs is played by a
 * stand-in that reads its input payload and writes its output where the arguments say (its
 * retries decided by runRetryNode from the task's retryStrategy); the merged payload is read
 * back at the map's `.output`, and the completed event reaches the state service.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerTask, TaskLibrary, Workflow, podsPerRun } from '../../constructs';
import { renderTags, workflowFailures, type Doc, type FailedNode } from './support/argo';
import { runDag, type TaskOutcome } from './support/dag';
import { fixtureManifests } from './support/fixture-app';
import { cirrusId, cirrusPayload } from './support/fixtures';
import { runMapStep, type MapRun, type TaskCall } from './support/map';
import { BACKEND, PAYLOAD_STORE, startPlatform, type RunningPlatform } from './support/platform';
import { runRetryNode, type Attempt } from './support/retry';
import type { ArgoRun } from './support/run';
import { LocalS3 } from './support/script-pod';

const image = 'ghcr.io/example/stac-tools:2.1.0';
const app = new App();
const lib = new TaskLibrary(app, 'lib');
const stamp = new ContainerTask(lib, 'stamp', { image, inputs: { parameters: { note: { default: 'none' } } } });
const convert = new ContainerTask(lib, 'convert', {
  image,
  errors: { throttled: 75, 'no-data': 65 },
  retry: { rules: [{ on: ['throttled'], limit: 2 }] },
});
const publish = new ContainerTask(lib, 'publish', { image });

const wf = new Workflow(app, 'map-items');
const perItem = wf.addMap('per-item', stamp, { maxConcurrency: 2, parameters: { note: 'stamped' } });
wf.addStep('publish', publish, { input: perItem.output });

const tolerant = new Workflow(app, 'map-tolerant');
tolerant.addStep('publish', publish, { input: tolerant.addMap('per-item', stamp, { toleratedFailureCount: 1, parameters: { note: 'stamped' } }).output });

// The ItemProcessor of several states: stamp with the item's id (ItemSelector), convert
// (retried when throttled; no data caught by a fallback), an audit only of some items.
const steps = new Workflow(app, 'map-steps');
const processed = steps.addMap('per-item', (iteration) => {
  const stamped = iteration.addStep('stamp', stamp, { parameters: { note: iteration.item.id } });
  const converted = iteration.addStep('convert', convert, { input: stamped.output });
  converted.onFailure(iteration.addStep('fallback', stamp, { input: stamped.output, parameters: { note: 'fallback' } }), { on: ['no-data'] });
  iteration.addStep('audit', stamp, { input: stamped.output, parameters: { note: 'audit' }, when: iteration.item.property('platform').equals('sentinel-2b') });
  iteration.setOutput(converted);
}, { maxConcurrency: 2 });
steps.addStep('publish', publish, { input: processed.output });

const batched = new Workflow(app, 'map-batches');
batched.addStep('publish', publish, {
  input: batched.addMap('per-batch', stamp, { maxItemsPerBatch: 2, toleratedFailurePercentage: 40, parameters: { note: 'batch' } }).output,
});

const manifests = fixtureManifests(app, [wf, tolerant, steps, batched]);

function payload(workflow: string, items: number, key: string): Doc {
  const p = cirrusPayload([{ workflow, tasks: { stamp: {} } }], { id: cirrusId(workflow, key), item: `S2B_MAP_${items}` });
  p.features = Array.from({ length: items }, (_, i) => ({
    ...p.features[0], id: `${p.features[0].id}_${i}`, properties: { ...p.features[0].properties, platform: i % 2 ? 'sentinel-2b' : 'sentinel-2a' },
  }));
  return p;
}

/** The stand-in's script for one task call: the attempts it makes (default one success). */
type Script = (call: TaskCall, input: Doc) => readonly Attempt[] | 'no-output' | undefined;
const ok: Attempt = { phase: 'Succeeded', exitCode: 0, message: '' };
const exit = (code: number): Attempt => ({ phase: 'Failed', exitCode: code, message: `Error (exit code ${code})` });

describe(`Map over items: split, iterations, merge, through the state service (${BACKEND})`, () => {
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

  const calls: TaskCall[] = [];
  /** Plays a task: its attempts under the task's retryStrategy; on success it writes the input's features stamped with `note`. */
  const player = (script: Script = () => undefined) => (call: TaskCall): TaskOutcome => {
    calls.push(call);
    const input = JSON.parse(s3.get(call.args.input!));
    const scripted = script(call, input);
    if (scripted === 'no-output') return { phase: 'Succeeded', exitCode: 0 };
    const attempts = scripted ?? [ok];
    const outcome = call.template.retryStrategy ? runRetryNode(call.template.retryStrategy, attempts) : { phase: attempts[0]!.phase, attempts: 1 };
    const last = attempts[Math.min(outcome.attempts, attempts.length) - 1]!;
    if (outcome.phase === 'Succeeded') {
      const note = call.args.note ?? call.step;
      s3.put(call.args.output!, JSON.stringify({ ...input, features: input.features.map((f: Doc) => ({ ...f, properties: { ...f.properties, note } })) }));
    }
    return { phase: outcome.phase, ...(last.exitCode !== undefined ? { exitCode: last.exitCode } : {}) };
  };

  async function start(workflow: string, body: Doc, key: string) {
    // The state service claims the payload and creates the run.
    return platform.start(workflow, { input: JSON.stringify(body), 'payload-id': cirrusId(workflow, key) });
  }

  /** Runs the entry DAG: the map step through support/map.ts, the other steps as stand-ins that succeed. */
  function runWorkflow(run: ArgoRun, mapTask: string, script?: Script): { map: MapRun; phases: Record<string, string>; phase: string } {
    let map: MapRun | undefined;
    const dag = runDag(run.dagTasks, run.scope(), (t) => {
      if (t.name !== mapTask) return { phase: 'Succeeded' };
      map = runMapStep(run, mapTask, s3, join(root, run.run.name), taskTemplate, player(script));
      return { phase: map.phase };
    });
    return { map: map!, phases: dag.phases, phase: dag.phase };
  }

  const taskTemplate = (ref: Doc): Doc => (manifests.find('WorkflowTemplate', ref.name).spec.templates as Doc[]).find((t) => t.name === ref.template)!;

  function mapOutput(run: ArgoRun): string {
    const publishTask = run.dagTasks.find((t) => t.name === 'publish')!;
    return renderTags(String((publishTask.arguments.parameters as Doc[]).find((p) => p.name === 'input')!.value), run.scope(), 'publish input');
  }

  async function finish(run: ArgoRun, phase: 'Succeeded' | 'Failed', failed: FailedNode[] = []) {
    expect((await run.running()).succeeded).toBe(true);
    expect((await run.completed(phase, workflowFailures(failed))).succeeded).toBe(true);
    return platform.read(`/runs/${run.run.name}`);
  }

  const failedNode = (run: ArgoRun, displayName: string, templateName: string): FailedNode => ({
    displayName, message: 'Error (exit code 1)', templateName, phase: 'Failed', podName: `${run.run.name}-${displayName}`, finishedAt: '2026-03-02T10:45:00Z',
  });

  it.each([
    ['an inline payload of three items', 3, 'inline'],
    ['a payload passed by s3:// URL', 2, 'url'],
  ] as const)('%s: one single-item iteration per feature, merged back in order with the process block', async (_label, count, how) => {
    const body = payload('map-items', count, `MAP-${how}`);
    const url = `s3://swoop-e2e/inputs/${how}.json`;
    if (how === 'url') s3.put(url, JSON.stringify(body));
    const run = await platform.start('map-items', { input: how === 'url' ? url : JSON.stringify(body), 'payload-id': cirrusId('map-items', `MAP-${how}`) });
    expect(run.templateNamed(String(run.dagTasks.find((t) => t.name === 'per-item')!.template)).parallelism).toBe(2);
    const { map, phases } = runWorkflow(run, 'per-item');
    expect(phases).toMatchObject({ 'per-item': 'Succeeded', publish: 'Succeeded' });
    expect(map.split!.artifacts.payload).toBe(how === 'url' ? 'file' : 'not-found');
    const inputs = map.iterations.map((i) => JSON.parse(s3.get(i.args.input!)));
    expect(inputs.map((i) => i.features.map((f: Doc) => f.id))).toEqual(body.features.map((f: Doc) => [f.id]));
    for (const i of inputs) expect(i).toMatchObject({ type: 'FeatureCollection', process: body.process });
    for (const i of inputs) expect(i.id).toBeUndefined(); // each single-item payload is a payload of its own
    expect(map.iterations.map((i) => i.args.output)).toEqual(map.iterations.map((_, n) => `${PAYLOAD_STORE}/${run.run.name}/per-item/items/${String(n).padStart(5, '0')}/output.json`));
    expect(map.iterations.every((i) => i.args.note === 'stamped')).toBe(true);

    const output = mapOutput(run);
    expect(output).toBe(`${PAYLOAD_STORE}/${run.run.name}/per-item/output.json`);
    expect(JSON.parse(s3.get(output))).toEqual({ ...body, features: body.features.map((f: Doc) => ({ ...f, properties: { ...f.properties, note: 'stamped' } })) });
    expect(await finish(run, 'Succeeded')).toMatchObject({ state: 'SUCCESSFUL', output: `${PAYLOAD_STORE}/${run.run.name}/publish/output.json` });
  });

  it('a payload without features runs no iteration (the item task is skipped) and merges to an empty ItemCollection', async () => {
    const body = payload('map-items', 0, 'MAP-empty');
    const run = await start('map-items', body, 'MAP-empty');
    const { map } = runWorkflow(run, 'per-item');
    expect(map.phases).toMatchObject({ split: 'Succeeded', item: 'Skipped', merge: 'Succeeded' });
    expect(map.merge!.artifacts.outputs).toBe('not-found');
    expect(JSON.parse(s3.get(mapOutput(run)))).toEqual({ ...body, features: [] });
  });

  it('without a tolerance a failed iteration fails the map: merge is omitted, publish too, and the run is recorded FAILED', async () => {
    const body = payload('map-items', 3, 'MAP-fail');
    const run = await start('map-items', body, 'MAP-fail');
    const { map, phases, phase } = runWorkflow(run, 'per-item', (call, input) => (input.features[0].id.endsWith('_1') ? [exit(1)] : undefined));
    expect(map.phases).toMatchObject({ split: 'Succeeded', item: 'Failed', merge: 'Omitted' });
    expect(map.merge).toBeUndefined();
    expect([phases.publish, phase]).toEqual(['Omitted', 'Failed']);
    expect(await finish(run, 'Failed', [failedNode(run, 'item(1:00001)', 'main')])).toMatchObject({ state: 'FAILED' });
  });

  it('an iteration that succeeds without writing its output fails the merge, and the run', async () => {
    const body = payload('map-items', 2, 'MAP-missing');
    const run = await start('map-items', body, 'MAP-missing');
    const { map, phase } = runWorkflow(run, 'per-item', (call) => (call.index === '00001' ? 'no-output' : undefined));
    expect(map.phases).toMatchObject({ item: 'Succeeded', merge: 'Failed' });
    expect(map.merge!.stderr).toContain('iteration(s) 00001 wrote no output payload (output.json): 1 of 2 item(s) failed');
    expect(phase).toBe('Failed');
    expect(await finish(run, 'Failed', [failedNode(run, 'merge', 'swoop-map-per-item-merge')])).toMatchObject({ state: 'FAILED' });
  });

  it.each([
    ['one failed item of three is tolerated: the others are merged, the run is SUCCESSFUL', ['_1'], 'Succeeded', 'SUCCESSFUL'],
    ['two failed items of three exceed toleratedFailureCount 1: merge fails, the run is FAILED', ['_0', '_2'], 'Failed', 'FAILED'],
  ] as const)('ToleratedFailureCount: %s', async (_label, failing, phase, state) => {
    const key = `MAP-tolerate-${failing.length}`;
    const body = payload('map-tolerant', 3, key);
    const run = await start('map-tolerant', body, key);
    const tolerantMap = run.templateNamed(String(run.dagTasks.find((t) => t.name === 'per-item')!.template));
    expect(tolerantMap.dag.failFast).toBe(false);
    const { map, phases } = runWorkflow(run, 'per-item', (call, input) => (failing.some((s) => input.features[0].id.endsWith(s)) ? [exit(1)] : undefined));
    // Argo's task group is Failed, and merge runs anyway (its depends names the failed outcomes).
    expect(map.phases).toMatchObject({ split: 'Succeeded', item: 'Failed', merge: phase });
    expect(phases.publish).toBe(phase === 'Succeeded' ? 'Succeeded' : 'Omitted');
    if (phase === 'Succeeded') {
      expect(map.merge!.stdout).toContain('1 of 3 item(s) failed, within the tolerance (1 item(s))');
      const merged = JSON.parse(s3.get(mapOutput(run)));
      expect(merged.features.map((f: Doc) => f.id)).toEqual([body.features[0].id, body.features[2].id]);
    } else {
      expect(map.merge!.stderr).toContain('2 of 3 item(s) failed, more than tolerated (1 item(s))');
    }
    const failed = failing.map((s, n) => failedNode(run, `item(${n}:${s})`, 'main'));
    expect(await finish(run, phase, failed)).toMatchObject({ state });
  });

  it('an iteration of several steps: item selector, retry, catch and when inside, the output step (or the handler) merged per item', async () => {
    calls.length = 0;
    const body = payload('map-steps', 3, 'MAP-steps');
    const run = await start('map-steps', body, 'MAP-steps');
    const ids = body.features.map((f: Doc) => f.id as string);
    const { map, phases } = runWorkflow(run, 'per-item', (call, input) => {
      if (call.step !== 'convert') return undefined;
      const id = input.features[0].id as string;
      if (id === ids[1]) return [exit(75), ok]; // throttled once, retried
      if (id === ids[2]) return [exit(65)]; // no data: caught
      return undefined;
    });
    expect(phases).toMatchObject({ 'per-item': 'Succeeded', publish: 'Succeeded' });
    expect(map.iterations.map((i) => i.steps)).toEqual([
      { stamp: 'Succeeded', convert: 'Succeeded', fallback: 'Omitted', audit: 'Skipped' },
      { stamp: 'Succeeded', convert: 'Succeeded', fallback: 'Omitted', audit: 'Succeeded' },
      { stamp: 'Succeeded', convert: 'Failed', fallback: 'Succeeded', audit: 'Skipped' },
    ]);
    // ItemSelector: each iteration's stamp got its own item's id.
    expect(calls.filter((c) => c.step === 'stamp').map((c) => c.args.note)).toEqual(ids);
    // Steps chain inside the iteration by URL, under the iteration's index.
    const convertCall = calls.find((c) => c.step === 'convert' && c.index === '00001')!;
    expect(convertCall.args).toMatchObject({
      input: `${PAYLOAD_STORE}/${run.run.name}/per-item/items/00001/stamp/output.json`,
      output: `${PAYLOAD_STORE}/${run.run.name}/per-item/items/00001/convert/output.json`,
    });
    const merged = JSON.parse(s3.get(mapOutput(run)));
    expect(merged.features.map((f: Doc) => [f.id, f.properties.note])).toEqual([[ids[0], 'convert'], [ids[1], 'convert'], [ids[2], 'fallback']]);
    expect(await finish(run, 'Succeeded', [failedNode(run, 'convert', 'main')])).toMatchObject({ state: 'SUCCESSFUL' });
  });

  it('ItemBatcher: two items per iteration, a failed batch counted by its items against ToleratedFailurePercentage', async () => {
    const body = payload('map-batches', 5, 'MAP-batches');
    const run = await start('map-batches', body, 'MAP-batches');
    const ids = body.features.map((f: Doc) => f.id as string);
    // The last batch (1 item of 5 = 20%) fails: within 40%.
    const { map } = runWorkflow(run, 'per-batch', (call) => (call.index === '00002' ? [exit(1)] : undefined));
    const batches = map.iterations.map((i) => JSON.parse(s3.get(i.args.input!)).features.map((f: Doc) => f.id));
    expect(batches).toEqual([[ids[0], ids[1]], [ids[2], ids[3]], [ids[4]]]);
    expect(map.phases.merge).toBe('Succeeded');
    expect(JSON.parse(s3.get(mapOutput(run))).features.map((f: Doc) => f.id)).toEqual(ids.slice(0, 4));
    // The first and last (3 items, 60%) fail: beyond 40%.
    const again = await start('map-batches', payload('map-batches', 5, 'MAP-batches-2'), 'MAP-batches-2');
    const worse = runWorkflow(again, 'per-batch', (call) => (call.index !== '00001' ? [exit(1)] : undefined));
    expect(worse.map.merge!.stderr).toContain('3 of 5 item(s) failed, more than tolerated (40%)');
    expect(worse.phase).toBe('Failed');
  });

  it('costs two pods (split, merge) besides one per item and container step, and synth says so', () => {
    expect(podsPerRun(wf)).toEqual({ workflow: 'map-items', pods: 2 + 10 + 1 + 1, naivePods: 2 + 2 + 10 + 1, assumedFanOut: 10, httpSteps: 2, mapPods: 2 });
    // four container steps per iteration (stamp, convert, fallback, audit: each counted as if it ran)
    expect(podsPerRun(steps)).toMatchObject({ pods: 2 + 40 + 1 + 1, mapPods: 2 });
    // 10 assumed items in batches of 2: 5 iterations
    expect(podsPerRun(batched)).toMatchObject({ pods: 2 + 5 + 1 + 1 });
  });
});
