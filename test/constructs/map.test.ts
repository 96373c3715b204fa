/**
 * Map over items (constructs/map.ts): what it renders, that the rendering is valid for the
 * upstream schema and the lint, the pods it costs, the split/merge script on its own, and the
 * one-line errors of misuse. The end-to-end flow is test/e2e/map.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ContainerTask, MAP_IMAGE, MAP_SCRIPT_FILE, MapItem, type MapIteration, podsPerRun, synthesize, Workflow } from '../../constructs';
import { PlatformEvents } from '../../constructs/events';
import { lintObjects } from '../../tools/lint/index';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';
import { fixture, problemsOf } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function docs(app: App): Json[] {
  return [...synthesize(app).values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as Json)).filter(Boolean);
}

function mapped(options: { service?: boolean; maxConcurrency?: number } = {}) {
  const f = fixture();
  const wf = new Workflow(f.app, 'wf');
  const split = wf.addStep('split', f.tasks.split);
  const map = options.service
    ? wf.addMap('each', f.tasks.publish, { input: split.output, maxConcurrency: options.maxConcurrency })
    : wf.addMap('each', f.tasks.convert, { input: split.output, maxConcurrency: options.maxConcurrency ?? 4, parameters: { asset: 'B04', compression: wf.params['payload-id'] } });
  wf.addStep('merge', f.tasks.merge, { input: map.output, parameters: { parts: '[]' } });
  return { f, wf, map };
}

const templates = (all: Json[]) => all.find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === 'wf')!.spec.templates as Json[];
const named = (t: Json[], name: string): Json => t.find((x) => x.name === name)!;

describe('Map over items', () => {
  it('renders one DAG task calling the map template: split -> item (withParam) -> merge, parallelism = maxConcurrency', () => {
    const all = docs(mapped().f.app);
    const t = templates(all);
    const main = named(t, 'main').dag.tasks as Json[];
    expect(named(main, 'each')).toMatchObject({
      template: 'swoop-map-each',
      depends: 'split',
      arguments: { parameters: [
        { name: 'input', value: '{{workflow.parameters.payload-store}}/{{workflow.name}}/split/output.json' },
        { name: 'param-asset', value: 'B04' },
        { name: 'param-compression', value: '{{workflow.parameters.payload-id}}' },
      ] },
    });
    // The reader of the map's output waits for it and gets the merged payload's URL.
    expect(named(main, 'merge')).toMatchObject({ depends: 'each' });
    expect(named(main, 'merge').arguments.parameters[0].value).toBe('{{workflow.parameters.payload-store}}/{{workflow.name}}/each/output.json');
    const map = named(t, 'swoop-map-each');
    expect(map.parallelism).toBe(4);
    expect(map.dag.tasks.map((x: Json) => [x.name, x.depends])).toEqual([['split', undefined], ['item', 'split'], ['merge', 'item']]);
    expect(map.dag.tasks[1]).toMatchObject({
      templateRef: { name: 'convert', template: 'main' },
      withParam: '{{tasks.split.outputs.parameters.items}}',
      arguments: { parameters: [
        { name: 'input', value: '{{workflow.parameters.payload-store}}/{{workflow.name}}/each/split/{{item}}.json' },
        { name: 'output', value: '{{workflow.parameters.payload-store}}/{{workflow.name}}/each/items/{{item}}/output.json' },
        { name: 'asset', value: '{{inputs.parameters.param-asset}}' },
        { name: 'compression', value: '{{inputs.parameters.param-compression}}' },
      ] },
    });
    const split = named(t, 'swoop-map-each-split');
    expect(split.script.image).toBe(MAP_IMAGE);
    expect(split.script.source).toBe(readFileSync(MAP_SCRIPT_FILE, 'utf8'));
    expect(split.outputs.artifacts[0]).toMatchObject({ name: 'split', archive: { none: {} }, s3: { useSDKCreds: true } });
    expect(named(t, 'swoop-map-each-merge').outputs.artifacts[0].s3.key).toContain("workflow.name + '/each/output.json'");
  });

  it('without maxConcurrency the map template has no parallelism of its own', () => {
    expect(named(templates(docs(mapped({ service: true }).f.app)), 'swoop-map-each').parallelism).toBeUndefined();
  });

  it.skipIf(!HAVE_REFERENCE)('validates against the upstream Argo Workflows schema and lints clean, with the events layer', () => {
    const { f, wf } = mapped();
    new PlatformEvents(f.app, 'events', { workflows: [wf] });
    const all = docs(f.app);
    for (const d of all) expect(validateArgoDocument(d), `${d.kind}/${d.metadata?.name}`).toEqual([]);
    expect(lintObjects(all).map((p) => `${p.path}: ${p.message}`)).toEqual([]);
  });

  it('the lint follows the map\'s wiring: a split output the iteration reads but the split does not declare is reported', () => {
    const all = docs(mapped().f.app);
    const split = named(templates(all), 'swoop-map-each-split');
    split.outputs.parameters[0].name = 'indexes';
    expect(lintObjects(all).filter((p) => p.rule === 'task-outputs').map((p) => p.path)).toEqual([
      expect.stringContaining('swoop-map-each'),
      expect.stringContaining('swoop-map-each'),
    ]);
  });

  it('counts a split and a merge pod plus one pod per assumed item (none for a service task, whose calls share the agent pod)', () => {
    // split step 1, map 2 + 10, merge step 1, agent 1
    expect(podsPerRun(mapped().wf)).toMatchObject({ pods: 15, naivePods: 2 + 1 + 12 + 1, httpSteps: 2, mapPods: 2 });
    expect(podsPerRun(mapped({ service: true }).wf)).toMatchObject({ pods: 5, naivePods: 2 + 1 + 12 + 1, httpSteps: 12, mapPods: 2 });
    expect(podsPerRun(mapped().wf, 3)).toMatchObject({ pods: 8 });
  });

  it('its output can be the workflow\'s output (the completed event reports the merged payload)', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    wf.addMap('each', f.tasks.small);
    const exit = named(templates(docs(f.app)), 'swoop-completed');
    expect(exit.http.body).toContain("'output': workflow.status == 'Succeeded' ? workflow.parameters['payload-store'] + '/' + workflow.name + '/each/output.json' : ''");
  });

  it('misuse is one line naming the construct and the fix', () => {
    const build = (configure: (f: ReturnType<typeof fixture>, wf: Workflow) => void) => problemsOf(() => {
      const f = fixture();
      configure(f, new Workflow(f.app, 'wf'));
      return f.app;
    });
    expect(build((f, wf) => { wf.addMap('each', f.tasks.small, { maxConcurrency: 0 }); }))
      .toEqual(['wf/each: maxConcurrency is 0; give a whole number of iterations, at least 1, or leave it out']);
    expect(build((f, wf) => { wf.addMap('each', f.tasks.small, { maxConcurrency: 'x' as unknown as number }); })).toEqual([expect.stringMatching(/^wf\/each: maxConcurrency/)]);
    expect(build((f, wf) => { wf.addMap('each', f.tasks.convert, {} as never); }))
      .toEqual(['wf/each: missing required input parameter "asset" of task "convert"; pass it in parameters']);
    expect(build((f, wf) => { wf.addMap('each', f.tasks.mask); }))
      .toEqual(['wf/each: task "mask" needs input artifacts, which a map iteration cannot pass; map a task whose inputs are the payload and parameters']);
    expect(build((f, wf) => {
      const t = new ContainerTask(f.lib, 'fetch', { image: 'ghcr.io/example/stac-tools:2.1.0', errors: { gone: 44 } });
      const m = wf.addMap('each', t);
      m.onFailure(wf.addStep('report', f.tasks.small), { on: ['gone'] });
    })).toEqual([expect.stringContaining('names error "gone"')]);
  });

  describe('the split/merge script', () => {
    const run = (env: Record<string, string>) => spawnSync(process.execPath, [MAP_SCRIPT_FILE], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });

    it('refuses what it cannot split, naming why', () => {
      const dir = mkdtempSync(join(tmpdir(), 'swoop-map-script-'));
      try {
        const base = { SWOOP_MAP_MODE: 'split', SWOOP_PAYLOAD_FILE: join(dir, 'missing.json'), SWOOP_SPLIT_DIR: join(dir, 'split'), SWOOP_ITEMS_FILE: join(dir, 'items.json'), SWOOP_FEATURES_FILE: join(dir, 'features.txt') };
        expect(run({ ...base, SWOOP_INPUT: 'https://example.org/p.json' }).stderr).toContain('neither an inline payload nor an s3:// URL');
        expect(run({ ...base, SWOOP_INPUT: 's3://b/p.json' }).stderr).toContain('no payload object at s3://b/p.json');
        expect(run({ ...base, SWOOP_INPUT: '{"type":"Feature"}' }).stderr).toContain('has no features list');
        expect(run({ ...base, SWOOP_INPUT: '{"features":[]}', SWOOP_MAP_MODE: 'both' }).stderr).toContain('SWOOP_MAP_MODE is both');
        const ok = run({ ...base, SWOOP_INPUT: '{"id":"p","features":[{"id":"a"},{"id":"b"}],"process":{"workflow":"w"}}' });
        expect(ok.status).toBe(0);
        expect(JSON.parse(readFileSync(join(dir, 'items.json'), 'utf8'))).toEqual(['00000', '00001']);
        expect(JSON.parse(readFileSync(join(dir, 'split', '00001.json'), 'utf8'))).toEqual({ features: [{ id: 'b' }], process: { workflow: 'w' } });
        expect(JSON.parse(readFileSync(join(dir, 'split', 'base.json'), 'utf8'))).toEqual({ id: 'p', features: [], process: { workflow: 'w' } });
        expect(readFileSync(join(dir, 'features.txt'), 'utf8')).toBe('2');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('splits in batches, hands each iteration the selected values of its item as strings', () => {
      const dir = mkdtempSync(join(tmpdir(), 'swoop-map-script-'));
      try {
        const features = [{ id: 'a', properties: { cc: 5, tags: ['x'] } }, { id: 'b', properties: {} }, { id: 'c' }];
        const env = {
          SWOOP_MAP_MODE: 'split', SWOOP_INPUT: JSON.stringify({ features }), SWOOP_SPLIT_DIR: join(dir, 'split'),
          SWOOP_ITEMS_FILE: join(dir, 'items.json'), SWOOP_FEATURES_FILE: join(dir, 'features.txt'),
        };
        expect(run({ ...env, SWOOP_ITEM_SELECTION: JSON.stringify({ s0: ['id'], s1: ['properties', 'cc'], s2: ['properties', 'tags'] }) }).status).toBe(0);
        expect(JSON.parse(readFileSync(join(dir, 'items.json'), 'utf8'))).toEqual([
          { index: '00000', s0: 'a', s1: '5', s2: '["x"]' },
          { index: '00001', s0: 'b', s1: '', s2: '' },
          { index: '00002', s0: 'c', s1: '', s2: '' },
        ]);
        expect(run({ ...env, SWOOP_BATCH_SIZE: '2' }).stdout).toContain('split 3 item(s) into 2 iteration(s)');
        expect(JSON.parse(readFileSync(join(dir, 'items.json'), 'utf8'))).toEqual(['00000', '00001']);
        expect(JSON.parse(readFileSync(join(dir, 'split', '00001.json'), 'utf8')).features).toEqual([{ id: 'c' }]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('merges the first present output of each iteration, counting the items of the missing ones against the tolerances given', () => {
      const dir = mkdtempSync(join(tmpdir(), 'swoop-map-script-'));
      try {
        const put = (rel: string, ids: string[]) => {
          mkdirSync(join(dir, 'items', rel, '..'), { recursive: true });
          writeFileSync(join(dir, 'items', rel), JSON.stringify({ features: ids.map((id) => ({ id })) }));
        };
        writeFileSync(join(dir, 'base.json'), JSON.stringify({ id: 'p', features: [], process: {} }));
        put('00000/convert/output.json', ['a', 'b']);
        put('00001/fallback/output.json', ['c', 'd']);
        put('00002/stamp/output.json', ['e']); // an intermediate output only: the iteration failed later
        const env = {
          SWOOP_MAP_MODE: 'merge', SWOOP_BASE_FILE: join(dir, 'base.json'), SWOOP_OUTPUTS_DIR: join(dir, 'items'), SWOOP_ITEM_COUNT: '3',
          SWOOP_FEATURE_COUNT: '5', SWOOP_BATCH_SIZE: '2', SWOOP_OUTPUT_PATHS: JSON.stringify(['convert/output.json', 'fallback/output.json']),
          SWOOP_MERGED_FILE: join(dir, 'merged.json'),
        };
        expect(run(env).stderr).toContain('iteration(s) 00002 wrote no output payload (convert/output.json or fallback/output.json): 1 of 5 item(s) failed, more than tolerated (none)');
        expect(run({ ...env, SWOOP_TOLERATED_PERCENTAGE: '10' }).stderr).toContain('more than tolerated (10%)');
        expect(run({ ...env, SWOOP_TOLERATED_PERCENTAGE: '10', SWOOP_TOLERATED_COUNT: '1' }).stderr).toContain('more than tolerated (1 item(s) and 10%)');
        expect(run({ ...env, SWOOP_TOLERATED_COUNT: '1' }).status).toBe(0);
        expect(JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8'))).toEqual({ id: 'p', process: {}, features: ['a', 'b', 'c', 'd'].map((id) => ({ id })) });
        expect(run({ ...env, SWOOP_TOLERATED_PERCENTAGE: '20' }).status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

function iterated(options: { tolerate?: boolean; batch?: number } = {}) {
  const f = fixture();
  const wf = new Workflow(f.app, 'wf', { parameters: { level: { default: '1' } } });
  const retried = new ContainerTask(f.lib, 'retried', {
    image: 'ghcr.io/example/stac-tools:2.1.0', errors: { throttled: 75, empty: 65 }, retry: { rules: [{ on: ['throttled'], limit: 3 }] },
  });
  const map = wf.addMap('each', (iteration) => {
    const small = iteration.addStep('small', f.tasks.small);
    const converted = iteration.addStep('convert', f.tasks.convert, {
      input: small.output,
      parameters: options.batch ? { asset: 'B04' } : { asset: iteration.item.property('asset'), compression: wf.params.level },
    });
    const checked = iteration.addStep('check', retried, { input: converted.output });
    checked.onFailure(iteration.addStep('fallback', f.tasks.small, { input: small.output }), { on: ['empty'] });
    if (!options.batch) iteration.addStep('audit', f.tasks.small, { input: small.output, when: iteration.item.id.equals('x') });
    iteration.setOutput(checked);
  }, { maxConcurrency: 3, ...(options.tolerate ? { toleratedFailurePercentage: 10 } : {}), ...(options.batch ? { maxItemsPerBatch: options.batch } : {}) });
  wf.addStep('merge', f.tasks.merge, { input: map.output, parameters: { parts: '[]' } });
  return { f, wf, map };
}

describe('Map with an iteration of several steps (ItemProcessor), ItemSelector, ItemBatcher and a tolerance', () => {
  it('renders the iteration as a DAG template of its own, called per item with its payload, index and selected values', () => {
    const t = templates(docs(iterated().f.app));
    const item = named(t, 'swoop-map-each').dag.tasks[1];
    expect(item).toMatchObject({
      name: 'item', template: 'swoop-map-each-iteration', withParam: '{{tasks.split.outputs.parameters.items}}',
      arguments: { parameters: [
        { name: 'input', value: '{{workflow.parameters.payload-store}}/{{workflow.name}}/each/split/{{item.index}}.json' },
        { name: 'index', value: '{{item.index}}' },
        { name: 'item-s0', value: '{{item.s0}}' },
        { name: 'item-s1', value: '{{item.s1}}' },
      ] },
    });
    expect(item.continueOn).toBeUndefined();
    const split = named(t, 'swoop-map-each-split').script.env as Json[];
    expect(split.find((e) => e.name === 'SWOOP_ITEM_SELECTION')!.value).toBe('{"s0":["properties","asset"],"s1":["id"]}');
    const merge = named(t, 'swoop-map-each-merge').script.env as Json[];
    expect(merge.find((e) => e.name === 'SWOOP_OUTPUT_PATHS')!.value).toBe('["check/output.json","fallback/output.json"]');
    const iteration = named(t, 'swoop-map-each-iteration');
    expect(iteration.inputs.parameters.map((p: Json) => p.name)).toEqual(['input', 'index', 'item-s0', 'item-s1']);
    const tasks = iteration.dag.tasks as Json[];
    expect(tasks.map((x) => x.name)).toEqual(['small', 'convert', 'check', 'fallback', 'audit']);
    const at = (step: string) => `{{workflow.parameters.payload-store}}/{{workflow.name}}/each/items/{{inputs.parameters.index}}/${step}/output.json`;
    expect(named(tasks, 'small').arguments.parameters).toEqual([{ name: 'input', value: '{{inputs.parameters.input}}' }, { name: 'output', value: at('small') }]);
    expect(named(tasks, 'convert')).toMatchObject({ depends: 'small', arguments: { parameters: [
      { name: 'input', value: at('small') }, { name: 'output', value: at('convert') },
      { name: 'asset', value: '{{inputs.parameters.item-s0}}' }, { name: 'compression', value: '{{workflow.parameters.level}}' },
    ] } });
    expect(named(tasks, 'fallback').depends).toBe('(check.Failed || check.Errored) && small');
    expect(named(tasks, 'fallback').when).toContain("tasks['check'].exitCode");
    expect(named(tasks, 'audit').when).toBe("{{=inputs.parameters['item-s1'] == 'x'}}");
  });

  it('a tolerance lets iterations fail on: continueOn, failFast off, merge after any outcome of the items; batches are passed to both pods', () => {
    const t = templates(docs(iterated({ tolerate: true, batch: 5 }).f.app));
    const map = named(t, 'swoop-map-each');
    expect(map.dag.failFast).toBe(false);
    expect(map.dag.tasks[1].continueOn).toEqual({ failed: true, error: true });
    expect(map.dag.tasks[1].arguments.parameters).toEqual([
      { name: 'input', value: '{{workflow.parameters.payload-store}}/{{workflow.name}}/each/split/{{item}}.json' },
      { name: 'index', value: '{{item}}' },
    ]);
    expect(map.dag.tasks[2].depends).toBe('(item.Succeeded || item.Skipped || item.Failed || item.Errored)');
    const env = (name: string) => Object.fromEntries((named(t, name).script.env as Json[]).map((e) => [e.name, e.value]));
    expect(env('swoop-map-each-split')).toMatchObject({ SWOOP_BATCH_SIZE: '5' });
    expect(env('swoop-map-each-merge')).toMatchObject({ SWOOP_BATCH_SIZE: '5', SWOOP_TOLERATED_PERCENTAGE: '10', SWOOP_FEATURE_COUNT: '{{inputs.parameters.features}}' });
    expect(env('swoop-map-each-merge').SWOOP_TOLERATED_COUNT).toBeUndefined();
  });

  it.skipIf(!HAVE_REFERENCE)('validates against the upstream Argo Workflows schema and lints clean, with the events layer', () => {
    for (const options of [{}, { tolerate: true, batch: 2 }]) {
      const { f, wf } = iterated(options);
      new PlatformEvents(f.app, 'events', { workflows: [wf] });
      const all = docs(f.app);
      for (const d of all) expect(validateArgoDocument(d), `${d.kind}/${d.metadata?.name}`).toEqual([]);
      expect(lintObjects(all).map((p) => `${p.path}: ${p.message}`)).toEqual([]);
    }
  });

  it('counts the pods of every container step of an iteration, per iteration (items / batch size)', () => {
    // small, convert, check, fallback, audit: 5 container steps x 10 items, 2 map pods, the merge step, the agent
    expect(podsPerRun(iterated().wf)).toMatchObject({ pods: 50 + 2 + 1 + 1, mapPods: 2 });
    // 4 steps x ceil(10 / 3) iterations
    expect(podsPerRun(iterated({ batch: 3 }).wf)).toMatchObject({ pods: 16 + 2 + 1 + 1 });
  });

  it('misuse is one line naming the construct and the fix', () => {
    const build = (configure: (f: ReturnType<typeof fixture>, wf: Workflow) => void) => problemsOf(() => {
      const f = fixture();
      configure(f, new Workflow(f.app, 'wf'));
      return f.app;
    });
    expect(build((f, wf) => { wf.addMap('each', () => undefined); })).toEqual(['wf/each: the iteration has no steps; add one with iteration.addStep()']);
    expect(build((f, wf) => { wf.addMap('each', (it) => { it.addStep('a', f.tasks.small); it.addStep('b', f.tasks.small); }); }))
      .toEqual(["wf/each: the iteration's output is ambiguous (several last steps); name the step whose output is the iteration's with iteration.setOutput(step)"]);
    expect(build((f, wf) => { wf.addMap('each', (it) => { it.addStep('a', f.tasks.small, { when: it.item.id.equals('x') }); }); }))
      .toEqual([expect.stringMatching(/^wf\/each: the iteration's output step "a" is conditional; /)]);
    expect(build((f, wf) => { wf.addMap('each', (it) => { it.addStep('a', f.tasks.small, { forEach: ['x', 'y'] }); it.setOutput(it.addStep('b', f.tasks.small)); }); }))
      .toEqual([expect.stringMatching(/^wf\/each: step "a" of the iteration fans out \(forEach\)/)]);
    expect(build((f, wf) => {
      const before = wf.addStep('split', f.tasks.split);
      wf.addMap('each', (it) => { it.addStep('a', f.tasks.convert, { parameters: { asset: before.outputs.parameters.assets } }); });
    })).toEqual([expect.stringMatching(/^wf\/each\/a: reads an output of step "split" outside the iteration of map "each"; /)]);
    expect(build((f, wf) => { wf.addMap('each', (it) => { it.addStep('a', f.tasks.convert, { parameters: { asset: it.item.id } }); }, { maxItemsPerBatch: 2 }); }))
      .toEqual([expect.stringMatching(/^wf\/each: the iteration reads iteration.item values but maxItemsPerBatch is 2/)]);
    expect(build((f, wf) => { wf.addMap('each', (it) => { it.addStep('a', f.tasks.small); it.addStep('a', f.tasks.small); }); }))
      .toEqual([expect.stringMatching(/^wf\/each\/a: duplicate step name "a" in the iteration of map "each"/)]);
    expect(build((f, wf) => { wf.addMap('each', (it) => { it.addStep('a', f.tasks.small); }, { parameters: {} } as never); }))
      .toEqual([expect.stringMatching(/^wf\/each: parameters are given to a map built with an iteration builder; /)]);
    expect(build((f, wf) => { wf.addMap('each', f.tasks.small, { toleratedFailureCount: -1, toleratedFailurePercentage: 120, maxItemsPerBatch: 0.5 }); })).toEqual([
      'wf/each: toleratedFailureCount is -1; give a whole number of items, at least 0, or leave it out',
      'wf/each: maxItemsPerBatch is 0.5; give a whole number of items, at least 1, or leave it out',
      'wf/each: toleratedFailurePercentage is 120; give a percentage from 0 to 100, or leave it out',
    ]);
    expect(build((f, wf) => {
      let outside: MapIteration | undefined;
      wf.addMap('each', (it) => { outside = it; it.addStep('a', f.tasks.small); });
      wf.addStep('after', f.tasks.convert, { input: outside!.input, parameters: { asset: outside!.item.id } });
    })).toEqual([
      'wf/after: reads {{inputs.parameters.input}}, a value of the iteration of map "each", outside it; only that iteration\'s steps (iteration.addStep) can read it',
      'wf/after: reads {{inputs.parameters.item-s0}}, a value of the iteration of map "each", outside it; only that iteration\'s steps (iteration.addStep) can read it',
    ]);
    expect(() => new MapItem('wf/each', 'the iteration').get()).toThrow(/^iteration.item.get: the path .* is not a list of keys; /);
  });
});
