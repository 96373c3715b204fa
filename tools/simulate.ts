/**
 * `npm run simulate -- <payload.json> [--via webhook|sqs|sns|lifecycle] [--manifests dir] [--twice]`:
 * delivers one event to the synthesized EventSources/Sensors (default: dist/dev/) offline and
 * prints which triggers fire with which resources. The file is a cirrus payload (or a
 * `{"url", "process"}` reference) for webhook/sqs/sns, or a `run.finished` body for lifecycle.
 * `--twice` delivers it again, showing what a duplicate delivery does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { runCommand } from '../constructs/errors';
import { describeDelivery, Simulator, snsEnvelope, sqsEvent, webhookEvent, type SimulatedEvent } from './simulator';

const USAGE = 'usage: npm run simulate -- <payload.json> [--via webhook|sqs|sns|lifecycle] [--manifests dir (default dist/dev)] [--twice] [--debug]';

function eventFor(via: string, body: unknown, text: string): SimulatedEvent {
  const id = createHash('sha256').update(text).digest('hex').slice(0, 12);
  switch (via) {
    case 'webhook':
      return webhookEvent('swoop-ingress', 'payload', body, { Authorization: 'Bearer <token>' });
    case 'sqs':
      return sqsEvent('swoop-ingress-sqs', 'payload', body, `sqs-${id}`);
    case 'sns':
      return sqsEvent('swoop-ingress-sqs', 'payload', snsEnvelope(body, `sns-${id}`), `sqs-${id}`);
    case 'lifecycle':
      return webhookEvent('swoop-lifecycle', 'run-finished', body, { Authorization: 'Bearer <token>' });
    default:
      throw new UsageError(`--via must be webhook, sqs, sns or lifecycle, not "${via}"`);
  }
}

class UsageError extends Error {}

function main(argv: string[]): number {
  let file: string | undefined;
  let via = 'webhook';
  let manifests = resolve(__dirname, '..', 'dist', 'dev');
  let twice = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return 0;
    } else if (arg === '--via') via = argv[++i] ?? '';
    else if (arg === '--manifests') manifests = resolve(argv[++i] ?? '');
    else if (arg === '--twice') twice = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else if (file) throw new UsageError('give one payload file');
    else file = arg;
  }
  if (!file) throw new UsageError('no payload file given');
  if (!existsSync(file)) throw new UsageError(`no such payload file ${file}`);
  if (!existsSync(manifests)) throw new UsageError(`no manifests at ${manifests}; run \`npm run synth\` first`);
  const text = readFileSync(file, 'utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    // Not JSON: an SNS message or SQS body can still be text; the sensors must then record INVALID.
    if (via === 'webhook' || via === 'lifecycle') throw new UsageError(`${file} is not JSON: ${(e as Error).message}`);
    body = text;
  }
  const simulator = Simulator.fromPath(manifests);
  const event = eventFor(via, body, text);
  const submitted = new Set<string>();
  for (let round = 0; round < (twice ? 2 : 1); round++) {
    if (round === 1) console.log('\n(delivered again)');
    console.log(describeDelivery(simulator.deliver(event), submitted).join('\n'));
  }
  return 0;
}

// A usage error exits 2 with the usage; anything else is one line and exit 1 (`--debug`: the stack trace).
void runCommand((argv) => {
  try {
    return main(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`simulate: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof Error && /no EventSource defines/.test(e.message)) {
      e.message += '; is the events chart part of `npm run synth`? see workflows/app.ts';
    }
    throw e;
  }
});
