/**
 * OGC API - Processes - Part 1 conformance of the state service, checked with ajv against
 * the standard's 1.0 schemas (jobList, statusInfo, link, exception; objects closed, so no
 * field outside the standard slips in), the 2.0 draft's exception, and SWOOP's openapi.yaml
 * for the documents 1.0's reference set lacks (landing page, conformance, processes).
 */
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFORMS_TO } from '../../state/ogc';
import { buildStateServer } from '../../state/server';
import { referencePath } from '../support/reference';
import { BACKEND, call, createTestDb, lifecycle, READER, startTestService, type TestDb, type TestService, WRITER } from './support';

type Json = Record<string, unknown>;

/** Every object schema that lists properties and says nothing else gets additionalProperties: false. */
function close(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(close);
  if (!node || typeof node !== 'object') return node;
  const out: Json = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, close(v)]));
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
for (const file of ['exception', 'jobList', 'link', 'statusCode', 'statusInfo']) {
  const schema = close(parse(readFileSync(referencePath('ogcapi-processes', '1.0', `${file}.yaml`), 'utf8'))) as Json;
  ajv.addSchema({ ...schema, $id: `https://ogc.test/1.0/${file}.yaml` });
}
const draftException = parse(readFileSync(referencePath('ogcapi-processes', '2.0-draft', 'common-core', 'exception.yaml'), 'utf8')) as Json;
ajv.addSchema({ ...draftException, $id: 'https://ogc.test/2.0/exception.yaml' });
const swoop = parse(readFileSync(referencePath('swoop', 'openapi.yaml'), 'utf8')) as Json;
ajv.addSchema({ $id: 'https://swoop.test/openapi.yaml', components: swoop.components });

function problems(schema: string, doc: unknown): string[] {
  const validate = ajv.getSchema(schema);
  if (!validate) throw new Error(`no schema ${schema}`);
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}
const ogc = (file: string) => `https://ogc.test/1.0/${file}.yaml`;
const swoopSchema = (name: string) => `https://swoop.test/openapi.yaml#/components/schemas/${name}`;
const ids = (body: { jobs: { jobID: string }[] }) => body.jobs.map((j) => j.jobID).sort();

describe(`OGC API - Processes Part 1 (${BACKEND}, real server on loopback)`, () => {
  let t: TestDb;
  let s: TestService;
  let publicUrl: string;
  let closePublic: () => Promise<unknown>;
  const processes = [
    { id: 'cogs', title: 'Cloud-optimized GeoTIFFs', description: 'COGs from every band of a scene' },
    { id: 'publish', description: 'publishes items to the catalog' },
  ];
  const recentPast = new Date(Date.now() - 5000).toISOString();

  beforeAll(async () => {
    t = await createTestDb();
    s = await startTestService(t.db);
    // The same store behind a server that knows process descriptions and its public URL.
    const app = buildStateServer({ store: s.store, writerToken: WRITER, readerToken: READER, publicUrl: 'https://swoop.example.com/state', processes });
    publicUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    closePublic = () => app.close();
    const events = [
      { ...lifecycle({ type: 'completed', run: 'cogs-1', phase: 'Succeeded', workflow: 'cogs' }), startedAt: '2024-05-01T12:00:00Z', finishedAt: '2024-05-01T12:30:00Z' },
      { ...lifecycle({ type: 'completed', run: 'cogs-2', phase: 'Failed', workflow: 'cogs', message: 'exit code 1' }), startedAt: '2024-05-01T12:00:00Z', finishedAt: '2024-05-01T12:00:30Z' },
      { ...lifecycle({ type: 'running', run: 'mask-1', phase: 'Running', workflow: 'mask' }), startedAt: recentPast },
      { type: 'invalid', input: '{"process": [{"workflow": "no-such-wf"}]}', workflow: 'no-such-wf', run: 'invalid-1', message: 'unknown workflow' },
    ];
    for (const body of events) expect((await call(s.url, 'POST', '/events', { token: WRITER, body })).status).toBe(202);
  });
  afterAll(async () => {
    await closePublic();
    await s.close();
    await t.drop();
  });

  it('landing page: links to conformance, processes and jobs; no token needed (it holds no data)', async () => {
    for (const base of [s.url, publicUrl]) {
      const page = await call(base, 'GET', '/');
      expect(page.status).toBe(200);
      expect(page.body.links.map((l: { rel: string }) => l.rel)).toEqual(expect.arrayContaining([
        'http://www.opengis.net/def/rel/ogc/1.0/conformance', 'http://www.opengis.net/def/rel/ogc/1.0/processes', 'http://www.opengis.net/def/rel/ogc/1.0/job-list']));
      for (const link of page.body.links) expect(problems(ogc('link'), link)).toEqual([]);
    }
    const landing = await call(publicUrl, 'GET', '/');
    expect(problems(swoopSchema('LandingPage'), landing.body)).toEqual([]);
    expect(landing.body.links.find((l: { rel: string }) => l.rel.endsWith('/processes')).href).toBe('https://swoop.example.com/state/processes');
  });

  it('conformance: core, JSON and job list', async () => {
    const conf = await call(publicUrl, 'GET', '/conformance');
    expect(conf.status).toBe(200);
    expect(conf.body.conformsTo).toEqual(CONFORMS_TO);
    expect(CONFORMS_TO).toEqual([
      'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core',
      'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json',
      'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list',
    ]);
    expect(problems(swoopSchema('ConfClasses'), conf.body)).toEqual([]);
  });

  it('processes: the described workflows and every workflow seen in runs, never one only an INVALID report named', async () => {
    const list = await call(publicUrl, 'GET', '/processes', { token: READER });
    expect(list.status).toBe(200);
    expect(problems(swoopSchema('ProcessList'), list.body)).toEqual([]);
    expect(list.body.processes.map((p: { id: string }) => p.id)).toEqual(['cogs', 'mask', 'publish']);
    expect(list.body.processes[0]).toMatchObject({ id: 'cogs', title: 'Cloud-optimized GeoTIFFs', description: 'COGs from every band of a scene' });
    const plain = await call(s.url, 'GET', '/processes', { token: READER });
    expect(plain.body.processes.map((p: { id: string; title: string }) => [p.id, p.title])).toEqual([['cogs', 'cogs'], ['mask', 'mask']]);
    expect((await call(s.url, 'GET', '/processes')).status).toBe(401);

    const one = await call(publicUrl, 'GET', '/processes/publish', { token: READER });
    expect(problems(swoopSchema('Process'), one.body)).toEqual([]);
    expect(one.body).toMatchObject({ id: 'publish', description: 'publishes items to the catalog' });
    expect(one.body.links).toContainEqual(expect.objectContaining({ href: 'https://swoop.example.com/state/jobs?processID=publish' }));
    expect((await call(s.url, 'GET', '/processes/mask', { token: READER })).body).toMatchObject({ id: 'mask' });
  });

  it.each([
    ['/processes/nope', 'no-such-process', 'processID'],
    ['/processes/no-such-wf', 'no-such-process', 'processID'],
    ['/jobs/nope', 'no-such-job', 'jobId'],
  ])('%s: 404 as an OGC exception (%s)', async (path, type, field) => {
    const answer = await call(s.url, 'GET', path, { token: READER });
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ type: `http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/${type}`, title: expect.any(String), status: 404, detail: expect.any(String), field });
    expect(problems(ogc('exception'), answer.body)).toEqual([]);
    expect(problems('https://ogc.test/2.0/exception.yaml', answer.body)).toEqual([]);
    expect(problems(swoopSchema('APIException'), answer.body)).toEqual([]);
  });

  it('jobs: the list and each job validate as jobList and statusInfo', async () => {
    for (const base of [s.url, publicUrl]) {
      const list = await call(base, 'GET', '/jobs', { token: READER });
      expect(list.status).toBe(200);
      expect(problems(ogc('jobList'), list.body)).toEqual([]);
      expect(ids(list.body)).toEqual(['cogs-1', 'cogs-2', 'invalid-1', 'mask-1']);
      const job = await call(base, 'GET', '/jobs/cogs-2', { token: READER });
      expect(problems(ogc('statusInfo'), job.body)).toEqual([]);
      expect(job.body).toMatchObject({ jobID: 'cogs-2', processID: 'cogs', type: 'process', status: 'failed', message: 'exit code 1', started: '2024-05-01T12:00:00.000000Z' });
    }
    // SWOOP's job ids are UUIDs; here a job is an Argo workflow, named by its workflow name
    // (docs/state.md): that is the only way the list differs from SWOOP's JobList.
    const swoopProblems = problems(swoopSchema('JobList'), (await call(publicUrl, 'GET', '/jobs', { token: READER })).body);
    expect(swoopProblems).toHaveLength(4);
    for (const p of swoopProblems) expect(p).toMatch(/^\/jobs\/\d\/jobID must match format "uuid"/);
  });

  it.each([
    ['type=process', ['cogs-1', 'cogs-2', 'invalid-1', 'mask-1']],
    ['type=wps', []],
    ['type=process&processID=mask', ['mask-1']],
    ['processID=cogs&processID=mask', ['cogs-1', 'cogs-2', 'mask-1']],
    ['status=failed', ['cogs-2', 'invalid-1']],
    ['status=successful&status=running', ['cogs-1', 'mask-1']],
    ['status=successful,running', ['cogs-1', 'mask-1']],
    [`datetime=${new Date(Date.now() - 3_600_000).toISOString()}/..`, ['cogs-1', 'cogs-2', 'invalid-1', 'mask-1']],
    ['datetime=../2000-01-01T00:00:00Z', []],
    ['datetime=../..', ['cogs-1', 'cogs-2', 'invalid-1', 'mask-1']],
    ['datetime=2000-01-01T00:00:00Z/2001-01-01T00:00:00Z', []],
    ['datetime=2000-01-01T00:00:00Z', []],
    ['processID=cogs&minDuration=60', ['cogs-1']],
    ['processID=cogs&maxDuration=60', ['cogs-2']],
    ['processID=cogs&processID=mask&minDuration=0&maxDuration=1799', ['cogs-2', 'mask-1']],
    ['processID=cogs&minDuration=1800&maxDuration=1800', ['cogs-1']],
  ])('jobs?%s', async (query, expected) => {
    const list = await call(s.url, 'GET', `/jobs?${query}`, { token: READER });
    expect(list.status).toBe(200);
    expect(ids(list.body)).toEqual(expected);
    expect(problems(ogc('jobList'), list.body)).toEqual([]);
  });

  it('limit pages the list, with a next link that keeps every filter', async () => {
    const seen: string[] = [];
    let path: string | undefined = '/jobs?processID=cogs&processID=mask&status=successful&status=failed&status=running&limit=1';
    while (path) {
      const page = await call(s.url, 'GET', path, { token: READER });
      expect(page.body.jobs.length).toBeLessThanOrEqual(1);
      seen.push(...ids(page.body));
      path = page.body.links.find((l: { rel: string }) => l.rel === 'next')?.href;
    }
    expect(seen.sort()).toEqual(['cogs-1', 'cogs-2', 'mask-1']);
  });

  it.each([
    ['type=job', 'type'],
    ['minDuration=5x', 'minDuration'],
    ['maxDuration=-1', 'maxDuration'],
    ['minDuration=1&minDuration=2', 'minDuration'],
    ['datetime=yesterday', 'datetime'],
    ['datetime=2024-02-30T00:00:00Z/..', 'datetime'],
    ['datetime=2024-02-01T00:00:00Z/2024-01-01T00:00:00Z', 'datetime'],
    ['datetime=a/b/c', 'datetime'],
    ['status=done', 'status'],
    ['limit=5000', 'limit'],
    ['limit=5x', 'limit'],
    ['sortby=created', 'sortby'],
  ])('jobs?%s is a 400 naming %s, as an OGC exception', async (query, field) => {
    const answer = await call(s.url, 'GET', `/jobs?${query}`, { token: READER });
    expect(answer).toMatchObject({ status: 400, body: { field, status: 400, detail: expect.any(String) } });
    expect(problems(ogc('exception'), answer.body)).toEqual([]);
  });
});
