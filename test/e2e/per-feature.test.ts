/**
 * A SWOOP perFeature HTTP callback with no user code, end to end: a run finishes through the
 * real state service, its run.finished (from the real outbox) fires the synthesized callbacks
 * sensor (simulator), which submits the platform template `swoop-callback-<id>`; that
 * template's script runs as Argo would start it (its env rendered from the submitted
 * arguments), reading the output payload and posting once per selected feature to a
 * loopback receiver that counts deliveries per Idempotency-Key.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ContainerTask, synthesize, TaskLibrary, Workflow } from '../../constructs';
import { CallbackParameter, CallbackTarget, PER_FEATURE_SCRIPT_FILE, PlatformEvents } from '../../constructs/events';
import { lintObjects } from '../../tools/lint/index';
import { Simulator } from '../../tools/simulator';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';
import { globalVariables, renderTags, resolveParameters, workflowFailures, type Doc } from './support/argo';
import { cirrusId, cirrusPayload } from './support/fixtures';
import { BACKEND, startPlatform, type RunningPlatform } from './support/platform';

const NAME = 'e2e-items';
const SECRET = { name: 'e2e-items-api', key: 'token' };

interface Delivery { key: string; auth: string | undefined; body: any }

describe(`a perFeature HTTP callback without user code (${BACKEND})`, () => {
  const deliveries: Delivery[] = [];
  const failing = new Map<string, number>(); // feature id -> attempts still to refuse
  let receiver: Server;
  let platform: RunningPlatform;
  let manifests: { docs: Doc[]; find(kind: string, name: string): Doc };
  let dir: string;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c));
      req.on('end', () => {
        const body = JSON.parse(text);
        const left = failing.get(body.feature.id) ?? 0;
        if (left > 0) {
          failing.set(body.feature.id, left - 1);
          res.writeHead(503).end('busy');
          return;
        }
        deliveries.push({ key: String(req.headers['idempotency-key']), auth: req.headers.authorization, body });
        res.writeHead(200).end('{}');
      });
    });
    receiver.keepAliveTimeout = 120_000; // longer than fetch keeps idle connections (see e2e/support/platform.ts)
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const app = new App();
    const lib = new TaskLibrary(app, 'task-library');
    const step = new ContainerTask(lib, 'e2e-items-step', { image: 'ghcr.io/example/tools:2.1.0', resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(128) } } });
    const wf = new Workflow(app, NAME, { timeout: Duration.hours(1) });
    wf.addStep('make-items', step);
    const events = new PlatformEvents(app, 'events', { workflows: [wf] });
    events.addCallback('notify-items', {
      workflow: wf,
      when: ['successful'],
      type: 'perFeature',
      featureFilter: "@.properties.'eo:cloud_cover' < 50",
      parameters: { run: CallbackParameter.run('name') },
      target: CallbackTarget.http({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/items`, auth: { secret: SECRET } }),
    });
    const docs = [...synthesize(app).values()].flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as Doc)).filter(Boolean);
    manifests = {
      docs,
      find(kind, name) {
        const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
        if (!doc) throw new Error(`no ${kind}/${name}`);
        return doc;
      },
    };
    platform = await startPlatform(manifests);
    (platform.cluster.secrets as Record<string, Record<string, string>>)[SECRET.name] = { [SECRET.key]: 'Bearer items-secret' };
    dir = mkdtempSync(join(tmpdir(), 'swoop-per-feature-'));
  });
  afterAll(async () => {
    await platform?.stop();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The env Argo gives the script container of `templateName` for a Workflow the sensor created. */
  function scriptEnv(workflow: Doc, templateName: string): Record<string, string> {
    const wt = manifests.find('WorkflowTemplate', workflow.spec.workflowTemplateRef.name);
    const args = Object.fromEntries((workflow.spec.arguments.parameters as Doc[]).map((p) => [p.name, String(p.value)]));
    const params = resolveParameters(wt, args, platform.cluster);
    const scope = globalVariables(wt, { name: workflow.metadata.name, uid: 'handler-uid', creationTimestamp: '2026-03-02T10:30:00Z', arguments: args }, params);
    const template = (wt.spec.templates as Doc[]).find((t) => t.name === templateName)!;
    const env: Record<string, string> = {};
    for (const e of template.script.env as Doc[]) {
      if (e.value !== undefined) env[e.name] = renderTags(String(e.value), scope, `env ${e.name}`);
      else env[e.name] = platform.cluster.secrets[e.valueFrom.secretKeyRef.name]![e.valueFrom.secretKeyRef.key]!;
    }
    return env;
  }

  const runScript = (env: Record<string, string>) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [PER_FEATURE_SCRIPT_FILE], { env: { PATH: process.env.PATH, ...env, SWOOP_ATTEMPTS: '3', SWOOP_BACKOFF_MS: '20' } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });

  it('posts once per selected feature, keyed <run uid>/<callback>/<feature id>, retried; a repeated run.finished starts nothing new', async () => {
    const input = JSON.stringify(cirrusPayload([{ workflow: NAME }], { id: cirrusId(NAME, 'ITEMS') }));
    const run = await platform.start(NAME, { input, 'payload-id': cirrusId(NAME, 'ITEMS') });
    expect((await run.running()).succeeded).toBe(true);
    expect((await run.completed('Succeeded', workflowFailures([]))).succeeded).toBe(true);
    const finished = await platform.lifecycle.waitFor((r) => r.body.run === run.run.name);
    expect(finished.body.output).toMatch(/^s3:\/\//);

    const sim = new Simulator(manifests.docs);
    const fire = () => sim.deliver(finished.event).firings.find((f) => f.trigger === 'callback-notify-items')!;
    const created = await platform.deliverSubmit(fire());
    expect([created.status, created.body.created, created.body.claimed]).toEqual([201, true, null]); // a platform template: no claim
    const first = { resource: platform.kube.workflows.get(`swoop/${created.body.run}`)! };
    expect(first.resource.spec.workflowTemplateRef.name).toBe('swoop-callback-notify-items');
    expect(first.resource.spec.arguments.parameters).toEqual([
      { name: 'output', value: finished.body.output }, { name: 'uid', value: run.run.uid }, { name: 'p0', value: run.run.name },
    ]);
    // the outbox's at-least-once redelivery of the same run.finished: the same name, AlreadyExists, nothing new
    const again = await platform.deliverSubmit(fire());
    expect([again.status, again.body.created, again.body.run]).toEqual([200, false, created.body.run]);

    // The run's output payload, as Argo downloads it from S3 into the script's file.
    const features = [
      { type: 'Feature', id: 'A', properties: { 'eo:cloud_cover': 10 } },
      { type: 'Feature', id: 'B', properties: { 'eo:cloud_cover': 90 } },
      { type: 'Feature', id: 'C', properties: { 'eo:cloud_cover': 49.5 } },
      { type: 'Feature', id: 'D', properties: {} },
    ];
    const file = join(dir, 'output.json');
    writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features, process: [] }));
    const wt = manifests.find('WorkflowTemplate', 'swoop-callback-notify-items');
    const fromS3 = (wt.spec.templates as Doc[]).find((t) => t.name === 'main')!.dag.tasks.find((t: Doc) => t.name === 'from-s3');
    expect(fromS3.when).toBe("{{=workflow.parameters.output startsWith 's3://'}}");
    const env = { ...scriptEnv(first.resource, 'deliver-from-s3'), SWOOP_PAYLOAD_FILE: file };

    failing.set('A', 1); // one refused attempt: retried by the script
    failing.set('C', 99); // refused on every attempt: the script fails, so Argo retries the step
    const firstPod = await runScript(env);
    expect(firstPod.code).toBe(1);
    expect(firstPod.stderr).toMatch(/feature C: POST http:\/\/127\.0\.0\.1:\d+\/items failed 3 times, last: answered 503/);
    expect(deliveries.map((d) => d.key)).toEqual([`${run.run.uid}/notify-items/A`]);

    failing.set('C', 0);
    const retriedPod = await runScript(env); // Argo's retry of the step
    expect(retriedPod.code).toBe(0);
    expect(retriedPod.stdout).toBe('delivered 2 of 2 selected features\n');
    const perKey = new Map<string, number>();
    for (const d of deliveries) perKey.set(d.key, (perKey.get(d.key) ?? 0) + 1);
    // A again under the same key (the receiver drops it), C once; B and D are filtered out
    expect([...perKey.entries()]).toEqual([[`${run.run.uid}/notify-items/A`, 2], [`${run.run.uid}/notify-items/C`, 1]]);
    for (const d of deliveries) {
      expect(d.auth).toBe('Bearer items-secret');
      expect(d.body).toEqual({ feature: features.find((f) => f.id === d.key.split('/').pop()), run: run.run.name });
    }
  });

  it.skipIf(!HAVE_REFERENCE)('the handler template and the sensor pass the upstream schemas and the offline lint', () => {
    const wt = manifests.find('WorkflowTemplate', 'swoop-callback-notify-items');
    expect(validateArgoDocument(wt)).toEqual([]);
    expect(validateArgoDocument(manifests.find('Sensor', 'swoop-callbacks'))).toEqual([]);
    expect(lintObjects(manifests.docs, { validate: validateArgoDocument })).toEqual([]);
    // no user code: the platform's pinned Node image runs the platform's script
    const script = (wt.spec.templates as Doc[]).find((t) => t.name === 'deliver-from-s3')!.script;
    expect(script.image).toMatch(/^node:\d+\.\d+\.\d+-slim$/);
  });

  it('applies the filter in the jsonpath-ng dialect synthesis accepts: &, quoted and bracket steps, =~, int() of an integer literal', async () => {
    const features = [
      { id: 'a', collection: 'sentinel-2-l2a', properties: { 'eo:cloud_cover': 9.9, platform: 'sentinel-2b' } },
      { id: 'b', collection: 'sentinel-2-l2a', properties: { 'eo:cloud_cover': '7', platform: 'sentinel-2a' } },
      { id: 'c', collection: 'landsat-c2-l2', properties: { 'eo:cloud_cover': 3 } },
      { id: 'd', collection: 'sentinel-2-l2a', properties: { 'eo:cloud_cover': 'cloudy' } },
    ];
    const selected = async (filter: string) => {
      const before = deliveries.length;
      const env = scriptEnv({ metadata: { name: 'x' }, spec: { workflowTemplateRef: { name: 'swoop-callback-notify-items' }, arguments: { parameters: [{ name: 'output', value: JSON.stringify({ features }) }, { name: 'uid', value: 'u-filter' }, { name: 'p0', value: 'r' }] } } }, 'deliver-inline');
      const res = await runScript({ ...env, SWOOP_FEATURE_FILTER: filter });
      expect(res.stderr).toBe('');
      return deliveries.slice(before).map((d) => d.body.feature.id);
    };
    expect(await selected("@.properties.'eo:cloud_cover' < 10 & @.collection == 'sentinel-2-l2a'")).toEqual(['a', 'b']);
    expect(await selected("@.properties['platform'] =~ '2b$'")).toEqual(['a']);
    expect(await selected('@.properties.platform')).toEqual(['a', 'b']);
    expect(await selected("(@.collection = 'landsat-c2-l2')")).toEqual(['c']);
  });

  it('reads an inline output payload without S3, and fails clearly on a payload without features', async () => {
    const wt = manifests.find('WorkflowTemplate', 'swoop-callback-notify-items');
    const inline = (wt.spec.templates as Doc[]).find((t) => t.name === 'main')!.dag.tasks.find((t: Doc) => t.name === 'inline');
    expect(inline.when).toBe("{{=!(workflow.parameters.output startsWith 's3://')}}");
    const resource = (output: string) => ({ metadata: { name: 'swoop-callback-notify-items-x' }, spec: { workflowTemplateRef: { name: 'swoop-callback-notify-items' }, arguments: { parameters: [{ name: 'output', value: output }, { name: 'uid', value: 'u-inline' }, { name: 'p0', value: 'r-inline' }] } } });
    const before = deliveries.length;
    const ok = await runScript(scriptEnv(resource(JSON.stringify({ type: 'FeatureCollection', features: [{ id: 'Z', properties: { 'eo:cloud_cover': 1 } }] })), 'deliver-inline'));
    expect(ok.code).toBe(0);
    expect(deliveries.slice(before).map((d) => d.key)).toEqual(['u-inline/notify-items/Z']);
    const bad = await runScript(scriptEnv(resource('{"type": "Feature"}'), 'deliver-inline'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('per-feature callback failed: the output payload at {"type": "Feature"} has no features list\n');
  });
});
