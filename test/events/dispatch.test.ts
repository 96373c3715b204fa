import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISPATCH_SCRIPT_FILE } from '../../constructs/events';
import { lintObjects } from '../../tools/lint/index';
import { Simulator, webhookEvent } from '../../tools/simulator';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';
import { eventsFixture, findDoc, type Doc } from './fixture';

const { docs } = eventsFixture();
const template = findDoc(docs, 'WorkflowTemplate', 'swoop-dispatch');
const forward = (template.spec.templates as Doc[]).find((t) => t.name === 'forward')!;

describe('the swoop-dispatch WorkflowTemplate', () => {
  it.skipIf(!HAVE_REFERENCE)('validates against the upstream Argo Workflows schema, unknown fields rejected, and passes the lint with the sensors', () => {
    expect(validateArgoDocument(template)).toEqual([]);
    expect(lintObjects(docs, { validate: validateArgoDocument })).toEqual([]);
  });

  it('downloads the object as a full-location S3 artifact (so the artifact repository is not consulted) with the pod identity', () => {
    expect(forward.inputs.artifacts).toEqual([{
      name: 'payload',
      path: '/tmp/swoop/payload.json',
      optional: true,
      s3: { endpoint: 's3.amazonaws.com', bucket: '{{inputs.parameters.bucket}}', key: '{{inputs.parameters.key}}', useSDKCreds: true },
    }]);
    expect(template.spec.serviceAccountName).toBe('swoop-workflow');
  });

  it('splits the url into bucket and key for every url the sensor sends it', () => {
    const args = (template.spec.templates as Doc[]).find((t) => t.name === 'main')!.dag.tasks[0].arguments.parameters as Doc[];
    // `{{=sprig.regexReplaceAll('<re>', workflow.parameters.url, '<repl>')}}`, evaluated here with the same RE2-compatible pattern.
    const evaluate = (expr: string, url: string) => {
      const m = /^\{\{=sprig\.regexReplaceAll\('([^']+)', workflow\.parameters\.url, '([^']*)'\)\}\}$/.exec(expr);
      if (!m) throw new Error(`unexpected expression ${expr}`);
      return url.replace(new RegExp(m[1], 'g'), m[2]);
    };
    const split = (url: string) => Object.fromEntries(args.map((p) => [p.name, evaluate(p.value, url)]));
    expect(split('s3://swoop-payloads/big/0001.json')).toEqual({ bucket: 'swoop-payloads', key: 'big/0001.json' });
    expect(split('s3://b/k')).toEqual({ bucket: 'b', key: 'k' });
    expect(split('s3://my.bucket/a/b/c d.json')).toEqual({ bucket: 'my.bucket', key: 'a/b/c d.json' });
  });

  it('runs as non-root with every capability dropped, RuntimeDefault seccomp, requests and limits, retries, a deadline and garbage collection', () => {
    expect(template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(forward.script.securityContext).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(forward.script.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } });
    expect(forward.retryStrategy.limit).toBeGreaterThan(0);
    expect(template.spec.activeDeadlineSeconds).toBe(600);
    expect(template.spec.podGC).toEqual({ strategy: 'OnPodSuccess' });
    expect(template.spec.ttlStrategy.secondsAfterSuccess).toBeGreaterThan(0);
    expect(forward.script.image).toMatch(/^node:\d+\.\d+\.\d+/);
  });

  it('ships exactly the script the tests below run', () => {
    expect(forward.script.source).toBe(readFileSync(DISPATCH_SCRIPT_FILE, 'utf8'));
  });

  it('records INVALID from its exit handler only when the run did not succeed', () => {
    expect(template.spec.hooks).toEqual({ exit: { template: 'record-failure' } });
    const exit = (template.spec.templates as Doc[]).find((t) => t.name === 'record-failure')!;
    expect(exit.dag.tasks[0]).toMatchObject({ template: 'record-invalid', when: '{{workflow.status}} != Succeeded' });
    const record = (template.spec.templates as Doc[]).find((t) => t.name === 'record-invalid')!;
    expect(record.http.url).toBe('http://swoop-state.swoop.svc.cluster.local:8080/events');
    expect(record.http.headers).toContainEqual({ name: 'Authorization', valueFrom: { secretKeyRef: { name: 'swoop-state-tokens', key: 'writer-authorization' } } });
  });
});

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: Doc;
}

/** A loopback HTTP server that records every request and answers with `status`. */
class FakeService {
  readonly requests: Received[] = [];
  status = 200;
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => {
        this.requests.push({ headers: req.headers, body: JSON.parse(text) as Doc });
        res.writeHead(this.status, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('the dispatch script, run with Node against loopback services', () => {
  const webhook = new FakeService();
  const state = new FakeService();
  const dir = mkdtempSync(join(tmpdir(), 'swoop-dispatch-'));
  const url = 's3://swoop-payloads/big/0001.json';
  const input = JSON.stringify({ url });
  const process = [{ workflow: 'cog', upload_options: { path_template: '/${collection}/${id}' } }, { workflow: 'publish' }];

  beforeAll(async () => {
    await webhook.start();
    await state.start();
  });
  afterAll(async () => {
    await webhook.close();
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the script as the dispatch step would (env as in the template), with `payload` as the downloaded object. */
  function run(payload: string | undefined, name: string): Promise<number> {
    const file = join(dir, `${name}.json`);
    if (payload !== undefined) writeFileSync(file, payload);
    webhook.requests.length = 0;
    state.requests.length = 0;
    const env = {
      PATH: globalThis.process.env.PATH,
      SWOOP_URL: url,
      SWOOP_INPUT: input,
      SWOOP_SOURCE: 'swoop-ingress-sqs',
      SWOOP_DELIVERY_ID: `swoop-dispatch-${name}`,
      SWOOP_PAYLOAD_FILE: file,
      SWOOP_WEBHOOK_URL: `${webhook.url}/payloads`,
      SWOOP_WEBHOOK_TOKEN: 'ingress-secret',
      SWOOP_STATE_URL: `${state.url}/`,
      SWOOP_STATE_AUTHORIZATION: 'Bearer writer-secret',
    };
    return new Promise((resolve) => {
      execFile(globalThis.process.execPath, [DISPATCH_SCRIPT_FILE], { env, timeout: 20_000 }, (error) => {
        resolve(error ? Number((error as { code?: number }).code ?? -1) : 0);
      });
    });
  }

  it('posts {url, process} with the bearer token and an Idempotency-Key, and the sensor routes what it posted to the named workflow', async () => {
    const payload = { type: 'FeatureCollection', features: [{ type: 'Feature', id: 'S2B_1', properties: {}, assets: {}, links: [] }], process };
    expect(await run(JSON.stringify(payload), 'ok')).toBe(0);
    expect(state.requests).toEqual([]);
    expect(webhook.requests).toHaveLength(1);
    const [req] = webhook.requests;
    expect(req.body).toEqual({ url, process });
    expect(req.headers).toMatchObject({ authorization: 'Bearer ingress-secret', 'idempotency-key': 'swoop-dispatch-ok', 'content-type': 'application/json' });
    const { firings } = new Simulator(docs).deliver(webhookEvent('swoop-ingress', 'payload', req.body, { Authorization: req.headers.authorization!, 'Idempotency-Key': req.headers['idempotency-key'] as string }));
    expect(firings.map((f) => f.trigger)).toEqual(['start-cog-from-webhook']);
  });

  it('records a payload without a process block INVALID with the writer authorization, posts nothing to the webhook, and succeeds', async () => {
    expect(await run(JSON.stringify({ type: 'FeatureCollection', features: [] }), 'no-process')).toBe(0);
    expect(webhook.requests).toEqual([]);
    expect(state.requests).toHaveLength(1);
    const [req] = state.requests;
    expect(req.headers.authorization).toBe('Bearer writer-secret');
    expect(req.body).toEqual({ type: 'invalid', source: 'swoop-ingress-sqs', message: `the payload at ${url} cannot be routed: the payload has no process block`, input, detail: '' });
  });

  it('records a missing object (the optional artifact was not found) and a body that is not JSON as INVALID', async () => {
    expect(await run(undefined, 'missing')).toBe(0);
    expect(state.requests.map((r) => r.body.message)).toEqual([`no payload object at ${url}`]);
    expect(await run('{"features": [', 'not-json')).toBe(0);
    expect(state.requests.map((r) => r.body.message)).toEqual([`the payload at ${url} is not JSON`]);
    expect(webhook.requests).toEqual([]);
  });

  it('fails (exit 1, so Argo retries the step) when the webhook does not accept the payload', async () => {
    webhook.status = 503;
    try {
      expect(await run(JSON.stringify({ process }), 'webhook-down')).toBe(1);
      expect(webhook.requests).toHaveLength(1);
      expect(state.requests).toEqual([]);
    } finally {
      webhook.status = 200;
    }
  });

  it('fails when the state service refuses the INVALID record, rather than losing it', async () => {
    state.status = 500;
    try {
      expect(await run(JSON.stringify({ features: [] }), 'state-down')).toBe(1);
      expect(state.requests).toHaveLength(1);
    } finally {
      state.status = 200;
    }
  });
});
