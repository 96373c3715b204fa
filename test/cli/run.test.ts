import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../cli/io';
import { cirrusId, cirrusPayload } from '../e2e/support/fixtures';
import { BACKEND } from '../e2e/support/platform';
import { type CliPlatform, deliveries, startCliPlatform, swoop } from './support';
import { LoopbackS3 } from '../support/loopback-s3';

const WORKFLOW = 'e2e-mask';
const payload = (item: string) => cirrusPayload([{ workflow: WORKFLOW }], { item });

describe(`swoop run: process, then follow the run to its final state (${BACKEND})`, () => {
  let p: CliPlatform;
  // A loopback S3: any key answers a payload naming it; requests must be SigV4-signed.
  const outputs = new LoopbackS3((path) => JSON.stringify({ type: 'FeatureCollection', features: [], served: path }));
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
