/**
 * `swoop run [file|-]`: process, then follow each run it starts until a final state; the exit
 * code says which (docs/cli.md). `swoop run get <run>`: one run with its history of events.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import type { Deployment } from '../config';
import { type Ctx, examples } from '../context';
import { CliError, EXIT, type Io, printJson, sleep, table } from '../io';
import { dispatchedRuns, readBareReference } from '../dispatch';
import { loadSimulator, type PayloadDoc, readPayloads } from '../payloads';
import { isFinal, type RunWithHistory, StateClient } from '../state-client';
import { parsePositive } from '../time';
import { fetchOutput } from '../output';
import { printProcessed, processPayloads, viaOption } from './process';

/** The exit code of a run: 0 when it succeeded, else one per final state, 8 when its claim was refused. */
export function exitCodeOf(run: Pick<RunWithHistory, 'state' | 'claim'>): number {
  if (run.claim === 'refused') return EXIT.refused;
  switch (run.state) {
    case 'SUCCESSFUL': return EXIT.ok;
    case 'FAILED': return EXIT.FAILED;
    case 'TIMED_OUT': return EXIT.TIMED_OUT;
    case 'CANCELED': return EXIT.CANCELED;
    case 'INVALID': return EXIT.INVALID;
    default: return EXIT.error;
  }
}

/** `30s`, `10m`, `2h` (or plain seconds) in milliseconds. */
function parseDuration(option: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  if (!m) throw new CliError(`${option} "${value}": give a duration such as 90s, 10m or 2h`);
  const n = Number(m[1]);
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000);
}

/** Polls the state service until the run is final (or its claim refused); undefined when the deadline passes first. */
export async function followRun(client: StateClient, name: string, o: { intervalMs: number; deadline: number; signal: AbortSignal; onState?: (state: string) => void }): Promise<RunWithHistory | undefined> {
  let last = '';
  for (;;) {
    const run = await client.runIfKnown(name);
    const state = run ? run.state : 'not recorded yet';
    if (state !== last) o.onState?.(state);
    last = state;
    if (run && (isFinal(run.state) || run.claim === 'refused')) return run;
    if (Date.now() + o.intervalMs > o.deadline) return undefined;
    await sleep(o.intervalMs, o.signal);
  }
}

function printRun(io: Io, r: RunWithHistory): void {
  io.stdout([
    `run       ${r.run}`,
    `workflow  ${r.workflow}`,
    `payload   ${r.payloadId ?? '-'}`,
    `state     ${r.state}${r.claim === 'refused' ? ` (claim refused: ${r.claimReason ?? ''})` : ''}`,
    `attempt   ${r.attempt}`,
    `parent    ${r.parentRun ?? '-'}`,
    `created   ${r.createdAt}`,
    `started   ${r.startedAt ?? '-'}`,
    `finished  ${r.finishedAt ?? '-'}`,
    `deadline  ${r.deadlineAt ?? '-'}`,
    `input     ${(r.input ?? '-').replace(/\s+/g, ' ').slice(0, 200)}`,
    `output    ${r.output || '-'}`,
    `error     ${r.error || '-'}`,
    '',
    'events',
  ].join('\n') + '\n');
  io.stdout(table(['RECORDED', 'OCCURRED', 'STATE', 'SOURCE', 'APPLIED', 'MESSAGE'], r.history.map((h) => [
    h.recordedAt, h.occurredAt ?? '-', h.state, h.source, h.applied ? 'yes' : 'no', (h.message ?? '-').replace(/\s+/g, ' ').slice(0, 100),
  ])));
}

export async function waitForRuns(ctx: Ctx, deployment: Deployment, runs: readonly { run: string; workflow: string; payloadId: string }[], o: { timeoutMs: number; intervalMs: number; output: boolean }) {
  const client = new StateClient(deployment, ctx.io.signal);
  const deadline = o.timeoutMs === Infinity ? Infinity : Date.now() + o.timeoutMs;
  const finished = [];
  for (const r of runs) {
    const run = await followRun(client, r.run, {
      intervalMs: o.intervalMs, deadline, signal: ctx.io.signal,
      onState: ctx.json ? undefined : (s) => ctx.io.stderr(`${r.run}: ${s}\n`),
    });
    finished.push({ ...r, record: run });
  }
  return finished;
}

export function registerRun(program: Command<[], any>, ctx: Ctx): void {
  const run = program
    .command('run')
    .description('process a payload, then wait for its run to finish: prints the output URL (--output: the output itself); exit code by final state')
    .argument('[file]', 'payload file, or - for stdin', '-')
    .addOption(viaOption())
    .option('--idempotency-key <key>', 'webhook only: each key is one delivery (default: the payload content decides)')
    .option('--wait', 'wait for the run to reach a final state (the default)', true)
    .option('--no-wait', 'only process (as `swoop process`)')
    .option('--timeout <duration>', 'give up waiting after this long (90s, 10m, 2h): exit 7')
    .option('--output', 'print the output payload itself (fetched from its s3:// or https:// URL), not its URL')
    .addOption(new Option('--interval <seconds>', 'seconds between polls of the state service').default('2').hideHelp())
    .addHelpText('after', `${examples('swoop -d dev run workflows/samples/copy-and-publish/s2-cogs.json --timeout 30m')}
Exit codes: 0 SUCCESSFUL, 3 FAILED, 4 TIMED_OUT, 5 CANCELED, 6 INVALID, 7 still running at --timeout,
8 claim refused (the payload is running or already succeeded: set "replace": true in its process), 1 any other failure.
`)
    .action(async (file, o) => {
      const deployment = ctx.deployment();
      const timeoutMs = o.timeout === undefined ? Infinity : parseDuration('--timeout', o.timeout);
      const intervalMs = parsePositive('--interval', o.interval) * 1000;
      const docs = await readPayloads(file, ctx.io.stdin, ctx.io.cwd);
      const sim = loadSimulator(deployment.manifests, deployment.name);
      // A bare {"url": "s3://..."} reference: its object is read first, as its dispatch run will read it.
      const bare = new Map<number, PayloadDoc>();
      if (o.wait) {
        for (const [i, doc] of docs.entries()) {
          const url = (doc.body as { url?: unknown; process?: unknown }).url;
          if (typeof url === 'string' && (doc.body as { process?: unknown }).process === undefined) bare.set(i, await readBareReference(url, doc.where, ctx.io.signal));
        }
      }
      const processed = await processPayloads(deployment, docs, { via: o.via, idempotencyKey: o.idempotencyKey }, ctx.io.signal, sim);
      if (!ctx.json) printProcessed(ctx.io, processed);
      if (!o.wait) {
        if (ctx.json) printJson(ctx.io, { deployment: deployment.name, payloads: processed });
        return;
      }
      const runs = [];
      for (const [i, p] of processed.entries()) {
        const forwarded = bare.get(i);
        if (!p.dispatch || !forwarded) {
          runs.push(...p.runs);
          continue;
        }
        const started = dispatchedRuns(sim, forwarded, p.dispatch.run);
        if (!ctx.json) for (const r of started) ctx.io.stdout(`  then run ${r.run} (workflow ${r.workflow}, payload ${r.payloadId}), started by dispatch run ${p.dispatch.run}\n`);
        runs.push(...started);
      }
      const finished = await waitForRuns(ctx, deployment, runs, { timeoutMs, intervalMs, output: o.output === true });
      const results = [];
      let code: number = EXIT.ok;
      for (const f of finished) {
        const rc = f.record ? exitCodeOf(f.record) : EXIT.waitTimeout;
        if (code === EXIT.ok) code = rc;
        const output = f.record?.state === 'SUCCESSFUL' && o.output && f.record.output ? await fetchOutput(f.record.output, ctx.io.signal) : undefined;
        results.push({ run: f.run, workflow: f.workflow, payloadId: f.payloadId, state: f.record?.state ?? null, claim: f.record?.claim ?? null, output: f.record?.output || null, error: f.record?.error || null, exitCode: rc, ...(output !== undefined ? { outputPayload: output } : {}) });
        if (ctx.json) continue;
        if (!f.record) ctx.io.stdout(`${f.run}: still not final after --timeout ${o.timeout}; follow it with \`swoop run get ${f.run}\`\n`);
        else if (f.record.claim === 'refused') ctx.io.stdout(`${f.run}: claim refused (${f.record.claimReason ?? ''}): nothing ran; set "replace": true in the payload's process to run it again\n`);
        else if (f.record.state === 'SUCCESSFUL') ctx.io.stdout(output !== undefined ? `${typeof output === 'string' ? output : JSON.stringify(output, null, 2)}\n` : `${f.run}: SUCCESSFUL\noutput ${f.record.output || '(none reported)'}\n`);
        else ctx.io.stdout(`${f.run}: ${f.record.state}\nerror ${f.record.error || '(none reported)'}\n(\`swoop logs ${f.run}\` for the task logs)\n`);
      }
      if (ctx.json) printJson(ctx.io, { deployment: deployment.name, runs: results });
      ctx.exitCode = code;
    });

  run
    .command('get')
    .description('one run: its state, input, output, error and every event recorded for it')
    .argument('<run>', 'the run name (the Argo workflow name)')
    .addHelpText('after', examples('swoop -d dev run get cog-archive-7f3a1c2d9e8b4a60'))
    .action(async (name) => {
      const r = await new StateClient(ctx.deployment(), ctx.io.signal).run(name);
      if (ctx.json) printJson(ctx.io, r);
      else printRun(ctx.io, r);
    });
}
