import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rerunPayload } from '../../cli/commands/rerun';
import { EXIT } from '../../cli/io';
import { cirrusId, cirrusPayload } from '../e2e/support/fixtures';
import { BACKEND } from '../e2e/support/platform';
import { type CliPlatform, deliveries, startCliPlatform, swoop } from './support';

const MASK = 'e2e-mask';
const COGS = 'e2e-cogs';
const FAILURES = JSON.stringify([{ displayName: 'cloud-mask', message: 'OOMKilled (exit code 137)', templateName: 'main', phase: 'Failed' }]);

describe(`swoop rerun: bulk re-run of failed payloads, resumable (${BACKEND})`, () => {
  let p: CliPlatform;
  const cli = (argv: string[], o: { signal?: AbortSignal } = {}) => swoop(argv, { cwd: p.dir, env: p.env, signal: o.signal });
  const payload = (item: string, workflow = MASK) => cirrusPayload([{ workflow, tasks: { 'cloud-mask': { model: 'a' } } }, { workflow: 'e2e-publish' }], { item });

  /** Sends a payload through the CLI and lets its run end with `phase`, as the cluster would. */
  async function runToEnd(item: string, phase: 'Succeeded' | 'Failed', o: { workflow?: string; key?: string } = {}): Promise<{ payloadId: string; run: string }> {
    writeFileSync(join(p.dir, `${item}.json`), JSON.stringify(payload(item, o.workflow)));
    const before = p.ingress.accepted.length;
    const r = await cli(['process', `${item}.json`, '--json', ...(o.key ? ['--idempotency-key', o.key] : [])]);
    if (r.code !== 0) throw new Error(r.stderr);
    const [received] = (await deliveries(p.ingress, before + 1)).slice(before);
    const created = p.submitted(received!.event)[0]!;
    await p.runWorkflow(created, phase, phase === 'Failed' ? FAILURES : '');
    return { payloadId: cirrusId(o.workflow ?? MASK, item), run: created.name };
  }

  const items = ['S2B_R1', 'S2B_R2', 'S2B_R3', 'S2B_R4'];
  beforeAll(async () => {
    p = await startCliPlatform();
    for (const item of items) await runToEnd(item, 'Failed');
    await runToEnd('S2B_OTHER_WF', 'Failed', { workflow: COGS });
    // failed, then succeeded on a later delivery: never re-run
    await runToEnd('S2B_FIXED', 'Failed');
    await runToEnd('S2B_FIXED', 'Succeeded', { key: 'fixed-by-hand' });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('rebuilds the payload a failed run received, with replace false for its workflow', () => {
    const original = payload('S2B_X');
    expect(rerunPayload(JSON.stringify({ ...original, process: [{ workflow: MASK, replace: true }, { workflow: 'e2e-publish' }] }), MASK))
      .toEqual({ ...original, process: [{ workflow: MASK, replace: false }, { workflow: 'e2e-publish' }] });
    expect(rerunPayload(JSON.stringify({ url: 's3://b/k.json', process: [[{ workflow: 'a' }, { workflow: MASK, tasks: {} }], { workflow: 'c' }] }), MASK))
      .toEqual({ url: 's3://b/k.json', process: [{ workflow: MASK, tasks: {}, replace: false }, { workflow: 'c' }] });
    expect(rerunPayload('s3://b/out/output.json', MASK)).toEqual({ url: 's3://b/out/output.json', process: [{ workflow: MASK, replace: false }] });
    expect(rerunPayload(JSON.stringify({ url: 's3://b/o.json', chain_filter: '@.x < 1' }), MASK)).toEqual({ url: 's3://b/o.json', chain_filter: '@.x < 1', process: [{ workflow: MASK, replace: false }] });
    expect(rerunPayload('', MASK)).toBeUndefined();
  });

  it('--dry-run lists what would be re-run and sends nothing', async () => {
    const before = p.ingress.accepted.length;
    const r = await cli(['rerun', '--workflow', MASK, '--since', '1h', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatchObject({ sent: 4, skippedSucceeded: 1, failed: 0 });
    expect(out.payloads.filter((e: any) => e.outcome === 'sent').map((e: any) => e.payloadId).sort()).toEqual(items.map((i) => cirrusId(MASK, i)).sort());
    expect(out.payloads.find((e: any) => e.outcome === 'skipped-succeeded').payloadId).toBe(cirrusId(MASK, 'S2B_FIXED'));
    expect(out.checkpoint).toBeNull();
    await new Promise((res) => setTimeout(res, 50));
    expect(p.ingress.accepted.length).toBe(before);
    expect(readdirSync(p.dir).filter((f) => f.startsWith('swoop-rerun-'))).toEqual([]);
  });

  it('refuses to re-run states that are not failures', async () => {
    const r = await cli(['rerun', '--state', 'SUCCESSFUL']);
    expect([r.code, r.stderr]).toEqual([1, 'swoop: --state SUCCESSFUL: only FAILED, TIMED_OUT, CANCELED runs are re-run (a payload that succeeded or is running is never sent again)\n']);
  });

  it('interrupted, it resumes from its checkpoint: no payload is sent twice, and one that succeeded meanwhile is skipped', async () => {
    const argv = ['rerun', '--workflow', MASK, '--state', 'FAILED', '--since', '1h', '--rate', '5', '--json'];
    const start = p.ingress.accepted.length;
    const abort = new AbortController();
    const first = cli(argv, { signal: abort.signal });
    await deliveries(p.ingress, start + 2);
    abort.abort(); // Ctrl-C after two sends
    const r1 = await first;
    expect(r1.code).toBe(EXIT.interrupted);
    const out1 = JSON.parse(r1.stdout);
    expect(out1).toMatchObject({ interrupted: true, summary: { sent: 2, skippedSucceeded: 1, failed: 0 } });
    expect(existsSync(out1.checkpoint)).toBe(true);
    const sentFirst: string[] = out1.payloads.filter((e: any) => e.outcome === 'sent').map((e: any) => e.payloadId);
    const checkpointed = readFileSync(out1.checkpoint, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l));
    expect(checkpointed.filter((e: any) => e.outcome === 'sent').map((e: any) => e.payloadId)).toEqual(sentFirst);

    // Each re-sent payload is claimed again by the run it starts (the FAILED payload re-runs).
    const firstDeliveries = p.ingress.accepted.slice(start);
    expect(firstDeliveries).toHaveLength(2);
    for (const d of firstDeliveries) {
      expect(d.headers['idempotency-key']).toMatch(/^rerun\/e2e-mask-[0-9a-f]{16}$/);
      expect(d.body.process[0]).toEqual({ workflow: MASK, tasks: { 'cloud-mask': { model: 'a' } }, replace: false });
      await p.runWorkflow(p.submitted(d.event)[0]!, 'claim-only');
    }
    for (const id of sentFirst) expect((await p.platform.read(`/payloads/${id}`)).state).toBe('QUEUED');

    // Meanwhile one of the two left succeeds through another delivery.
    const left = items.map((i) => cirrusId(MASK, i)).filter((id) => !sentFirst.includes(id));
    expect(left).toHaveLength(2);
    const fixedItem = left[0]!.split('/').pop()!;
    await runToEnd(fixedItem, 'Succeeded', { key: 'fixed-meanwhile' });

    const resumeStart = p.ingress.accepted.length;
    const r2 = await cli(argv);
    expect(r2.code).toBe(0);
    const out2 = JSON.parse(r2.stdout);
    expect(out2.summary).toMatchObject({ sent: 1, skippedSucceeded: 1, alreadyHandled: 3, failed: 0, remaining: 0 });
    expect(out2.payloads.map((e: any) => [e.payloadId, e.outcome]).sort()).toEqual([[left[0], 'skipped-succeeded'], [left[1], 'sent']].sort());
    const resumed = p.ingress.accepted.slice(resumeStart);
    expect(resumed.map((d) => d.body.features[0].id)).toEqual([left[1]!.split('/').pop()]);
    // Done: the checkpoint is gone, so the same command later is a new re-run.
    expect(out2.checkpoint).toBeNull();
    expect(existsSync(out1.checkpoint)).toBe(false);
    // Over both invocations, each failed payload was sent once, the others never.
    const all = p.ingress.accepted.slice(start).filter((d) => String(d.headers['idempotency-key'] ?? '').startsWith('rerun/')).map((d) => d.body.features[0].id);
    expect(all.sort()).toEqual(items.filter((i) => i !== fixedItem).sort());
  });

  it('a payload running right now is skipped, and the text summary says what happened', async () => {
    const { payloadId } = await runToEnd('S2B_BUSY', 'Failed');
    // re-sent by hand and claimed, not finished: active
    writeFileSync(join(p.dir, 'busy.json'), JSON.stringify(payload('S2B_BUSY')));
    const before = p.ingress.accepted.length;
    await cli(['process', 'busy.json', '--idempotency-key', 'busy-2']);
    const [received] = (await deliveries(p.ingress, before + 1)).slice(before);
    await p.runWorkflow(p.submitted(received!.event)[0]!, 'claim-only');
    const r = await cli(['rerun', '--workflow', MASK, '--since', '1h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${payloadId}: skipped-active: run e2e-mask-`);
    expect(r.stdout).toMatch(/^sent \d+; skipped \d+ succeeded since, \d+ running, 0 other; failed 0; 0 handled by an earlier invocation\n/m);
    expect(r.stderr).toMatch(/^starting: state FAILED, workflow e2e-mask, since .*, until .*; \d+ payload\(s\) to handle \(checkpoint .*swoop-rerun-test-[0-9a-f]{12}\.ndjson\)\n$/);
  });
});

describe(`swoop rerun --limit and --rate (${BACKEND})`, () => {
  let p: CliPlatform;
  const cli = (argv: string[]) => swoop(argv, { cwd: p.dir, env: p.env });
  beforeAll(async () => {
    p = await startCliPlatform();
    for (const item of ['S2B_L1', 'S2B_L2', 'S2B_L3']) {
      writeFileSync(join(p.dir, `${item}.json`), JSON.stringify(cirrusPayload([{ workflow: MASK }], { item })));
      const before = p.ingress.accepted.length;
      const r = await cli(['process', `${item}.json`]);
      if (r.code !== 0) throw new Error(r.stderr);
      const [received] = (await deliveries(p.ingress, before + 1)).slice(before);
      await p.runWorkflow(p.submitted(received!.event)[0]!, 'Failed', FAILURES);
    }
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('--limit handles that many payloads per invocation and keeps the checkpoint for the rest; --rate spaces the sends', async () => {
    const argv = ['rerun', '--since', '1h', '--limit', '2', '--rate', '4', '--json'];
    const start = p.ingress.accepted.length;
    const first = JSON.parse((await cli(argv)).stdout);
    const sendTimes = first.payloads.filter((e: any) => e.outcome === 'sent').map((e: any) => Date.parse(e.at));
    expect(first.summary).toMatchObject({ sent: 2, beyondLimit: 1, remaining: 0 });
    expect(first.checkpoint).not.toBeNull();
    // 4 a second: at least 250 ms from one send's end to the next's (a lower bound, so load cannot break it)
    expect(sendTimes).toHaveLength(2);
    expect(sendTimes[1]! - sendTimes[0]!).toBeGreaterThanOrEqual(249);
    let drawn = '';
    const terminal = { isTTY: true, columns: 120, write: (t: string) => ((drawn += t), true) };
    const text = await swoop(argv.filter((a) => a !== '--json'), { cwd: p.dir, env: p.env, progress: terminal });
    expect(text.code).toBe(0);
    expect(drawn).toMatch(/rerun \[[^\]]*\] 1\/1 payloads \| 1 sent, 0 skipped, 0 failed/);
    expect(text.stdout).toBe('sent 1; skipped 0 succeeded since, 0 running, 0 other; failed 0; 2 handled by an earlier invocation\n');
    expect(existsSync(first.checkpoint)).toBe(false); // everything handled: the checkpoint is gone
    const sent = p.ingress.accepted.slice(start).map((d) => d.body.features[0].id).sort();
    expect(sent).toEqual(['S2B_L1', 'S2B_L2', 'S2B_L3']);
  });
});
