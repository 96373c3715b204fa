import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../cli/io';
import { cirrusId, cirrusPayload } from '../e2e/support/fixtures';
import { BACKEND } from '../e2e/support/platform';
import { type CliPlatform, deliveries, startCliPlatform, swoop } from './support';

const WORKFLOW = 'e2e-mask';
const payload = (item: string) => cirrusPayload([{ workflow: WORKFLOW }], { item });

describe(`swoop run: process, then follow the run to its final state (${BACKEND})`, () => {
  let p: CliPlatform;
  let outputs: Server;
  let outputsUrl = '';
  const s3Gets: { path: string; signed: boolean }[] = [];
  const cli = (argv: string[], env: NodeJS.ProcessEnv = {}) => swoop(argv, { cwd: p.dir, env: { ...p.env, ...env } });
  const file = (name: string, value: unknown) => {
    writeFileSync(join(p.dir, name), JSON.stringify(value));
    return name;
  };
  beforeAll(async () => {
    p = await startCliPlatform();
    // A loopback S3 (path-style GetObject): any key answers a payload naming it; requests must be SigV4-signed.
    outputs = createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
      s3Gets.push({ path, signed: /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-west-2\/s3\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/.test(req.headers.authorization ?? '') });
      if (req.method !== 'GET') res.writeHead(405).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'FeatureCollection', features: [], served: path }));
    });
    await new Promise<void>((r) => outputs.listen(0, '127.0.0.1', r));
    outputsUrl = `http://127.0.0.1:${(outputs.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => outputs?.close(r));
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
    vi.stubEnv('AWS_ENDPOINT_URL_S3', outputsUrl);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_REGION', 'us-west-2');
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
      expect(s3Gets).toContainEqual({ path: `/${bucket}/${key}`, signed: true });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).runs[0].outputPayload).toEqual({ type: 'FeatureCollection', features: [], served: `/${bucket}/${key}` });
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
