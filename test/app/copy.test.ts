import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type RunningPlatform } from '../e2e/support/platform';
import { HAVE_REFERENCE } from '../support/reference';
import { AppCopy, ROOT } from './app-copy';
import { synthesizeApp, workflowProblems, type AppUnderTest } from './checks';

/**
 * Adding or removing a workflow the documented way (README "Add a workflow") needs no test
 * edit: on a copy of workflows/ the generic checks of test/app/workflows.test.ts pass for
 * every workflow the edited app defines. They run in-process on the copy (no nested npm test).
 */

/** A team's new workflows: its own tasks, a fan-out and fan-in, a warm service call, a chain and a callback. */
const NEW_WORKFLOWS = `import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { ContainerTask, ServiceTask, Workflow, type TaskLibrary } from '../constructs';
import { CallbackParameter, CallbackTarget, type PlatformEvents } from '../constructs/events';

/** Index every tile of a scene (one pod per tile), publish the index, then report on it. */
export function sceneIndex(scope: Construct, library: TaskLibrary) {
  const resources = { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(256) } };
  const listTiles = new ContainerTask(library, 'list-tiles', {
    image: 'ghcr.io/acme/tiles:1.2.0',
    args: (io) => ['list', io.input, io.output, '--tiles', '/tmp/tiles.json'],
    outputs: { parameters: { tiles: { path: '/tmp/tiles.json', description: 'JSON list of tile ids' } } },
    resources,
  });
  const indexTile = new ContainerTask(library, 'index-tile', {
    image: 'ghcr.io/acme/tiles:1.2.0',
    args: (io) => ['index', io.input, io.output, '--tile', io.parameters.tile],
    inputs: { parameters: { tile: {} } },
    resources,
  });
  const mergeIndex = new ContainerTask(library, 'merge-index', {
    image: 'ghcr.io/acme/tiles:1.2.0',
    args: (io) => ['merge', io.input, io.output, '--parts', io.parameters.parts],
    inputs: { parameters: { parts: {} } },
    resources,
  });
  const indexApi = new ServiceTask(library, 'index-api', { image: 'ghcr.io/acme/index-api:0.9.1', path: '/items', resources });
  const report = new ContainerTask(library, 'report-scenes', { image: 'ghcr.io/acme/report:3.0.0', resources });

  const index = new Workflow(scope, 'scene-index', { description: 'Index every tile of a scene', timeout: Duration.hours(1) });
  const listed = index.addStep('list-tiles', listTiles);
  const tiles = index.addStep('index-tile', indexTile, { input: listed.output, forEach: listed.outputs.parameters.tiles, parameters: { tile: index.item } });
  const merged = index.addStep('merge-index', mergeIndex, { input: listed.output, parameters: { parts: tiles.output } });
  index.addStep('publish-index', indexApi, { input: merged.output });

  const reporting = new Workflow(scope, 'scene-report', { timeout: Duration.minutes(10) });
  reporting.addStep('report', report);
  index.then(reporting, { filter: '@.properties.eo:cloud_cover < 80' });
  return { index, reporting };
}

export function sceneIndexCallbacks(events: PlatformEvents, flows: ReturnType<typeof sceneIndex>): void {
  events.addCallback('scene-index-failed', {
    workflow: flows.index,
    when: ['!successful'],
    parameters: { run: CallbackParameter.run('name'), error: CallbackParameter.run('error') },
    target: CallbackTarget.http({ url: 'https://hooks.acme.example/swoop', auth: { secret: { name: 'acme-hooks', key: 'authorization' } } }),
  });
}
`;

/** A sample payload for `workflow`, shaped like the real cirrus payloads (shared reference). */
function sample(workflow: string, item: string): string {
  return `${JSON.stringify({
    type: 'FeatureCollection',
    features: [{
      type: 'Feature', stac_version: '1.0.0', id: item, collection: 'sentinel-2-l2a',
      bbox: [-71.9, -33.5, -70.7, -32.5],
      geometry: { type: 'Polygon', coordinates: [[[-71.9, -33.5], [-70.7, -33.5], [-70.7, -32.5], [-71.9, -32.5], [-71.9, -33.5]]] },
      properties: { datetime: '2023-07-27T14:40:19Z', 'eo:cloud_cover': 20 },
      assets: { visual: { href: `s3://sentinel-cogs/${item}/TCI.tif`, type: 'image/tiff; application=geotiff; profile=cloud-optimized' } },
      links: [],
    }],
    process: { workflow, upload_options: { path_template: '/${collection}/${id}', collections: { 'sentinel-2-l2a': '.*' } }, tasks: {} },
  }, null, 2)}\n`;
}

/** Every problem the generic checks find in the copy's app, one line each (empty = the app tests pass). */
async function checkCopy(copy: AppCopy, platform: RunningPlatform): Promise<{ names: readonly string[]; problems: string[] }> {
  const { buildApp } = (await import(join(copy.workflows, 'app.ts'))) as { buildApp: () => AppUnderTest };
  const swoop = buildApp();
  const synth = synthesizeApp(swoop);
  const problems: string[] = [];
  for (const name of synth.names) {
    const byCheck = await workflowProblems(swoop, synth, copy.samples, platform, name, { schema: HAVE_REFERENCE });
    for (const [check, lines] of Object.entries(byCheck)) problems.push(...lines.map((l) => `${name} [${check}]: ${l}`));
  }
  return { names: synth.names, problems };
}

describe('the app tests on a copy of workflows/ with workflows added or removed the documented way', () => {
  let platform: RunningPlatform;
  let shipped: readonly string[];
  const copies: AppCopy[] = [];
  const newCopy = () => {
    const copy = new AppCopy();
    copies.push(copy);
    return copy;
  };
  beforeAll(async () => {
    const original = newCopy();
    const { buildApp } = (await import(join(original.workflows, 'app.ts'))) as { buildApp: () => AppUnderTest };
    shipped = buildApp().workflows.map((w) => w.templateName);
    // Any app synthesizes the same events layer and state service; one service serves every copy.
    platform = await startPlatform(synthesizeApp(buildApp()));
  });
  afterAll(async () => {
    await platform?.stop();
    for (const c of copies) c.dispose();
  });

  it('adding workflows (new tasks, fan-out, service call, chain, callback) with samples: every check passes, the new ones included', async () => {
    const copy = newCopy();
    copy.write('scene-index.ts', NEW_WORKFLOWS);
    copy.register(
      "import { sceneIndex, sceneIndexCallbacks } from './scene-index';",
      'const sceneFlows = sceneIndex(app, library);',
      'sceneIndexCallbacks($events, sceneFlows);',
    );
    copy.write('samples/scene-index/tile-scene.json', sample('scene-index', 'S2A_19HCC_20230727_0_L2A'));
    copy.write('samples/scene-report/index-output.json', sample('scene-report', 'S2A_19HCC_20230727_0_L2A'));
    expect(copy.typeErrors()).toEqual([]);
    const { names, problems } = await checkCopy(copy, platform);
    expect(problems).toEqual([]);
    expect([...names].sort()).toEqual([...shipped, 'scene-index', 'scene-report'].sort());
  }, 120_000);

  it('a new workflow without samples is reported, saying what to add', async () => {
    const copy = newCopy();
    copy.write('scene-index.ts', NEW_WORKFLOWS);
    copy.register("import { sceneIndex } from './scene-index';", 'sceneIndex(app, library);');
    copy.write('samples/scene-index/tile-scene.json', sample('scene-index', 'S2A_19HCC_20230727_0_L2A'));
    const { problems } = await checkCopy(copy, platform);
    expect(problems).toEqual(['scene-report [samples]: workflow scene-report has no sample payloads: add workflows/samples/scene-report/*.json (a cirrus payload whose process names scene-report), see README "Add a workflow"']);
  }, 120_000);

  it('removing a shipped workflow (its file, registration, chains, callbacks and samples): every check passes on the rest', async () => {
    const copy = newCopy();
    const app = readFileSync(join(ROOT, 'workflows', 'app.ts'), 'utf8');
    const files = [...app.matchAll(/^import \{ \w+ \} from '\.\/([\w-]+)';$/gm)].map((m) => `${m[1]}.ts`).filter((f) => f !== 'tasks.ts');
    expect(files.length, 'workflows/app.ts imports no workflow file').toBeGreaterThan(0);
    copy.removeWorkflowFile(files[files.length - 1]!);
    const { buildApp } = (await import(join(copy.workflows, 'app.ts'))) as { buildApp: () => AppUnderTest };
    const removed = shipped.filter((n) => !buildApp().workflows.some((w) => w.templateName === n));
    expect(removed).toHaveLength(1);
    copy.remove(`samples/${removed[0]}`);
    const { names, problems } = await checkCopy(copy, platform);
    expect(problems).toEqual([]);
    expect(names).toEqual(shipped.filter((n) => n !== removed[0]));
  }, 120_000);
});
