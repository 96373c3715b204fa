import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cirrusId, cirrusPayload } from '../e2e/support/fixtures';
import { BACKEND } from '../e2e/support/platform';
import { loadDeployment } from '../../cli/config';
import { StateClient } from '../../cli/state-client';
import { type CliPlatform, closedPort, deliveries, startCliPlatform, swoop } from './support';

const WORKFLOW = 'e2e-mask';
const payload = (item: string, extra: Record<string, unknown> = {}) => ({ ...cirrusPayload([{ workflow: WORKFLOW }, { workflow: 'e2e-publish' }], { item }), ...extra });

describe(`swoop process, payload, runs against the real state service (${BACKEND})`, () => {
  let p: CliPlatform;
  const cli = (argv: string[], o: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) => swoop(argv, { cwd: p.dir, env: { ...p.env, ...o.env }, stdin: o.stdin });
  const file = (name: string, value: unknown) => {
    const path = join(p.dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return name;
  };
  beforeAll(async () => {
    p = await startCliPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('process sends the payload to the webhook and prints the payload id and the run name the sensor gives it', async () => {
    const before = p.ingress.accepted.length;
    const r = await cli(['process', file('one.json', payload('S2B_PROCESS')), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const [received] = (await deliveries(p.ingress, before + 1)).slice(before);
    // What the platform makes of the request it received (the ingress sensor on those bytes):
    const [created, ...more] = p.submitted(received!.event);
    expect(more).toEqual([]);
    expect(out.payloads).toEqual([{
      source: 'one.json', via: 'webhook', sent: true,
      runs: [{ workflow: WORKFLOW, run: created!.name, payloadId: cirrusId(WORKFLOW, 'S2B_PROCESS') }],
    }]);
    expect(received!.body).toEqual(payload('S2B_PROCESS'));
    // The run's claim records the payload under the id the CLI printed.
    await p.runWorkflow(created!, 'claim-only');
    expect((await p.platform.read(`/runs/${created!.name}`)).payloadId).toBe(out.payloads[0].runs[0].payloadId);
  });

  it('prints the same in text, and a payload that carries its own id keeps it', async () => {
    const id = 'my-own/payload-id';
    const r = await cli(['process', file('own-id.json', payload('S2B_OWN', { id }))]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^own-id.json: sent via webhook\\n  payload ${id}\\n  run     e2e-mask-[0-9a-f]{16} \\(workflow e2e-mask\\)\\n$`));
  });

  it('an NDJSON stream from stdin is one delivery per line, and the same content again is the same run', async () => {
    const before = p.ingress.accepted.length;
    const lines = [payload('S2B_NDJSON_1'), payload('S2B_NDJSON_2'), payload('S2B_NDJSON_1')].map((x) => JSON.stringify(x)).join('\n');
    const r = await cli(['process', '-', '--json'], { stdin: `${lines}\n` });
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout).payloads.map((x: any) => [x.source, x.runs[0].run]);
    expect(runs.map((x: string[]) => x[0])).toEqual(['stdin:1', 'stdin:2', 'stdin:3']);
    const received = (await deliveries(p.ingress, before + 3)).slice(before);
    expect(received.map((d) => p.submitted(d.event)[0]?.name)).toEqual(runs.map((x: string[]) => x[1]));
    expect(runs[2][1]).toBe(runs[0][1]); // the webhook's identity is the content
    expect(runs[1][1]).not.toBe(runs[0][1]);
  });

  it('--idempotency-key makes a re-send a new delivery with a new run name', async () => {
    const name = file('again.json', payload('S2B_KEY'));
    const plain = JSON.parse((await cli(['process', name, '--json'])).stdout).payloads[0].runs[0].run;
    const before = p.ingress.accepted.length;
    const keyed = await cli(['process', name, '--idempotency-key', 'retry-1', '--json']);
    const run = JSON.parse(keyed.stdout).payloads[0].runs[0].run;
    expect(run).not.toBe(plain);
    const [received] = (await deliveries(p.ingress, before + 1)).slice(before);
    expect(received!.headers['idempotency-key']).toBe('retry-1');
    expect(p.submitted(received!.event)[0]!.name).toBe(run);
  });

  it.each([
    ['a feature without an id', payload('X', { features: [{ type: 'Feature', collection: 'c' }] }), 'bad.json: features[0].id: must be the item id'],
    ['no process', { type: 'FeatureCollection', features: [{ id: 'a' }] }, 'bad.json: process: is required'],
    ['a process element without a workflow', payload('X', { process: [{ replace: true }] }), 'bad.json: process[0].workflow: must name the workflow'],
    ['replace that is not a boolean', payload('X', { process: [{ workflow: WORKFLOW, replace: 'yes' }] }), 'bad.json: process[0].replace: must be true or false'],
    ['an unknown workflow', payload('X', { process: [{ workflow: 'no-such-workflow' }] }), 'bad.json: would be recorded INVALID: the payload\'s process block names no workflow this platform runs (known: e2e-cogs, e2e-mask, e2e-publish)'],
    ['an https:// reference without process', { url: 'https://example.com/p.json' }, 'bad.json: process: is required beside an https:// url'],
    ['not an object', [1, 2], 'bad.json: (payload): must be a JSON object'],
  ])('refuses %s locally with one line naming the field, sending nothing', async (_what, body, message) => {
    const before = p.ingress.accepted.length;
    const r = await cli(['process', file('bad.json', body)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(`swoop: ${message}`)).toBe(true);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    await new Promise((res) => setTimeout(res, 50));
    expect(p.ingress.accepted.length).toBe(before);
  });

  it('one bad line in an NDJSON stream stops the whole stream before anything is sent', async () => {
    const before = p.ingress.accepted.length;
    const r = await cli(['process', '-'], { stdin: `${JSON.stringify(payload('S2B_OK'))}\n{"type": "FeatureCollection", "features": [], "process": [{"workflow": "e2e-mask"}]}\n` });
    expect([r.code, r.stderr]).toEqual([1, 'swoop: stdin:2: features: must be a non-empty list of STAC items (or send {"url": "s3://..."} instead)\n']);
    const notJson = await cli(['process', '-'], { stdin: `${JSON.stringify(payload('S2B_OK'))}\n{oops\n` });
    expect(notJson.stderr).toMatch(/^swoop: stdin:2: not JSON \(.*\); give one JSON payload, or one per line \(NDJSON\)\n$/);
    expect(p.ingress.accepted.length).toBe(before);
  });

  it('--dry-run checks and predicts without sending', async () => {
    const before = p.ingress.accepted.length;
    const r = await cli(['process', file('dry.json', payload('S2B_DRY')), '--dry-run', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).payloads[0]).toMatchObject({ sent: false, runs: [{ payloadId: cirrusId(WORKFLOW, 'S2B_DRY'), run: expect.stringMatching(/^e2e-mask-[0-9a-f]{16}$/) }] });
    expect(p.ingress.accepted.length).toBe(before);
  });

  it('payload state / payload get / runs list show a failed run and why', async () => {
    const before = p.ingress.accepted.length;
    const sent = JSON.parse((await cli(['process', file('fails.json', payload('S2B_FAILS')), '--json'])).stdout).payloads[0].runs[0];
    const [received] = (await deliveries(p.ingress, before + 1)).slice(before);
    await p.runWorkflow(p.submitted(received!.event)[0]!, 'Failed', JSON.stringify([{ displayName: 'cloud-mask', message: 'OOMKilled (exit code 137)', templateName: 'main', phase: 'Failed' }]));
    const state = await cli(['payload', 'state', sent.payloadId, '--json']);
    expect(state.code).toBe(0);
    expect(JSON.parse(state.stdout)).toMatchObject({ payloadId: sent.payloadId, state: 'FAILED', latestRun: sent.run, error: expect.stringContaining('OOMKilled') });
    const text = await cli(['payload', 'state', sent.payloadId]);
    expect(text.stdout).toContain(`${sent.payloadId}: FAILED (run ${sent.run})\n`);
    expect(text.stdout).toMatch(/error {2}.*OOMKilled/);
    const get = JSON.parse((await cli(['payload', 'get', sent.payloadId, '--json'])).stdout);
    expect(get).toMatchObject({ payloadId: sent.payloadId, workflow: WORKFLOW, itemIds: ['S2B_FAILS'], runs: [{ run: sent.run, state: 'FAILED' }] });
    expect(get.history.map((h: any) => h.state)).toEqual(expect.arrayContaining(['QUEUED', 'RUNNING', 'FAILED']));
    const list = await cli(['runs', 'list', '--workflow', WORKFLOW, '--state', 'failed', '--since', '1h', '--json']);
    expect(JSON.parse(list.stdout).runs.map((r: any) => r.run)).toContain(sent.run);
    expect(JSON.parse(list.stdout).runs.every((r: any) => r.state === 'FAILED' && r.workflow === WORKFLOW)).toBe(true);
    const table = await cli(['runs', 'list', '--state', 'FAILED']);
    expect(table.stdout.split('\n')[0]).toMatch(/^RUN +WORKFLOW +STATE +CLAIM +CREATED +FINISHED +ERROR$/);
    expect(table.stdout).toMatch(new RegExp(`^${sent.run} +${WORKFLOW} +FAILED +claimed .*OOMKilled`, 'm'));
    const none = await cli(['runs', 'list', '--state', 'FAILED', '--until', '2001-01-01', '--json']);
    expect(JSON.parse(none.stdout)).toEqual({ runs: [] });
  });

  it('runs list --limit stops at the limit; the client follows `next` across pages', async () => {
    const all = JSON.parse((await cli(['runs', 'list', '--json', '--limit', '1000'])).stdout).runs;
    expect(all.length).toBeGreaterThanOrEqual(2);
    const one = JSON.parse((await cli(['runs', 'list', '--json', '--limit', '1'])).stdout).runs;
    expect(one.map((r: any) => r.run)).toEqual(all.slice(0, 1).map((r: any) => r.run));
    const deployment = loadDeployment({ env: p.env, cwd: p.dir });
    const paged = [];
    for await (const r of new StateClient(deployment).allRuns({}, Infinity, 1)) paged.push(r.run);
    expect(paged).toEqual(all.map((r: any) => r.run));
  });

  it.each([
    [['payload', 'get', 'no/such/payload'], 'swoop: payload "no/such/payload": unknown to the state service of deployment "test"; give a cirrus payload id or its hash (`swoop runs list` shows them)'],
    [['run', 'get', 'no-such-run'], 'swoop: run "no-such-run": unknown to the state service of deployment "test"; `swoop runs list` shows run names'],
    [['runs', 'list', '--state', 'BROKEN'], 'swoop: --state "BROKEN": not a state; give one or more (comma-separated) of PENDING, QUEUED, RUNNING, SUCCESSFUL, FAILED, CANCELED, TIMED_OUT, INVALID'],
    [['runs', 'list', '--since', 'last week'], 'swoop: --since "last week": is not an RFC 3339 timestamp such as 2024-05-01T12:00:00Z; give a duration ago (30m, 24h, 7d), today, yesterday, a date (2024-05-01) or an RFC 3339 time'],
    [['-d', 'prod', 'runs', 'list'], 'swoop: deployment "prod": not in '],
  ])('%j fails with one line naming what to fix', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(1);
    expect(r.stderr.startsWith(message)).toBe(true);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a refused token, an unreachable service and a missing token are one line each, naming what to set', async () => {
    const refused = await cli(['runs', 'list'], { env: { TEST_SWOOP_READ_TOKEN: 'wrong' } });
    expect([refused.code, refused.stderr]).toEqual([1, `swoop: state service at ${p.platform.stateUrl} refused the token (401); check state.readToken of deployment "test" or SWOOP_STATE_READ_TOKEN\n`]);
    const port = await closedPort();
    const down = await cli(['runs', 'list'], { env: { SWOOP_STATE_URL: `http://127.0.0.1:${port}` } });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^swoop: state service at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\); check its URL and that it is reachable \(port-forward\?\)\n$/);
    const missing = await cli(['runs', 'list'], { env: { TEST_SWOOP_READ_TOKEN: '' } });
    expect(missing.stderr).toMatch(/^swoop: deployment "test": state.readToken is not set; env TEST_SWOOP_READ_TOKEN is not set; set deployments.test.state.readToken in .*swoop.config.yaml \(\{env: VARIABLE\}\), or SWOOP_STATE_READ_TOKEN\n$/);
    const webhook = await cli(['process', file('w.json', payload('S2B_W'))], { env: { TEST_SWOOP_INGRESS_TOKEN: 'wrong' } });
    expect(webhook.stderr).toBe(`swoop: ingress webhook at ${new URL(p.ingress.endpointUrl).origin} refused the token (401); check ingress.webhook.token of deployment "test" or SWOOP_WEBHOOK_TOKEN\n`);
  });

  it('no token reaches the output, whatever fails', async () => {
    const secrets = { TEST_SWOOP_READ_TOKEN: 'read-7c1e9a-secret', TEST_SWOOP_INGRESS_TOKEN: 'ingress-4b2d8f-secret', SWOOP_ARGO_TOKEN: 'argo-9e3a1c-secret', SWOOP_ARGO_URL: p.platform.stateUrl };
    const outputs = [];
    for (const argv of [['runs', 'list'], ['payload', 'get', 'x'], ['process', file('s.json', payload('S2B_SECRET'))], ['logs', 'some-run'], ['deployments'], ['deployments', '--json'], ['run', 'get', 'x', '--debug']]) {
      const r = await cli(argv, { env: secrets });
      outputs.push(r.stdout, r.stderr);
    }
    expect(outputs.join('\n')).toMatch(/refused the token/);
    for (const secret of Object.values(secrets).slice(0, 3)) expect(outputs.join('\n')).not.toContain(secret);
  });

  it('deployments lists where every token comes from and never prints one; env vars override the file', async () => {
    const r = await cli(['deployments', '--json'], { env: { SWOOP_ARGO_URL: 'https://argo.example:2746', SWOOP_ARGO_TOKEN: 'argo-secret-value' } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).deployments).toEqual([{
      name: 'test', default: true,
      state: { url: p.platform.stateUrl, readToken: 'env TEST_SWOOP_READ_TOKEN' },
      ingress: { via: 'webhook', webhook: { url: p.ingress.endpointUrl, token: 'env TEST_SWOOP_INGRESS_TOKEN' }, sqs: { queueUrl: null, region: null } },
      argo: { url: 'https://argo.example:2746', token: 'env SWOOP_ARGO_TOKEN', namespace: 'swoop' },
      manifests: join(p.dir, 'manifests'),
    }]);
    const text = await cli(['deployments'], { env: { SWOOP_ARGO_TOKEN: 'argo-secret-value' } });
    for (const out of [r.stdout, text.stdout]) {
      for (const secret of ['argo-secret-value', p.ingressToken, p.env.TEST_SWOOP_READ_TOKEN!]) expect(out).not.toContain(secret);
    }
    expect(text.stdout).toContain('test (default)');
  });
});
