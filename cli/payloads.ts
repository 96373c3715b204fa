/**
 * Payloads as `swoop process` reads them: one JSON document or an NDJSON stream, each
 * checked locally (a one-line error naming the field, nothing sent), and what the platform
 * will make of each: its payload id and the run it starts. Nothing here re-implements the
 * platform: the run name comes from delivering the exact request to the deployment's own
 * sensors with the offline simulator (tools/simulator.ts, held against the real Go libraries),
 * and the payload id from the function the claim uses (state/payload-id.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { INGRESS_SQS_SOURCE, INGRESS_WEBHOOK_SOURCE, PAYLOAD_EVENT } from '../constructs/events/names';
import { derivePayloadId } from '../state/payload-id';
import { InputError, payloadIdBytes, textProblem } from '../state/validate';
import { Simulator, sqsMessage, webhookRequest, type Delivery } from '../tools/simulator';
import { CliError } from './io';

type Json = Record<string, unknown>;

export interface PayloadDoc {
  /** `file:line` (or `stdin:line`) the payload came from, for errors */
  readonly where: string;
  /** the text sent, exactly (compact JSON of the document) */
  readonly text: string;
  readonly body: Json;
}

/** SQS's largest message; cirrus sends larger payloads as {"url": "s3://..."}. */
export const SQS_MAX_BYTES = 256 * 1024;

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

/** The payloads of a file (or `-`: stdin): one JSON document, or one per line (NDJSON). */
export async function readPayloads(file: string | undefined, stdin: Readable, cwd: string): Promise<PayloadDoc[]> {
  const name = file === undefined || file === '-' ? 'stdin' : file;
  let text: string;
  if (name === 'stdin') text = await readAll(stdin);
  else {
    const path = resolve(cwd, name);
    if (!existsSync(path) || statSync(path).isDirectory()) throw new CliError(`${name}: no such payload file; give a JSON or NDJSON file, or - for stdin`);
    text = readFileSync(path, 'utf8');
  }
  if (text.trim() === '') throw new CliError(`${name}: empty; give one cirrus payload (JSON) or one per line (NDJSON)`);
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    whole = undefined;
  }
  const docs: { where: string; value: unknown }[] = [];
  if (whole !== undefined) docs.push({ where: name, value: whole });
  else {
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${name}:${i + 1}`;
      try {
        docs.push({ where, value: JSON.parse(line) });
      } catch (e) {
        throw new CliError(`${where}: not JSON (${(e as Error).message}); give one JSON payload, or one per line (NDJSON)`);
      }
    });
  }
  return docs.map(({ where, value }) => {
    checkShape(value, where);
    return { where, text: JSON.stringify(value), body: value as Json };
  });
}

const fail = (where: string, field: string, message: string): never => {
  throw new CliError(`${where}: ${field}: ${message}`);
};

function checkProcessElement(v: unknown, where: string, field: string): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, field, 'must be an object naming a workflow, e.g. {"workflow": "cog-archive"}');
  const e = v as Json;
  if (typeof e.workflow !== 'string' || e.workflow === '') fail(where, `${field}.workflow`, 'must name the workflow to run (a non-empty string)');
  if (e.replace !== undefined && typeof e.replace !== 'boolean') fail(where, `${field}.replace`, 'must be true or false');
  if (e.chain_filter !== undefined && typeof e.chain_filter !== 'string') fail(where, `${field}.chain_filter`, 'must be a JSONPath filter expression (a string)');
  if (e.collections !== undefined && (!Array.isArray(e.collections) || e.collections.some((c) => typeof c !== 'string'))) {
    fail(where, `${field}.collections`, 'must be a list of collection ids');
  }
}

/**
 * The cirrus payload's shape (/work/shared/reference/cirrus-swoop-semantics.md): an object with
 * `process` (an object, or a list whose first element is an object or a list of them, each
 * naming `workflow`) and either `features` (items with ids) or a `url` reference. A bare
 * `{"url": "s3://..."}` is allowed: the dispatch workflow reads its `process` from S3.
 */
export function checkShape(value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(where, '(payload)', 'must be a JSON object: a cirrus payload (FeatureCollection with process) or {"url": "s3://...", "process": [...]}');
  }
  const p = value as Json;
  const problem = textProblem(JSON.stringify(p));
  if (problem) fail(where, '(payload)', `${problem}; remove it`);
  if (p.url !== undefined) {
    if (typeof p.url !== 'string' || !/^(s3|https):\/\/[^/]+\/.+/.test(p.url)) fail(where, 'url', 'must be an s3:// (or https://) URL of the payload object');
    if (p.process === undefined && !(p.url as string).startsWith('s3://')) fail(where, 'process', 'is required beside an https:// url (only s3:// references may leave it in the object)');
  } else {
    if (p.type !== undefined && p.type !== 'FeatureCollection') fail(where, 'type', `must be "FeatureCollection" (got ${JSON.stringify(p.type)})`);
    if (!Array.isArray(p.features) || p.features.length === 0) fail(where, 'features', 'must be a non-empty list of STAC items (or send {"url": "s3://..."} instead)');
    (p.features as unknown[]).forEach((f, i) => {
      if (typeof f !== 'object' || f === null || Array.isArray(f)) fail(where, `features[${i}]`, 'must be a STAC item (an object)');
      const item = f as Json;
      if (typeof item.id !== 'string' || item.id === '') fail(where, `features[${i}].id`, 'must be the item id (a non-empty string): the payload id is made of them');
      if (item.collection !== undefined && typeof item.collection !== 'string') fail(where, `features[${i}].collection`, 'must be a collection id (a string)');
    });
    if (p.process === undefined) fail(where, 'process', 'is required: name the workflow to run, e.g. "process": [{"workflow": "cog-archive"}]');
  }
  if (p.process === undefined) return;
  if (Array.isArray(p.process)) {
    if (p.process.length === 0) fail(where, 'process', 'must not be empty: name the workflow to run');
    p.process.forEach((e, i) => {
      if (Array.isArray(e)) {
        if (e.length === 0) fail(where, `process[${i}]`, 'a parallel group must name at least one workflow');
        e.forEach((m, j) => checkProcessElement(m, where, `process[${i}][${j}]`));
      } else checkProcessElement(e, where, `process[${i}]`);
    });
  } else checkProcessElement(p.process, where, 'process');
  if (p.id !== undefined && (typeof p.id !== 'string' || p.id === '')) fail(where, 'id', 'must be the payload id (a non-empty string), or left out so it is derived');
}

/** What one delivery of a payload starts, read from the deployment's sensors. */
export interface Prediction {
  /** the runs it starts: workflow, run name, payload id */
  readonly runs: { readonly workflow: string; readonly run: string; readonly payloadId: string }[];
  /** set when the payload is a bare s3:// reference: the dispatch run reads it, and the workflow's run is named only then */
  readonly dispatch?: { readonly run: string };
}

/** The deployment's manifests as a simulator; a one-line error when there are none. */
export function loadSimulator(manifests: string | undefined, deploymentName: string): Simulator {
  if (!manifests || !existsSync(manifests)) {
    throw new CliError(`deployment "${deploymentName}": no manifests${manifests ? ` at ${manifests}` : ''} to read the ingress sensors from; set manifests: dist/<stack> in the deployment (or SWOOP_MANIFESTS), or run \`npm run synth\``);
  }
  const sim = Simulator.fromPath(manifests);
  if (!sim.events.includes(`${INGRESS_WEBHOOK_SOURCE}/${PAYLOAD_EVENT}`)) {
    throw new CliError(`${manifests}: no ${INGRESS_WEBHOOK_SOURCE} EventSource; give the folder \`npm run synth\` writes for this deployment (dist/<stack>)`);
  }
  return sim;
}

type Json2 = Record<string, any>;

/**
 * Reads a Delivery: the runs it starts, or the reason the platform would record it INVALID.
 * A run is started either by a trigger creating the Workflow (k8s/argoWorkflow), or by an HTTP
 * trigger handing `{workflow, name, arguments}` to the state service to claim and create.
 */
export function predictionOf(delivery: Delivery, where: string): Prediction {
  const runs: Prediction['runs'][number][] = [];
  let dispatch: Prediction['dispatch'];
  const started = (workflow: string, run: string, params: Record<string, unknown>) => {
    const param = (n: string) => (typeof params[n] === 'string' ? (params[n] as string) : undefined);
    // A platform template reading a bare reference (swoop-dispatch): no payload of its own.
    if (param('url') !== undefined && param('payload-id') === undefined) {
      dispatch = { run };
      return;
    }
    const payloadId = param('payload-id') || derivePayloadId(param('input') ?? '', workflow);
    try {
      payloadIdBytes('payloadId', payloadId);
    } catch (e) {
      if (e instanceof InputError) throw new CliError(`${where}: ${e.message}; use fewer items per payload, or give it a shorter "id"`);
      throw e;
    }
    runs.push({ workflow, run, payloadId });
  };
  for (const f of delivery.firings) {
    const a = f.action;
    if (a.type === 'failed') throw new CliError(`${where}: the ingress sensor cannot start it (${a.error}); fix the payload`);
    if (a.type === 'http') {
      const body = a.body as Json2 | undefined;
      if (body?.type === 'invalid') throw new CliError(`${where}: would be recorded INVALID: ${String(body.message)}`);
      if (typeof body?.workflow === 'string' && typeof body?.name === 'string' && typeof body?.arguments === 'object' && body.arguments !== null) {
        started(body.workflow, body.name, body.arguments as Record<string, unknown>);
      }
      continue;
    }
    if (a.type !== 'k8s' && a.type !== 'argoWorkflow') continue;
    const resource = a.resource as Json2;
    if (resource.kind !== 'Workflow') continue;
    const params: Json2[] = resource.spec?.arguments?.parameters ?? [];
    started(String(resource.spec?.workflowTemplateRef?.name ?? ''), String(resource.metadata?.name ?? ''), Object.fromEntries(params.map((p) => [p.name, p.value])));
  }
  if (runs.length === 0 && !dispatch) throw new CliError(`${where}: no ingress trigger of the deployment's sensors fires for it; are the manifests this deployment's?`);
  return { runs, ...(dispatch ? { dispatch } : {}) };
}

/** What the webhook will start for this exact request (body text and headers). */
export function predictWebhook(sim: Simulator, doc: PayloadDoc, headers: Record<string, string>): Prediction {
  return predictionOf(sim.deliver(webhookRequest(INGRESS_WEBHOOK_SOURCE, PAYLOAD_EVENT, doc.text, headers)), doc.where);
}

/** What the SQS EventSource will start for this message (its identity is the message id SQS gave it). */
export function predictSqs(sim: Simulator, doc: PayloadDoc, messageId: string): Prediction {
  if (!sim.events.includes(`${INGRESS_SQS_SOURCE}/${PAYLOAD_EVENT}`)) {
    throw new CliError(`the deployment's manifests have no ${INGRESS_SQS_SOURCE} EventSource: its events layer reads no queue; send with --via webhook`);
  }
  return predictionOf(sim.deliver(sqsMessage(INGRESS_SQS_SOURCE, PAYLOAD_EVENT, doc.text, messageId)), doc.where);
}
