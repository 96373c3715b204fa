/**
 * Map over items (constructs/map.ts): what it renders, that the rendering is valid for the
 * upstream schema and the lint, the pods it costs, the split/merge script on its own, and the
 * one-line errors of misuse. The end-to-end flow is test/e2e/map.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ContainerTask, MAP_IMAGE, MAP_SCRIPT_FILE, podsPerRun, synthesize, Workflow } from '../../constructs';
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
        const base = { SWOOP_MAP_MODE: 'split', SWOOP_PAYLOAD_FILE: join(dir, 'missing.json'), SWOOP_SPLIT_DIR: join(dir, 'split'), SWOOP_ITEMS_FILE: join(dir, 'items.json') };
        expect(run({ ...base, SWOOP_INPUT: 'https://example.org/p.json' }).stderr).toContain('neither an inline payload nor an s3:// URL');
        expect(run({ ...base, SWOOP_INPUT: 's3://b/p.json' }).stderr).toContain('no payload object at s3://b/p.json');
        expect(run({ ...base, SWOOP_INPUT: '{"type":"Feature"}' }).stderr).toContain('has no features list');
        expect(run({ ...base, SWOOP_INPUT: '{"features":[]}', SWOOP_MAP_MODE: 'both' }).stderr).toContain('SWOOP_MAP_MODE is both');
        const ok = run({ ...base, SWOOP_INPUT: '{"id":"p","features":[{"id":"a"},{"id":"b"}],"process":{"workflow":"w"}}' });
        expect(ok.status).toBe(0);
        expect(JSON.parse(readFileSync(join(dir, 'items.json'), 'utf8'))).toEqual(['00000', '00001']);
        expect(JSON.parse(readFileSync(join(dir, 'split', '00001.json'), 'utf8'))).toEqual({ features: [{ id: 'b' }], process: { workflow: 'w' } });
        expect(JSON.parse(readFileSync(join(dir, 'split', 'base.json'), 'utf8'))).toEqual({ id: 'p', features: [], process: { workflow: 'w' } });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
