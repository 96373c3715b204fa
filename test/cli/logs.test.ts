/**
 * `swoop logs` against a loopback Argo Server that answers only what the upstream swagger
 * (server-api.swagger.json) defines: every request must be an operation of it, with only the
 * query parameters that operation declares, and the Bearer token; the Workflow it serves is
 * checked against the swagger's Workflow definition (unknown fields refused), and logs stream
 * as grpc-gateway does, one `{"result": LogEntry}` per line. Pod names in the fixture are
 * literals computed outside this code base (FNV-1a, as Argo's v2 pod names).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fnv1a32 } from '../../cli/argo';
import { HAVE_REFERENCE, referencePath } from '../support/reference';
import { swoop } from './support';

const TOKEN = 'argo-test-token';
const WF = 'e2e-cogs-0123456789abcdef';
const PODS = {
  split: `${WF}-main-4021347469`,
  convertA: `${WF}-main-118474585`,
  convertB: `${WF}-main-2146252167`,
  prepare: `${WF}-prepare-1968449546`,
};

const node = (id: string, name: string, displayName: string, type: string, extra: Record<string, unknown> = {}) => ({ id, name, displayName, type, phase: 'Succeeded', ...extra });
const WORKFLOW = {
  metadata: { name: WF, namespace: 'swoop', uid: '7d0c4d2e-1111-4222-8333-444455556666' },
  spec: { workflowTemplateRef: { name: 'e2e-cogs' } },
  status: {
    phase: 'Failed',
    nodes: {
      [WF]: node(WF, WF, WF, 'DAG', { templateName: 'main', children: [`${WF}-1`, `${WF}-2`, `${WF}-3`, `${WF}-6`] }),
      [`${WF}-1`]: node(`${WF}-1`, `${WF}.claim`, 'claim', 'HTTP', { templateName: 'claim' }),
      [`${WF}-2`]: node(`${WF}-2`, `${WF}.split`, 'split', 'Pod', { templateRef: { name: 'e2e-split', template: 'main' } }),
      [`${WF}-3`]: node(`${WF}-3`, `${WF}.convert`, 'convert', 'TaskGroup', { children: [`${WF}-4`, `${WF}-5`] }),
      [`${WF}-4`]: node(`${WF}-4`, `${WF}.convert(0:a.tif)`, 'convert(0:a.tif)', 'Pod', { templateRef: { name: 'e2e-cogify', template: 'main' } }),
      [`${WF}-5`]: node(`${WF}-5`, `${WF}.convert(1:b.tif)`, 'convert(1:b.tif)', 'Pod', { phase: 'Failed', message: 'OOMKilled', templateRef: { name: 'e2e-cogify', template: 'main' } }),
      [`${WF}-6`]: node(`${WF}-6`, `${WF}.prepare`, 'prepare', 'Pod', { templateName: 'prepare', children: [`${WF}-7`, `${WF}-8`] }),
      [`${WF}-7`]: node(`${WF}-7`, `${WF}.prepare.list`, 'list', 'Container'),
      [`${WF}-8`]: node(`${WF}-8`, `${WF}.prepare.merge`, 'merge', 'Container'),
    },
  },
};
/** pod -> container -> lines */
const LOGS: Record<string, Record<string, string[]>> = {
  [PODS.split]: { main: ['listing 2 assets'] },
  [PODS.convertA]: { main: ['a.tif: ok'] },
  [PODS.convertB]: { main: ['b.tif: reading', 'b.tif: out of memory'] },
  [PODS.prepare]: { list: ['listed'], merge: ['merged'], main: [] },
};

interface Seen { readonly method: string; readonly path: string; readonly query: Record<string, string>; readonly problems: string[] }

class FakeArgoLogs {
  readonly seen: Seen[] = [];
  private server?: Server;
  url = '';
  private readonly swagger = JSON.parse(readFileSync(referencePath('argo-workflows/server-api.swagger.json'), 'utf8'));

  /** The swagger operation a request is, and the query parameters it declares. */
  private operation(method: string, path: string): { template: string; query: string[] } | undefined {
    for (const [template, ops] of Object.entries(this.swagger.paths as Record<string, any>)) {
      const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      const op = ops[method.toLowerCase()];
      if (op && re.test(path)) return { template, query: (op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name) };
    }
    return undefined;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const query = Object.fromEntries(url.searchParams);
      const problems: string[] = [];
      const op = this.operation(req.method ?? 'GET', url.pathname);
      if (!op) problems.push(`not an operation of the swagger: ${req.method} ${url.pathname}`);
      for (const k of Object.keys(query)) if (op && !op.query.includes(k)) problems.push(`query parameter ${k} is not declared by ${op.template}`);
      this.seen.push({ method: req.method ?? '', path: url.pathname, query, problems });
      const grpcError = (status: number, code: number, message: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, message }));
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return grpcError(401, 16, 'token not valid');
      if (problems.length) return grpcError(400, 3, problems.join('; '));
      if (op!.template === '/api/v1/workflows/{namespace}/{name}') {
        if (url.pathname !== `/api/v1/workflows/swoop/${WF}`) return grpcError(404, 5, 'workflows.argoproj.io "x" not found');
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(WORKFLOW));
      }
      if (op!.template === '/api/v1/workflows/{namespace}/{name}/log') {
        const container = query['logOptions.container'] ?? 'main';
        const pods = query.podName ? [query.podName] : Object.keys(LOGS);
        const grep = query.grep ? new RegExp(query.grep) : undefined;
        res.writeHead(200, { 'content-type': 'application/json' });
        for (const pod of pods) {
          for (const content of LOGS[pod]?.[container] ?? []) {
            if (!grep || grep.test(content)) res.write(`${JSON.stringify({ result: { content, podName: pod } })}\n`);
          }
        }
        return res.end();
      }
      return grpcError(404, 5, 'not served by this fake');
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe.skipIf(!HAVE_REFERENCE)('swoop logs through the Argo Server API (a loopback server held to the upstream swagger)', () => {
  const argo = new FakeArgoLogs();
  let dir = '';
  const cli = (argv: string[], env: NodeJS.ProcessEnv = {}) => swoop(argv, { cwd: dir, env: { ARGO_T: TOKEN, ...env } });
  beforeAll(async () => {
    await argo.start();
    dir = mkdtempSync(join(tmpdir(), 'swoop-logs-'));
    writeFileSync(join(dir, 'swoop.config.yaml'), stringify({ deployments: { dev: { argo: { url: argo.url, token: { env: 'ARGO_T' } } } } }));
  });
  afterAll(() => argo.stop());

  it('the served Workflow is valid for the swagger\'s Workflow definition, unknown fields refused', () => {
    const swagger = JSON.parse(readFileSync(referencePath('argo-workflows/server-api.swagger.json'), 'utf8'));
    const definitions = structuredClone(swagger.definitions);
    const close = (n: any): void => {
      if (Array.isArray(n)) return n.forEach(close);
      if (!n || typeof n !== 'object') return;
      if (n.properties && n.additionalProperties === undefined) n.additionalProperties = false;
      Object.values(n).forEach(close);
    };
    close(definitions);
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: 'argo', definitions });
    const validate = ajv.getSchema('argo#/definitions/io.argoproj.workflow.v1alpha1.Workflow')!;
    expect(validate(WORKFLOW), JSON.stringify(validate.errors)).toBe(true);
  });

  it('FNV-1a matches its published test vectors (the hash in Argo pod names)', () => {
    expect([fnv1a32(''), fnv1a32('a'), fnv1a32('foobar')]).toEqual([0x811c9dc5, 0xe40c292c, 0xbf9cf968]);
  });

  it('prints every pod\'s lines prefixed with its step', async () => {
    const r = await cli(['logs', WF]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('split: listing 2 assets\nconvert(0:a.tif): a.tif: ok\nconvert(1:b.tif): b.tif: reading\nconvert(1:b.tif): b.tif: out of memory\n');
    expect(argo.seen.flatMap((s) => s.problems)).toEqual([]);
  });

  it('--step selects the step\'s pods (every fan-out item) and --json gives the lines', async () => {
    const r = await cli(['logs', WF, '--step', 'convert', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ run: WF, lines: [
      { step: 'convert(0:a.tif)', pod: PODS.convertA, content: 'a.tif: ok' },
      { step: 'convert(1:b.tif)', pod: PODS.convertB, content: 'b.tif: reading' },
      { step: 'convert(1:b.tif)', pod: PODS.convertB, content: 'b.tif: out of memory' },
    ] });
    const asked = argo.seen.filter((s) => s.path.endsWith('/log')).slice(-2).map((s) => s.query);
    expect(asked).toEqual([{ podName: PODS.convertA, 'logOptions.container': 'main' }, { podName: PODS.convertB, 'logOptions.container': 'main' }]);
  });

  it('a step of a containerSet group reads its own container of the group\'s pod; --grep is passed on', async () => {
    const r = await cli(['logs', WF, '--step', 'merge']);
    expect(r.stdout).toBe('merge: merged\n');
    expect(argo.seen.at(-1)!.query).toEqual({ podName: PODS.prepare, 'logOptions.container': 'merge' });
    const grep = await cli(['logs', WF, '--grep', 'memory']);
    expect(grep.stdout).toBe('convert(1:b.tif): b.tif: out of memory\n');
    expect(argo.seen.flatMap((s) => s.problems)).toEqual([]);
  });

  it.each([
    [['logs', WF, '--step', 'nope'], `swoop: step "nope": run ${WF} has no such step with logs (steps: convert, list, merge, prepare, split)\n`],
    [['logs', WF, '--step', 'claim'], `swoop: step "claim" of run ${WF} is an HTTP step (it runs in the workflow's agent pod and has no logs of its own); its outcome is in \`swoop run get ${WF}\`\n`],
    [['logs', 'gone-run'], 'swoop: workflow "gone-run": not found in namespace swoop of the Argo Server (a wrong namespace, or the workflow was garbage-collected)\n'],
  ])('%j: one line naming what to fix', async (argv, message) => {
    const r = await cli(argv);
    expect([r.code, r.stderr]).toEqual([1, message]);
  });

  it('a refused token names the setting', async () => {
    const r = await cli(['logs', WF], { ARGO_T: 'wrong' });
    expect([r.code, r.stderr]).toEqual([1, `swoop: Argo Server at ${argo.url} refused the token (401); check argo.token of deployment "dev" or SWOOP_ARGO_TOKEN\n`]);
  });
});
