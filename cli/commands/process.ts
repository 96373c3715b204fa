/**
 * `swoop process [file|-]`: send payloads to the ingress. Every payload is checked and its
 * fate predicted from the deployment's own sensors before anything is sent, so a bad one in
 * an NDJSON stream stops the whole stream with nothing sent.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import type { Deployment } from '../config';
import type { Simulator } from '../../tools/simulator';
import { type Ctx, examples } from '../context';
import { chooseVia, sendWebhook, SqsSender, type Via, webhookHeaders } from '../ingress';
import { CliError, type Io, printJson } from '../io';
import { loadSimulator, predictSqs, predictWebhook, type PayloadDoc, type Prediction, readPayloads, SQS_MAX_BYTES } from '../payloads';

export interface Processed extends Prediction {
  /** where the payload came from (`file`, `file:line`, `stdin:line`) */
  readonly source: string;
  readonly via: Via;
  readonly sent: boolean;
  /** the SQS message id (the delivery's identity), when sent to SQS */
  readonly messageId?: string;
}

export interface ProcessOptions {
  readonly via?: string;
  readonly idempotencyKey?: string;
  readonly dryRun?: boolean;
}

/** Checks every payload, then sends them all; returns what each starts. */
export async function processPayloads(deployment: Deployment, docs: readonly PayloadDoc[], o: ProcessOptions, signal?: AbortSignal, simulator?: Simulator): Promise<Processed[]> {
  const via = chooseVia(deployment, o.via);
  const sim = simulator ?? loadSimulator(deployment.manifests, deployment.name);
  if (o.idempotencyKey !== undefined && via !== 'webhook') throw new CliError('--idempotency-key applies to the webhook only (SQS deliveries are identified by their message id); add --via webhook');
  const headersOf = (i: number) => webhookHeaders(o.idempotencyKey === undefined ? undefined : docs.length === 1 ? o.idempotencyKey : `${o.idempotencyKey}/${i + 1}`);
  // Check everything first: nothing is sent unless every payload would start a run.
  const predicted = docs.map((doc, i) => {
    if (via === 'sqs' && Buffer.byteLength(doc.text) > SQS_MAX_BYTES) {
      throw new CliError(`${doc.where}: ${Buffer.byteLength(doc.text)} bytes, more than an SQS message holds (${SQS_MAX_BYTES}); upload it to S3 and send {"url": "s3://...", "process": [...]}`);
    }
    return via === 'webhook' ? predictWebhook(sim, doc, headersOf(i)) : predictSqs(sim, doc, `preflight-${i}`);
  });
  if (o.dryRun) {
    return docs.map((doc, i) => ({
      source: doc.where, via, sent: false,
      // SQS names a run after the message id, known only once sent.
      ...(via === 'webhook' ? predicted[i]! : { runs: predicted[i]!.runs.map((r) => ({ ...r, run: '' })), ...(predicted[i]!.dispatch ? { dispatch: { run: '' } } : {}) }),
    }));
  }
  const results: Processed[] = [];
  if (via === 'webhook') {
    for (const [i, doc] of docs.entries()) {
      await sendWebhook(deployment, doc, headersOf(i), signal);
      results.push({ source: doc.where, via, sent: true, ...predicted[i]! });
    }
    return results;
  }
  const sqs = new SqsSender(deployment);
  try {
    if (docs.length === 1) {
      const messageId = await sqs.sendOne(docs[0]!, signal);
      return [{ source: docs[0]!.where, via, sent: true, messageId, ...predictSqs(sim, docs[0]!, messageId) }];
    }
    for (let start = 0; start < docs.length; start += 10) {
      const batch = docs.slice(start, start + 10);
      const answers = await sqs.sendBatch(batch, signal);
      const failed: string[] = [];
      answers.forEach((a, i) => {
        const doc = batch[i]!;
        if ('messageId' in a) results.push({ source: doc.where, via, sent: true, messageId: a.messageId, ...predictSqs(sim, doc, a.messageId) });
        else failed.push(`${doc.where} (${a.error})`);
      });
      if (failed.length) {
        throw new CliError(`SQS refused ${failed.length} message(s): ${failed.join(', ')}; ${results.length} sent before (see above), ${docs.length - start - batch.length} not sent; fix and send the rest again`);
      }
    }
    return results;
  } finally {
    sqs.close();
  }
}

export function printProcessed(io: Io, results: readonly Processed[]): void {
  for (const r of results) {
    const sent = r.sent ? `sent via ${r.via}${r.messageId ? ` (message ${r.messageId})` : ''}` : `not sent (dry run, via ${r.via})`;
    io.stdout(`${r.source}: ${sent}\n`);
    for (const run of r.runs) io.stdout(`  payload ${run.payloadId}\n  run     ${run.run || '(named after the SQS message id once sent)'} (workflow ${run.workflow})\n`);
    if (r.dispatch) io.stdout(`  bare reference: dispatch run ${r.dispatch.run || '(named once sent)'} reads it from S3; its workflow's run is named then\n`);
  }
}

export const viaOption = () => new Option('--via <ingress>', 'send through sqs or webhook (default: the deployment\'s ingress.via, else sqs when a queue is set)').choices(['sqs', 'webhook'] as const);

export function registerProcess(program: Command<[], any>, ctx: Ctx): void {
  program
    .command('process')
    .description('send one payload (JSON) or a stream of them (NDJSON) to the ingress; checks each first and prints its payload id and run name')
    .argument('[file]', 'payload file, or - for stdin', '-')
    .addOption(viaOption())
    .option('--idempotency-key <key>', 'webhook only: each key is one delivery (default: the payload content decides, so re-sending it starts nothing new)')
    .option('--dry-run', 'check and predict, send nothing')
    .addHelpText('after', examples(
      'swoop -d dev process workflows/samples/copy-and-publish/s2-cogs.json',
      'cat payloads.ndjson | swoop -d dev process - --json',
    ))
    .action(async (file, opts) => {
      const deployment = ctx.deployment();
      const docs = await readPayloads(file, ctx.io.stdin, ctx.io.cwd);
      const results = await processPayloads(deployment, docs, opts, ctx.io.signal);
      if (ctx.json) printJson(ctx.io, { deployment: deployment.name, payloads: results });
      else printProcessed(ctx.io, results);
    });
}
