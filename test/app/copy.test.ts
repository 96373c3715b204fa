import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type RunningPlatform } from '../e2e/support/platform';
import { readmeSection } from '../support/readme';
import { HAVE_REFERENCE } from '../support/reference';
import { AppCopy, ROOT } from './app-copy';
import { synthesizeApp, workflowProblems, type AppUnderTest } from './checks';

/**
 * Adding or removing a workflow the documented way (README "Add a workflow") needs no test
 * edit: on a copy of workflows/ the generic checks of test/app/workflows.test.ts pass for
 * every workflow the edited app defines. They run in-process on the copy (no nested npm test).
 */

/**
 * The README's "Add a workflow" example, as written: its first code block is the new file
 * (new tasks, a fan-out and fan-in, a warm service call, a chain and a callback), its second
 * the registration lines in buildApp(), which this test makes.
 */
const [NEW_FILE, REGISTRATION] = [...readmeSection('Add a workflow').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const NEW_FILE_NAME = /^\/\/ workflows\/([\w-]+\.ts)\n/.exec(NEW_FILE ?? '')?.[1];
const IMPORT = "import { sceneIndex, sceneIndexCallbacks } from './scene-index';";
const BEFORE_EVENTS = 'const sceneFlows = sceneIndex(app, library);';
const AFTER_EVENTS = 'sceneIndexCallbacks(events, sceneFlows);';

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

  it('the README example is the file and the registration this test adds', () => {
    expect(NEW_FILE_NAME).toBe('scene-index.ts');
    for (const line of [IMPORT, BEFORE_EVENTS, AFTER_EVENTS]) expect(REGISTRATION).toContain(line);
  });

  it('adding workflows (new tasks, fan-out, service call, chain, callback) with samples: every check passes, the new ones included', async () => {
    const copy = newCopy();
    copy.write('scene-index.ts', NEW_FILE!);
    copy.register(IMPORT, BEFORE_EVENTS, AFTER_EVENTS.replace('events', '$events'));
    copy.write('samples/scene-index/tile-scene.json', sample('scene-index', 'S2A_19HCC_20230727_0_L2A'));
    copy.write('samples/scene-report/index-output.json', sample('scene-report', 'S2A_19HCC_20230727_0_L2A'));
    expect(copy.typeErrors()).toEqual([]);
    const { names, problems } = await checkCopy(copy, platform);
    expect(problems).toEqual([]);
    expect([...names].sort()).toEqual([...shipped, 'scene-index', 'scene-report'].sort());
  }, 120_000);

  it('a new workflow without samples is reported, saying what to add', async () => {
    const copy = newCopy();
    copy.write('scene-index.ts', NEW_FILE!);
    copy.register("import { sceneIndex } from './scene-index';", 'sceneIndex(app, library);');
    copy.write('samples/scene-index/tile-scene.json', sample('scene-index', 'S2A_19HCC_20230727_0_L2A'));
    const { problems } = await checkCopy(copy, platform);
    expect(problems).toEqual(['scene-report [samples]: workflow scene-report has no sample payloads: add workflows/samples/scene-report/*.json (a cirrus payload whose process names scene-report), see README "Add a workflow"']);
  }, 120_000);

  it('removing a shipped workflow (its file, registration, chains, callbacks and samples): every check passes on the rest', async () => {
    const copy = newCopy();
    const app = readFileSync(join(ROOT, 'workflows', 'app.ts'), 'utf8');
    const files = [...app.matchAll(/^import \{[^}]+\} from '\.\/([\w-]+)';$/gm)].map((m) => `${m[1]}.ts`).filter((f) => f !== 'tasks.ts');
    expect(files.length, 'workflows/app.ts imports no workflow file').toBeGreaterThan(0);
    copy.removeWorkflowFile(files[files.length - 1]!);
    const { buildApp } = (await import(join(copy.workflows, 'app.ts'))) as { buildApp: () => AppUnderTest };
    const removed = shipped.filter((n) => !buildApp().workflows.some((w) => w.templateName === n));
    expect(removed.length).toBeGreaterThan(0);
    for (const name of removed) copy.remove(`samples/${name}`);
    const { names, problems } = await checkCopy(copy, platform);
    expect(problems).toEqual([]);
    expect(names).toEqual(shipped.filter((n) => !removed.includes(n)));
  }, 120_000);
});
