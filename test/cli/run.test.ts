import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../cli/io';
import { DISPATCH_SCRIPT_FILE } from '../../constructs/events';
import { cirrusId, cirrusPayload } from '../e2e/support/fixtures';
import { BACKEND } from '../e2e/support/platform';
import { type CliPlatform, deliveries, startCliPlatform, swoop } from './support';
import { LoopbackS3 } from '../support/loopback-s3';

const WORKFLOW = 'e2e-mask';
const payload = (item: string) => cirrusPayload([{ workflow: WORKFLOW }], { item });

describe(`swoop run: process, then follow the run to its final state (${BACKEND})`, () => {
  let p: CliPlatform;
  /** objects the loopback S3 holds, by path (`/bucket/key`); any other key answers a payload naming it */
  const objects = new Map<string, string>();
  // A loopback S3: requests must be SigV4-signed.
  const outputs = new LoopbackS3((path) => objects.get(path) ?? JSON.stringify({ type: 'FeatureCollection', features: [], served: path }));
  const cli = (argv: string[], env: NodeJS.ProcessEnv = {}) => swoop(argv, { cwd: p.dir, env: { ...p.env, ...env } });
  const file = (name: string, value: unknown) => {
    writeFileSync(join(p.dir, name), JSON.stringify(value));
    return name;
  };
  beforeAll(async () => {
    p = await startCliPlatform();
    await outputs.start();
  });
  afterAll(async () => {
    await outputs.stop();
    await p?.stop();
  });

  /** Runs `swoop run` while the platform side drives the Workflow the delivery created, as the cluster would. */
  async function runWith(item: string, phase: 'Succeeded' | 'Failed' | 'none', extra: string[] = [], failures = '') {
    const before = p.ingress.accepted.length;
    const command = cli(['run', file(`${item}.json`, payload(item)), '--interval', '0.05', ...extra]);
    let created: ReturnType<CliPlatform['submitted']>[number] | undefined;
    if (phase !== 'none') {
      const [received] = (await deliveries(p.ingress, before + 1)).slice(before);
      created = p.submitted(received!.event)[0]!;
      await new Promise((r) => setTimeout(r, 200)); // the CLI is polling a run not recorded yet
      await p.runWorkflow(created, phase, failures);
    }
    return { result: await command, created };
  }

  it('exits 0 and prints the output URL when the run succeeds', async () => {
    const { result, created } = await runWith('S2B_RUN_OK', 'Succeeded');
    expect(result.code).toBe(EXIT.ok);
    const run = await p.platform.read(`/runs/${created!.name}`);
    expect(run).toMatchObject({ state: 'SUCCESSFUL', payloadId: cirrusId(WORKFLOW, 'S2B_RUN_OK') });
    expect(run.output).toMatch(/^s3:\/\//);
    expect(result.stdout).toContain(`${created!.name}: SUCCESSFUL\noutput ${run.output}\n`);
    expect(result.stderr).toContain(`${created!.name}: not recorded yet\n`);
    expect(result.stderr).toContain(`${created!.name}: SUCCESSFUL\n`);
  });

  it('exits 3 on FAILED with the error and where to look next; --json says the same', async () => {
    const failures = JSON.stringify([{ displayName: 'cloud-mask', message: 'OOMKilled (exit code 137)', templateName: 'main', phase: 'Failed' }]);
    const { result, created } = await runWith('S2B_RUN_FAIL', 'Failed', ['--json'], failures);
    expect(result.code).toBe(EXIT.FAILED);
    expect(JSON.parse(result.stdout)).toEqual({
      deployment: 'test',
      runs: [{ run: created!.name, workflow: WORKFLOW, payloadId: cirrusId(WORKFLOW, 'S2B_RUN_FAIL'), state: 'FAILED', claim: 'claimed', output: null, error: expect.stringContaining('OOMKilled'), exitCode: 3 }],
    });
  });

  it('exits 8 when the claim is refused: the payload already succeeded and the payload does not ask for replace', async () => {
    // The same content again is the same delivery: the webhook names it as before, the sensor's
    // create hits AlreadyExists, and the CLI follows that (successful) run.
    const same = await cli(['run', 'S2B_RUN_OK.json', '--interval', '0.05']);
    expect(same.code).toBe(EXIT.ok);
    // A new delivery (its own Idempotency-Key) is a new run, whose claim is refused.
    const { result } = await runWith('S2B_RUN_OK', 'Succeeded', ['--idempotency-key', 'again-1'], '');
    expect(result.code).toBe(EXIT.refused);
    expect(result.stdout).toMatch(/claim refused \(.*\): nothing ran; set "replace": true in the payload's process to run it again\n/);
  });

  it('exits 7 when --timeout passes while the run is still not final', async () => {
    const { result } = await runWith('S2B_RUN_SLOW', 'none', ['--timeout', '300ms']);
    expect(result.code).toBe(EXIT.waitTimeout);
    expect(result.stdout).toMatch(/e2e-mask-[0-9a-f]{16}: still not final after --timeout 300ms; follow it with `swoop run get e2e-mask-[0-9a-f]{16}`\n/);
  });

  it('--output prints the output payload itself, read from its s3:// URL with the AWS SDK', async () => {
    for (const [k, v] of Object.entries(outputs.credentials())) vi.stubEnv(k, v);
    try {
      const before = p.ingress.accepted.length;
      const command = cli(['run', file('S2B_RUN_OUT.json', payload('S2B_RUN_OUT')), '--interval', '0.05', '--output', '--json']);
      const [received] = (await deliveries(p.ingress, before + 1)).slice(before);
      const created = p.submitted(received!.event)[0]!;
      await p.runWorkflow(created, 'Succeeded');
      const result = await command;
      const recorded = await p.platform.read(`/runs/${created.name}`);
      // The recorded output is an s3:// URL in the workflow's payload store; the object the fake S3 served for it:
      const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(recorded.output)!;
      expect(outputs.gets).toContainEqual({ path: `/${bucket}/${key}`, signed: true });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).runs[0].outputPayload).toEqual({ type: 'FeatureCollection', features: [], served: `/${bucket}/${key}` });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  /** Runs the real dispatch script as the swoop-dispatch step would for `created` (the ingress's dispatch submission), with `object` as the downloaded payload. */
  function dispatch(created: { name: string; params: Record<string, string> }, object: string): Promise<number> {
    const file = join(mkdtempSync(join(tmpdir(), 'swoop-dispatch-')), 'payload.json');
    writeFileSync(file, object);
    const env = {
      PATH: process.env.PATH, SWOOP_URL: created.params.url!, SWOOP_INPUT: created.params.input!, SWOOP_SOURCE: created.params.source ?? '',
      SWOOP_DELIVERY_ID: created.name, SWOOP_PAYLOAD_FILE: file, SWOOP_WEBHOOK_URL: p.ingress.endpointUrl, SWOOP_WEBHOOK_TOKEN: p.ingressToken,
      SWOOP_STATE_URL: p.platform.stateUrl, SWOOP_STATE_AUTHORIZATION: 'Bearer unused',
    };
    return new Promise((resolve) => execFile(process.execPath, [DISPATCH_SCRIPT_FILE], { env, timeout: 20_000 }, (error) => resolve(error ? 1 : 0)));
  }

  it('follows a bare {"url": "s3://..."} reference: reads the object as its dispatch run will, and follows the run the dispatch starts', async () => {
    for (const [k, v] of Object.entries(outputs.credentials())) vi.stubEnv(k, v);
    try {
      const url = 's3://swoop-payloads/big/S2B_RUN_BARE.json';
      const object = JSON.stringify(payload('S2B_RUN_BARE'));
      objects.set('/swoop-payloads/big/S2B_RUN_BARE.json', object);
      const before = p.ingress.accepted.length;
      const command = cli(['run', file('bare.json', { url }), '--interval', '0.05']);
      // The ingress hands the reference to swoop-dispatch; the real dispatch script then posts {url, process}.
      const [received] = (await deliveries(p.ingress, before + 1)).slice(before);
      const [dispatchRun] = p.submitted(received!.event);
      expect(dispatchRun!.template).toBe('swoop-dispatch');
      expect(await dispatch(dispatchRun!, object)).toBe(0);
      const [forwarded] = (await deliveries(p.ingress, before + 2)).slice(before + 1);
      const created = p.submitted(forwarded!.event)[0]!;
      expect(created.template).toBe(WORKFLOW);
      await p.runWorkflow(created, 'Succeeded');
      const result = await command;
      expect(result.stderr).not.toContain('swoop:');
      expect(result.code).toBe(EXIT.ok);
      // the payload id the claim recorded (a {url, process} payload is identified by its reference)
      const { payloadId } = await p.platform.read(`/runs/${created.name}`);
      expect(result.stdout).toContain(`  then run ${created.name} (workflow ${WORKFLOW}, payload ${payloadId}), started by dispatch run ${dispatchRun!.name}\n`);
      expect(result.stdout).toContain(`${created.name}: SUCCESSFUL\n`);
      expect(outputs.gets).toContainEqual({ path: '/swoop-payloads/big/S2B_RUN_BARE.json', signed: true });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('refuses a bare reference whose object has no process block, sending nothing (dispatch would record it INVALID)', async () => {
    for (const [k, v] of Object.entries(outputs.credentials())) vi.stubEnv(k, v);
    try {
      objects.set('/swoop-payloads/big/no-process.json', JSON.stringify({ type: 'FeatureCollection', features: [] }));
      const before = p.ingress.accepted.length;
      const r = await cli(['run', file('bare-bad.json', { url: 's3://swoop-payloads/big/no-process.json' })]);
      expect([r.code, r.stderr]).toEqual([1, 'swoop: bare-bad.json: the payload at s3://swoop-payloads/big/no-process.json has no process block, so swoop-dispatch would record it INVALID; add "process", nothing sent\n']);
      expect(p.ingress.accepted.length).toBe(before);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('run get shows the run with its events', async () => {
    const { created } = await runWith('S2B_RUN_GET', 'Succeeded');
    const r = await cli(['run', 'get', created!.name, '--json']);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout);
    expect(run).toMatchObject({ run: created!.name, state: 'SUCCESSFUL', claim: 'claimed' });
    expect(run.history.map((h: any) => h.state)).toEqual(['QUEUED', 'RUNNING', 'SUCCESSFUL']);
    const text = await cli(['run', 'get', created!.name]);
    expect(text.stdout).toMatch(/^run {7}e2e-mask-/);
    expect(text.stdout).toMatch(/\nevents\nRECORDED +OCCURRED +STATE +SOURCE +APPLIED +MESSAGE\n/);
  });
});
