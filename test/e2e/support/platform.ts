/**
 * The platform of one e2e suite, on loopback: the synthesized manifests (the suites' own
 * app, support/app.ts, with its events layer), the real state service started from the
 * environment its own Deployment construct declares, and a webhook receiver standing in for
 * the `swoop-lifecycle` EventSource (its port, endpoint, method and token checks).
 * PGlite by default; with DATABASE_URL a fresh schema that is dropped afterwards.
 */
import { loadEnvironment } from '../../../stacks/environment';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, Chart } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { synthesize } from '../../../constructs';
import { PlatformEvents } from '../../../constructs/events';
import { StateServiceChart } from '../../../constructs/state-service';
import { configFromEnv } from '../../../state/config';
import { openDb, quoteIdent } from '../../../state/db';
import { migrate } from '../../../state/migrate';
import { grantServiceRole } from '../../../state/roles';
import { startStateService, type RunningStateService } from '../../../state/service';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webhookEvent, type Firing, type SimulatedEvent } from '../../../tools/simulator';
import { FakeKubeApi } from '../../support/kube-api';
import { BACKEND, DATABASE_URL, databaseUrlAs } from '../../state/support';
import { buildE2eApp, type E2eApp } from './app';
import type { ClusterObjects, Doc, Submission } from './argo';
import { ArgoRun } from './run';

export { BACKEND };

export const WRITER_TOKEN = 'e2e-writer-token';
export const READER_TOKEN = 'e2e-reader-token';
export const LIFECYCLE_TOKEN = 'e2e-lifecycle-token';
export const PAYLOAD_STORE = 's3://swoop-e2e/payloads';
export const ARGO_TOKEN = 'e2e-argo-token';
/** The state service account's token (the projected file a pod gets). */
export const KUBE_TOKEN = 'e2e-state-service-account-token';

export interface Manifests {
  readonly swoop: E2eApp;
  readonly events: PlatformEvents;
  readonly docs: Doc[];
  find(kind: string, name: string): Doc;
}

/** Synthesizes the suites' own app (support/app.ts); `configure` may add callbacks before synthesis. */
export function synthesizeManifests(configure?: (events: PlatformEvents, swoop: E2eApp) => void): Manifests {
  const swoop = buildE2eApp();
  const events = swoop.events;
  configure?.(events, swoop);
  const docs = [...synthesize(swoop.app).values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as Doc)).filter(Boolean);
  return {
    swoop,
    events,
    docs,
    find(kind, name) {
      const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
      if (!doc) throw new Error(`the synthesized app has no ${kind}/${name} (has ${docs.map((d) => `${d.kind}/${d.metadata?.name}`).join(', ')})`);
      return doc;
    },
  };
}

/** The webhook of one EventSource event: where it listens and which token it wants. */
export interface WebhookSpec {
  readonly eventSourceName: string;
  readonly eventName: string;
  readonly port: number;
  readonly endpoint: string;
  readonly method: string;
  readonly authSecret: { readonly name: string; readonly key: string };
}

export function webhookOf(eventSource: Doc): WebhookSpec {
  const entries = Object.entries((eventSource.spec?.webhook ?? {}) as Record<string, Doc>);
  if (entries.length !== 1) throw new Error(`EventSource ${eventSource.metadata?.name} must define exactly one webhook event, has ${entries.length}`);
  const [eventName, w] = entries[0]!;
  if (!w.authSecret) throw new Error(`EventSource ${eventSource.metadata?.name}/${eventName} has no authSecret: it would accept anyone`);
  return { eventSourceName: eventSource.metadata.name, eventName, port: Number(w.port), endpoint: String(w.endpoint), method: String(w.method), authSecret: w.authSecret };
}

/** A delivery the receiver accepted, already shaped as the EventSource would publish it. */
export interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: any;
  readonly event: SimulatedEvent;
}

/** A loopback server with the Argo Events webhook's checks: method, endpoint, `Authorization: Bearer <secret>`. */
export class WebhookReceiver {
  public readonly accepted: Received[] = [];
  public readonly rejected: { path: string; status: number; reason: string }[] = [];
  private server?: Server;
  private url = '';

  constructor(private readonly spec: WebhookSpec, private readonly token: string) {}

  /** The URL callers must use: loopback with the EventSource's endpoint. */
  get endpointUrl(): string {
    return `${this.url}${this.spec.endpoint}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0]!;
        const reject = (status: number, reason: string) => {
          this.rejected.push({ path, status, reason });
          res.writeHead(status).end(reason);
        };
        if (path !== this.spec.endpoint) return reject(404, `no endpoint ${path}`);
        if (req.method !== this.spec.method) return reject(405, `method ${req.method}`);
        if (req.headers.authorization !== `Bearer ${this.token}`) return reject(401, 'unauthorized');
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return reject(400, 'body is not JSON');
        }
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        this.accepted.push({ path, headers: req.headers, body, event: webhookEvent(this.spec.eventSourceName, this.spec.eventName, body, headers) });
        res.writeHead(200).end('success');
      });
    });
    // Keep idle connections open longer than fetch (undici, 4 s) does, so a reused
    // connection is never closed by the server just as a request goes out (ECONNRESET).
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Waits until a delivery matching `pick` arrived (the outbox is asynchronous). */
  async waitFor(pick: (r: Received) => boolean, timeoutMs = 5_000): Promise<Received> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.accepted.find(pick);
      if (hit) return hit;
      if (Date.now() > until) throw new Error(`no matching delivery within ${timeoutMs} ms; accepted ${JSON.stringify(this.accepted.map((a) => a.body))}, rejected ${JSON.stringify(this.rejected)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The state service's answer to a submission, and the run it created (if it did). */
export interface Submitted {
  readonly status: number;
  readonly body: any;
  /** The Workflow the service created in the API server, as Argo would run it; undefined when none was created. */
  readonly run?: ArgoRun;
}

export interface RunningPlatform {
  readonly cluster: ClusterObjects;
  readonly state: RunningStateService;
  readonly stateUrl: string;
  readonly lifecycle: WebhookReceiver;
  /** The Kubernetes API server the state service creates Workflows in (loopback, schema-checked). */
  readonly kube: FakeKubeApi;
  /** GET on the state service with the reader token. */
  read(path: string): Promise<any>;
  /**
   * Delivers a sensor's `POST .../submit` firing to the state service as Argo Events would
   * (the in-cluster URL's path on loopback, secure headers read from the Secrets). An answer
   * the trigger would retry throws, unless `retried` says the test expects one.
   */
  deliverSubmit(firing: Firing, options?: { find?: TemplateLookup; retried?: boolean }): Promise<Submitted>;
  /** Submits a run of `workflow` as the sensors do (a claim first), e.g. for a run started by hand. */
  submit(workflow: string, args: Record<string, string>, options?: { name?: string; startedBy?: string; find?: TemplateLookup }): Promise<Submitted>;
  /** Submits and requires the Workflow to be created; returns its run. */
  start(workflow: string, args: Record<string, string>, options?: { name?: string }): Promise<ArgoRun>;
  /** The run of a Workflow the service created earlier. */
  runOf(name: string, find?: TemplateLookup): ArgoRun;
  stop(): Promise<void>;
}

let runCounter = 0;

/** Where a run's WorkflowTemplate comes from: the platform's manifests unless another app's are given. */
export type TemplateLookup = (kind: string, name: string) => Doc;

/** The environment of the state service's container, resolved from the cluster objects. */
/** The env list of the state service's container, as its Deployment construct synthesizes it. */
export function stateServiceEnvSources(): Doc[] {
  const app = new App();
  const chart = new StateServiceChart(app, 'state', { image: 'ghcr.io/swoop/state:0.1.0' });
  const deployment = Chart.of(chart).toJson().find((d: Doc) => d.kind === 'Deployment') as Doc;
  return deployment.spec.template.spec.containers[0].env as Doc[];
}

export function stateServiceEnv(cluster: ClusterObjects): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of stateServiceEnvSources()) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const v = cluster.secrets[name]?.[key];
      if (v === undefined) throw new Error(`state service env ${e.name}: Secret ${name} has no key ${key}`);
      env[e.name] = v;
    } else if (e.valueFrom?.configMapKeyRef) {
      const { name, key } = e.valueFrom.configMapKeyRef;
      const v = cluster.configMaps[name]?.data[key];
      if (v === undefined) throw new Error(`state service env ${e.name}: ConfigMap ${name} has no key ${key}`);
      env[e.name] = v;
    } else throw new Error(`state service env ${e.name}: unsupported source ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

/**
 * Starts the receiver and the state service. The service's env comes from its Deployment
 * with the test's Secrets and ConfigMap; only what is pod-specific is overridden: loopback
 * HOST/PORT, the embedded database when no DATABASE_URL is given, a fresh schema otherwise.
 */
export async function startPlatform(manifests: Pick<Manifests, 'find'>, options: {
  argoServerUrl?: string;
  /** ConfigMap swoop-platform keys to set or replace, as a stack's workflowValues and taskTokenQueues would (e.g. `task-token-queues`). */
  values?: Readonly<Record<string, string>>;
} = {}): Promise<RunningPlatform> {
  const kube = new FakeKubeApi(KUBE_TOKEN);
  await kube.start();
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'swoop-e2e-sa-')), 'token');
  writeFileSync(tokenFile, KUBE_TOKEN);
  const lifecycleSpec = webhookOf(manifests.find('EventSource', 'swoop-lifecycle'));
  const lifecycle = new WebhookReceiver(lifecycleSpec, LIFECYCLE_TOKEN);
  await lifecycle.start();
  const schema = `swoop_e2e_${randomBytes(5).toString('hex')}`;
  // On PostgreSQL the service connects as its own role, as deployed (docs/state.md).
  const role = `swoop_e2e_svc_${randomBytes(5).toString('hex')}`;
  const serviceUrl = DATABASE_URL ? databaseUrlAs(role) : undefined;
  const secrets = {
    'swoop-state-tokens': { writer: WRITER_TOKEN, reader: READER_TOKEN, 'writer-authorization': `Bearer ${WRITER_TOKEN}` },
    'swoop-lifecycle-token': { token: LIFECYCLE_TOKEN },
    'swoop-ingress-token': { token: 'e2e-ingress-token' },
    'swoop-state-db': { url: serviceUrl ?? 'postgres://unused-with-pglite' },
    'swoop-state-db-owner': { url: DATABASE_URL ?? 'postgres://unused-with-pglite' },
    'swoop-state-argo-token': { token: ARGO_TOKEN },
  };
  // As the dev stack writes it: the built-in keys and the workflow values it sets (workflowValues).
  const platformData = { ...loadEnvironment('dev').workflowValues, 'payload-store': PAYLOAD_STORE, 'state-url': 'pending', 'lifecycle-url': lifecycle.endpointUrl, 'task-token-queues': '', ...options.values };
  const configMap = { labels: { 'workflows.argoproj.io/configmap-type': 'Parameter' }, data: platformData };
  const env = stateServiceEnv({ configMaps: { 'swoop-platform': configMap }, secrets });
  // The stuck-run sweeper runs on the real clock; tests drive it explicitly (test/state/sweeper.test.ts).
  Object.assign(env, { HOST: '127.0.0.1', PORT: '0', DATABASE_SCHEMA: schema, STUCK_RUN_SWEEP_INTERVAL_SECONDS: '0' });
  // Its own metrics port too: suites start platforms in parallel, and the Deployment's fixed port would collide.
  if (env.METRICS_PORT !== undefined) env.METRICS_PORT = '0';
  // What the kubelet gives a pod: the API server's address and the service account's token file.
  Object.assign(env, { KUBE_API_URL: kube.url, KUBE_TOKEN_FILE: tokenFile });
  // The Argo Server is a loopback stand-in where a test needs one (test/support/argo-server.ts).
  if (options.argoServerUrl) Object.assign(env, { ARGO_SERVER_URL: options.argoServerUrl, ARGO_INSECURE_SKIP_VERIFY: 'false' });
  if (DATABASE_URL) {
    // On PostgreSQL the migration Job owns the schema; this is what it runs, as the owner.
    const db = await openDb({ url: DATABASE_URL, schema });
    await migrate(db);
    await grantServiceRole(db, { name: role });
    await db.close();
  } else delete env.DATABASE_URL;
  const state = await startStateService(configFromEnv(env));
  platformData['state-url'] = state.url;
  const cluster: ClusterObjects = { configMaps: { 'swoop-platform': configMap }, secrets };
  const namespace = env.WORKFLOW_NAMESPACE!;
  const runOf = (name: string, find: TemplateLookup = manifests.find): ArgoRun => {
    const wf = kube.workflows.get(`${namespace}/${name}`);
    if (!wf) throw new Error(`the API server has no Workflow ${namespace}/${name}`);
    const submission: Submission = {
      name, uid: wf.metadata.uid, creationTimestamp: wf.metadata.creationTimestamp, namespace,
      arguments: Object.fromEntries((wf.spec.arguments.parameters as Doc[]).map((p) => [p.name, p.value])),
    };
    return new ArgoRun(structuredClone(find('WorkflowTemplate', wf.spec.workflowTemplateRef.name)), submission, cluster);
  };
  const post = async (body: unknown, headers: Record<string, string>, find?: TemplateLookup): Promise<Submitted> => {
    const all = new Headers(headers);
    if (!all.has('content-type')) all.set('content-type', 'application/json');
    const res = await fetch(`${state.url}/submit`, { method: 'POST', headers: all, body: JSON.stringify(body) });
    const answer = await res.json() as Doc;
    return { status: res.status, body: answer, ...(res.status === 201 ? { run: runOf(answer.run, find) } : {}) };
  };
  const submit: RunningPlatform['submit'] = (workflow, args, opts = {}) => post({
    workflow, name: opts.name ?? `${workflow}-${(++runCounter).toString(16).padStart(5, '0')}${randomBytes(3).toString('hex')}`,
    namespace, claim: 'true', startedBy: opts.startedBy ?? 'e2e', arguments: args,
  }, { authorization: `Bearer ${WRITER_TOKEN}` }, opts.find);
  return {
    cluster,
    state,
    stateUrl: state.url,
    lifecycle,
    kube,
    runOf,
    submit,
    async start(workflow, args, opts = {}) {
      const answer = await submit(workflow, args, opts);
      if (!answer.run) throw new Error(`the state service created no Workflow for ${workflow}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.run;
    },
    async deliverSubmit(firing, opts = {}) {
      if (firing.action.type !== 'http' || !/\/submit$/.test(firing.action.url)) throw new Error(`firing ${firing.trigger} is not a submission to the state service`);
      const headers: Record<string, string> = { ...firing.action.headers };
      for (const [name, from] of Object.entries(firing.action.secureHeaders)) {
        const [, secret, key] = /^secret ([^/]+)\/(.+)$/.exec(from)!;
        headers[name] = (secrets as Record<string, Record<string, string>>)[secret!]![key!]!;
      }
      const answer = await post(firing.action.body, headers, opts.find);
      // The trigger's policy decides what counts as delivered.
      if (!opts.retried && firing.action.allowedStatuses && !firing.action.allowedStatuses.includes(answer.status)) {
        throw new Error(`the state service answered ${firing.trigger} with ${answer.status}, which its trigger would retry: ${JSON.stringify(answer.body)}`);
      }
      return answer;
    },
    async read(path) {
      const res = await fetch(`${state.url}${path}`, { headers: { authorization: `Bearer ${READER_TOKEN}` } });
      const body = await res.json();
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    async stop() {
      await state.close();
      await lifecycle.stop();
      await kube.stop();
      if (kube.invalid.length > 0) throw new Error(`the state service sent Workflows the upstream schema refuses: ${JSON.stringify(kube.invalid)}`);
      if (DATABASE_URL) {
        const db = await openDb({ url: DATABASE_URL });
        await db.exec(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
        await db.exec(`DROP OWNED BY ${quoteIdent(role)}; DROP ROLE IF EXISTS ${quoteIdent(role)}`);
        await db.close();
      }
    },
  };
}
