/**
 * `swoop rerun`: send every payload whose runs failed (by state, workflow, collection, time)
 * to the ingress again, once each, resumable, never one that succeeded since.
 *
 * Each payload is re-sent as its failed run received it, with `replace` set to false on the
 * workflow's process element: the claim then applies cirrus' rules itself (a FAILED,
 * TIMED_OUT or CANCELED payload runs again; one that is running or succeeded is refused), so
 * even a payload that succeeds between this command's check and the new run's claim is not
 * run twice. Before sending, the payload's state is read and a payload that succeeded since
 * (or is running) is skipped without sending anything.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { SingleBar } from 'cli-progress';
import { Checkpoint, describe, type Entry, type Outcome, type Selection } from '../checkpoint';
import { type Ctx, examples } from '../context';
import { chooseVia } from '../ingress';
import { CliError, EXIT, printJson, sleep } from '../io';
import { checkShape, loadSimulator, type PayloadDoc } from '../payloads';
import { type PayloadView, type RunView, StateClient } from '../state-client';
import { parsePositive, parseStates, parseWhen } from '../time';
import { processPayloads } from './process';

const RERUNNABLE = ['FAILED', 'TIMED_OUT', 'CANCELED'];
const ACTIVE = ['PENDING', 'QUEUED', 'RUNNING'];

type Json = Record<string, unknown>;

/**
 * The payload to send again for a failed run: its input with the workflow's process element
 * first and `replace: false`. An input that is a bare URL (a static chain's) becomes a reference
 * `{"url", "process"}`; undefined when the run recorded no input.
 */
export function rerunPayload(input: string | null, workflow: string): Json | undefined {
  if (!input) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(input);
  } catch {
    doc = undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return /^(s3|https):\/\//.test(input) ? { url: input, process: [{ workflow, replace: false }] } : undefined;
  }
  const body = { ...(doc as Json) };
  const p = body.process;
  const mine = (e: unknown): e is Json => typeof e === 'object' && e !== null && !Array.isArray(e) && (e as Json).workflow === workflow;
  if (Array.isArray(p) && p.length > 0) {
    const first = p[0];
    // A parallel group: only this workflow's member runs again.
    const element = Array.isArray(first) ? first.find(mine) : mine(first) ? first : undefined;
    body.process = element ? [{ ...element, replace: false }, ...p.slice(1)] : [{ workflow, replace: false }, ...p];
  } else if (mine(p)) body.process = { ...p, replace: false };
  else body.process = [{ workflow, replace: false }];
  return body;
}

/** Why a payload is not to be re-run now, from its current record, or undefined. */
function skipReason(p: PayloadView | undefined, failed: RunView): { outcome: Outcome; detail: string } | undefined {
  if (!p) return undefined;
  const later = p.runs.filter((r) => r.claim === 'claimed' && r.createdAt > failed.createdAt);
  const success = later.find((r) => r.state === 'SUCCESSFUL') ?? (p.state === 'SUCCESSFUL' ? p.runs.find((r) => r.claim === 'claimed') : undefined);
  if (success) return { outcome: 'skipped-succeeded', detail: `run ${success.run} succeeded` };
  const active = p.runs.find((r) => r.claim === 'claimed' && ACTIVE.includes(r.state));
  if (active) return { outcome: 'skipped-active', detail: `run ${active.run} is ${active.state}` };
  return undefined;
}

export function registerRerun(program: Command<[], any>, ctx: Ctx): void {
  program
    .command('rerun')
    .description('re-send every payload whose runs failed, once each; resumable (checkpoint file), never one that succeeded since')
    .option('--state <states>', `states to re-run, comma-separated, of ${RERUNNABLE.join(', ')}`, 'FAILED')
    .option('--workflow <name>', 'only runs of this workflow')
    .option('--collection <id>', 'only payloads with items of this collection')
    .option('--since <when>', 'runs created at or after: 30m, 24h, 7d, today, yesterday, 2024-05-01 or RFC 3339')
    .option('--until <when>', 'runs created before (default: when the re-run first started)')
    .option('--limit <n>', 'at most this many payloads in this invocation')
    .option('--rate <n>', 'at most this many payloads per second', '5')
    .option('--dry-run', 'list what would be re-run; send nothing, write no checkpoint')
    .option('--checkpoint <file>', 'checkpoint file (default: swoop-rerun-<deployment>-<hash of the options>.ndjson here)')
    .addOption(new Option('--via <ingress>', 'send through sqs or webhook').choices(['sqs', 'webhook'] as const))
    .addHelpText('after', `${examples(
      'swoop -d dev rerun --workflow cog-archive --state FAILED --since yesterday --dry-run',
      'swoop -d dev rerun --workflow cog-archive --state FAILED,TIMED_OUT --since 24h --rate 10',
    )}Interrupted (Ctrl-C, a lost connection), the same command resumes from its checkpoint; it exits 130 when interrupted, 1 when a send failed.
`)
    .action(async (o) => {
      const deployment = ctx.deployment();
      const states = parseStates('--state', o.state);
      for (const s of states.split(',')) {
        if (!RERUNNABLE.includes(s)) throw new CliError(`--state ${s}: only ${RERUNNABLE.join(', ')} runs are re-run (a payload that succeeded or is running is never sent again)`);
      }
      const rate = parsePositive('--rate', o.rate, 1000);
      const limit = o.limit === undefined ? Infinity : Math.floor(parsePositive('--limit', o.limit));
      const via = chooseVia(deployment, o.via);
      const sim = loadSimulator(deployment.manifests, deployment.name);
      const key = createHash('sha256').update(JSON.stringify([deployment.name, states, o.workflow ?? null, o.collection ?? null, o.since ?? null, o.until ?? null])).digest('hex').slice(0, 12);
      const fresh = (): Selection => ({
        deployment: deployment.name, states, workflow: o.workflow ?? null, collection: o.collection ?? null,
        since: o.since === undefined ? null : parseWhen('--since', o.since),
        until: o.until === undefined ? new Date().toISOString() : parseWhen('--until', o.until),
      });
      const checkpoint = o.dryRun ? undefined : Checkpoint.open(resolve(ctx.io.cwd, o.checkpoint ?? `swoop-rerun-${deployment.name}-${key}.ndjson`), key, fresh);
      const selection = checkpoint?.selection ?? fresh();
      const client = new StateClient(deployment, ctx.io.signal);

      // The failed runs, newest first, one per payload (its newest failure).
      const candidates = new Map<string, RunView>();
      let noPayloadId = 0;
      let alreadyDone = 0;
      // more payloads than --limit: the checkpoint stays, so the same command goes on with the rest
      let beyondLimit = 0;
      for await (const run of client.allRuns({ state: states, workflow: selection.workflow ?? undefined, collection: selection.collection ?? undefined, since: selection.since ?? undefined, until: selection.until })) {
        if (!run.payloadId) noPayloadId++;
        else if (checkpoint?.done.has(run.payloadId)) {
          if (!candidates.has(run.payloadId)) alreadyDone++;
        } else if (!candidates.has(run.payloadId)) {
          if (candidates.size < limit) candidates.set(run.payloadId, run);
          else beyondLimit++;
        }
      }
      if (!ctx.json) {
        ctx.io.stderr(`${checkpoint?.resumed ? 'resuming' : o.dryRun ? 'dry run' : 'starting'}: ${describe(selection)}; ${candidates.size} payload(s) to handle${alreadyDone ? `, ${alreadyDone} already handled` : ''}${checkpoint ? ` (checkpoint ${checkpoint.file})` : ''}\n`);
      }
      const bar = ctx.io.progress && !ctx.json && candidates.size > 0 ? new SingleBar({ format: 'rerun [{bar}] {value}/{total} payloads | {sent} sent, {skipped} skipped, {failed} failed | eta {eta}s', stream: ctx.io.progress as unknown as NodeJS.WritableStream }) : undefined;
      const entries: (Entry | Omit<Entry, 'at'>)[] = [];
      const counts = { sent: 0, skipped: 0, failed: 0 };
      bar?.start(candidates.size, 0, counts);
      let interrupted = false;
      let lastSend = 0;
      try {
        for (const failed of candidates.values()) {
          // Ctrl-C stops between payloads: a send in flight completes and is recorded first.
          if (ctx.io.signal.aborted) throw new CliError('interrupted', EXIT.interrupted);
          const payloadId = failed.payloadId!;
          const record = (outcome: Outcome, detail: string) => {
            const e = { payloadId, failedRun: failed.run, outcome, detail };
            entries.push(checkpoint ? checkpoint.record(e) : e);
            if (outcome === 'sent') counts.sent++;
            else if (outcome === 'failed') counts.failed++;
            else counts.skipped++;
            bar?.increment(1, counts);
          };
          const skip = skipReason(await client.payloadIfKnown(payloadId), failed);
          if (skip) {
            record(skip.outcome, skip.detail);
            continue;
          }
          const body = rerunPayload(failed.input, failed.workflow);
          if (!body) {
            record('skipped-no-input', `run ${failed.run} recorded no input to send again`);
            continue;
          }
          const doc: PayloadDoc = { where: `payload ${payloadId} (run ${failed.run})`, text: JSON.stringify(body), body };
          try {
            checkShape(body, doc.where);
            if (o.dryRun) {
              const [predicted] = await processPayloads(deployment, [doc], { via, dryRun: true, ...(via === 'webhook' ? { idempotencyKey: `rerun/${failed.run}` } : {}) }, ctx.io.signal, sim);
              const id = predicted!.runs[0]?.payloadId;
              if (id !== payloadId) record('skipped-id-changed', `would be claimed as ${id ?? '(a dispatch)'}, not ${payloadId}`);
              else record('sent', `would start a run of ${failed.workflow}${predicted!.runs[0]!.run ? ` (${predicted!.runs[0]!.run})` : ''}`);
              continue;
            }
            const wait = lastSend + 1000 / rate - Date.now();
            if (wait > 0) await sleep(wait, ctx.io.signal);
            // Checked and predicted first: a payload that would be claimed under another id is not sent.
            const [predicted] = await processPayloads(deployment, [doc], { via, dryRun: true, ...(via === 'webhook' ? { idempotencyKey: `rerun/${failed.run}` } : {}) }, ctx.io.signal, sim);
            if (predicted!.runs[0]?.payloadId !== payloadId) {
              record('skipped-id-changed', `would be claimed as ${predicted!.runs[0]?.payloadId ?? '(a dispatch)'}, not ${payloadId}`);
              continue;
            }
            const [sent] = await processPayloads(deployment, [doc], { via, ...(via === 'webhook' ? { idempotencyKey: `rerun/${failed.run}` } : {}) }, undefined, sim);
            record('sent', sent!.runs.map((r) => r.run).join(', '));
            // Spaced from the end of one send to the start of the next: never faster than --rate.
            lastSend = Date.now();
          } catch (e) {
            if (e instanceof CliError && e.exitCode === EXIT.interrupted) throw e;
            if (!(e instanceof CliError)) throw e;
            record('failed', e.message);
          }
        }
      } catch (e) {
        if (!(e instanceof CliError && e.exitCode === EXIT.interrupted)) throw e;
        interrupted = true;
      } finally {
        bar?.stop();
      }
      const summary = {
        sent: entries.filter((e) => e.outcome === 'sent').length,
        skippedSucceeded: entries.filter((e) => e.outcome === 'skipped-succeeded').length,
        skippedActive: entries.filter((e) => e.outcome === 'skipped-active').length,
        skippedOther: entries.filter((e) => e.outcome === 'skipped-no-input' || e.outcome === 'skipped-id-changed').length,
        failed: entries.filter((e) => e.outcome === 'failed').length,
        alreadyHandled: alreadyDone,
        withoutPayloadId: noPayloadId,
        remaining: candidates.size - entries.length,
        beyondLimit,
      };
      const complete = !interrupted && summary.failed === 0 && beyondLimit === 0 && !o.dryRun;
      if (complete) checkpoint?.remove();
      if (ctx.json) printJson(ctx.io, { selection, dryRun: o.dryRun === true, checkpoint: complete || !checkpoint ? null : checkpoint.file, interrupted, summary, payloads: entries });
      else {
        for (const e of entries) if (e.outcome !== 'sent' || o.dryRun) ctx.io.stdout(`${e.payloadId}: ${e.outcome}: ${e.detail}\n`);
        ctx.io.stdout(`${o.dryRun ? 'would send' : 'sent'} ${summary.sent}; skipped ${summary.skippedSucceeded} succeeded since, ${summary.skippedActive} running, ${summary.skippedOther} other; failed ${summary.failed}; ${summary.alreadyHandled} handled by an earlier invocation${summary.withoutPayloadId ? `; ${summary.withoutPayloadId} run(s) without a payload id ignored` : ''}\n`);
        if (interrupted) ctx.io.stdout(`interrupted with ${summary.remaining} left: run the same command to resume (checkpoint ${checkpoint?.file})\n`);
        else if (summary.failed) ctx.io.stdout(`run the same command to retry the ${summary.failed} that failed (checkpoint ${checkpoint?.file})\n`);
        else if (beyondLimit && checkpoint) ctx.io.stdout(`--limit reached: run the same command for the next (checkpoint ${checkpoint.file})\n`);
      }
      ctx.exitCode = interrupted ? EXIT.interrupted : summary.failed ? EXIT.error : EXIT.ok;
    });
}

