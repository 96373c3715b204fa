/**
 * The state service's OGC process list comes from the app: the StateService construct
 * synthesizes STATE_PROCESSES from every Workflow of its app (a fixture app of this test's
 * own), and the service built from that value lists them at /processes, validated with ajv
 * against the OGC process description (2.0 draft descriptionType, the reference set's only
 * process schema) and link schemas, and SWOOP's ProcessList / Process.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { App } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ContainerTask, synthesize, TaskLibrary, validationErrors, Workflow } from '../../constructs';
import { StateServiceChart } from '../../constructs/state-service';
import { configFromEnv } from '../../state/config';
import { buildStateServer } from '../../state/server';
import { referencePath } from '../support/reference';
import { BACKEND, call, createTestDb, READER, startTestService, type TestDb, type TestService, WRITER } from './support';

type Json = Record<string, any>;

const FIXTURE = [
  { id: 'scene-masks', description: 'Cloud masks for every scene' },
  { id: 'band-cogs', description: 'Cloud-optimized GeoTIFFs from every band' },
  { id: 'bare' },
];

/** A fixture app: a task, the state service created between its workflows, the workflows in `order`. */
function fixtureApp(order: readonly number[] = [0, 1, 2]): App {
  const app = new App();
  const lib = new TaskLibrary(app, 'lib');
  const step = new ContainerTask(lib, 'step', { image: 'ghcr.io/example/stac-tools:2.1.0' });
  const workflow = (i: number) => {
    const { id, description } = FIXTURE[i]!;
    new Workflow(app, id, description ? { description } : {}).addStep('only', step);
  };
  workflow(order[0]!);
  // Created before the other workflows: they are listed all the same.
  new StateServiceChart(app, 'state-service', { image: 'ghcr.io/example/swoop-state:0.1.0' });
  for (const i of order.slice(1)) workflow(i);
  return app;
}

/** STATE_PROCESSES as synthesized into the state service's Deployment, and the whole state chart. */
function synthesized(app: App): { value: string; chart: string } {
  const chart = synthesize(app).get('state-service.yaml')!;
  const deployment = chart.split(/^---$/m).map((d) => parse(d) as Json).find((d) => d.kind === 'Deployment')!;
  const env = deployment.spec.template.spec.containers[0].env as { name: string; value?: string }[];
  return { value: env.find((e) => e.name === 'STATE_PROCESSES')!.value!, chart };
}

describe('the state service lists the app\'s workflows as processes (StateService construct)', () => {
  it('STATE_PROCESSES holds every workflow of the app with its description, sorted by name, whatever the creation order', () => {
    const { value, chart } = synthesized(fixtureApp());
    expect(JSON.parse(value)).toEqual([
      { id: 'band-cogs', description: 'Cloud-optimized GeoTIFFs from every band' },
      { id: 'bare' },
      { id: 'scene-masks', description: 'Cloud masks for every scene' },
    ]);
    // Deterministic: the same app in another order synthesizes the same bytes.
    expect(synthesized(fixtureApp([2, 1, 0])).chart).toBe(chart);
    expect(synthesized(fixtureApp()).chart).toBe(chart);
  });

  it('an app without workflows lists none', () => {
    const app = new App();
    new StateServiceChart(app, 'state-service', { image: 'ghcr.io/example/swoop-state:0.1.0' });
    expect(synthesized(app).value).toBe('[]');
  });

  it('refuses two workflows of one name (other namespaces): the service tells runs apart by name only', () => {
    const app = fixtureApp();
    const lib = app.node.findChild('lib') as TaskLibrary;
    new Workflow(app, 'masks-elsewhere', { name: 'scene-masks', namespace: 'other' }).addStep('only', lib.node.findChild('step') as ContainerTask);
    // (The step's task lives in swoop, which is reported too; only the state service's problem matters here.)
    expect(validationErrors(app).filter((e) => e.path.startsWith('state-service')).map((e) => `${e.path}: ${e.message}`)).toEqual([
      'state-service/StateService: workflows scene-masks and masks-elsewhere are both named "scene-masks"; the state service records runs by workflow name only, so give each workflow its own name',
    ]);
    expect(validationErrors(fixtureApp())).toEqual([]);
  });
});

const HAVE_OGC = existsSync(referencePath('ogcapi-processes', '2.0-draft', 'processes-core', 'descriptionType.yaml'));

describe.skipIf(!HAVE_OGC)(`GET /processes from the synthesized STATE_PROCESSES (${BACKEND}, real server on loopback)`, () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const core = referencePath('ogcapi-processes', '2.0-draft', 'processes-core');
  if (HAVE_OGC) {
    for (const file of readdirSync(core).filter((f) => f.endsWith('.yaml'))) {
      ajv.addSchema({ ...(parse(readFileSync(`${core}/${file}`, 'utf8')) as Json), $id: `https://ogc.test/2.0/processes-core/${file}` });
    }
    const swoop = parse(readFileSync(referencePath('swoop', 'openapi.yaml'), 'utf8')) as Json;
    ajv.addSchema({ $id: 'https://swoop.test/openapi.yaml', components: swoop.components });
  }
  const problems = (schema: string, doc: unknown): string[] => {
    const validate = ajv.getSchema(schema)!;
    return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  };
  const ogc = (file: string) => `https://ogc.test/2.0/processes-core/${file}.yaml`;
  const swoopSchema = (name: string) => `https://swoop.test/openapi.yaml#/components/schemas/${name}`;

  let t: TestDb;
  let s: TestService;
  let url: string;
  let close: () => Promise<unknown>;
  beforeAll(async () => {
    t = await createTestDb();
    s = await startTestService(t.db);
    // What the pod does: the service's configuration read from the synthesized environment.
    const { processes } = configFromEnv({ STATE_PROCESSES: synthesized(fixtureApp()).value });
    // SWOOP's schema wants absolute link URIs: the service's public URL set, as docs/state.md says.
    const app = buildStateServer({ store: s.store, writerToken: WRITER, readerToken: READER, publicUrl: 'https://swoop.example.com/state', processes });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    close = () => app.close();
  });
  afterAll(async () => {
    await close();
    await s.close();
    await t.drop();
  });

  it('lists every workflow of the app, none run yet, each a valid OGC process description', async () => {
    const list = await call(url, 'GET', '/processes', { token: READER });
    expect(list.status).toBe(200);
    expect(problems(swoopSchema('ProcessList'), list.body)).toEqual([]);
    const processes = list.body.processes as Json[];
    expect(processes.map((p) => [p.id, p.title, p.description])).toEqual([
      ['band-cogs', 'band-cogs', 'Cloud-optimized GeoTIFFs from every band'],
      ['bare', 'bare', undefined],
      ['scene-masks', 'scene-masks', 'Cloud masks for every scene'],
    ]);
    for (const p of processes) {
      expect(problems(ogc('descriptionType'), p)).toEqual([]);
      for (const link of p.links) expect(problems(ogc('link'), link)).toEqual([]);
    }
    const one = await call(url, 'GET', '/processes/scene-masks', { token: READER });
    expect(one.status).toBe(200);
    expect(problems(swoopSchema('Process'), one.body)).toEqual([]);
    expect(problems(ogc('descriptionType'), one.body)).toEqual([]);
    expect(one.body).toMatchObject({ id: 'scene-masks', description: 'Cloud masks for every scene' });
  });

  it('the description schema is strict enough to notice a wrong description', () => {
    expect(problems(ogc('descriptionType'), { id: 'x', description: 42 })).not.toEqual([]);
    expect(problems(ogc('link'), { href: '/processes/x' })).not.toEqual([]);
  });
});
