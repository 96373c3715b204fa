/**
 * A generated corpus of raw deliveries for the Argo Events oracle test: payloads as cirrus
 * feeders send them (inline ItemCollections, bare references, SNS-wrapped, old and new
 * `process` shapes), lifecycle `run.finished` events in every state, and the edges where Go
 * and JavaScript differ: number spellings, escapes, unicode keys and values, duplicate keys,
 * header spellings, whitespace and bodies that are not JSON. Deterministic (seeded), so a
 * failure names an index that reproduces.
 */
import { prng } from '../../support/prng';

export interface RawDelivery {
  readonly kind: 'webhook' | 'sqs';
  readonly eventSourceName: string;
  readonly eventName: string;
  /** The request or message body exactly as sent. */
  readonly body: string;
  /** Header names as the client spelled them (webhook only). */
  readonly headers: Record<string, string[]>;
  readonly messageId: string;
  /** What the delivery exercises, for failure messages. */
  readonly label: string;
}

/** Number spellings JSON allows whose Go and JavaScript renderings differ. */
const NUMBERS = ['0', '-0', '1', '42', '1.50', '0.1', '1e21', '1E21', '1e-7', '2.5e+3', '12345678901234567890', '-17.25', '100000000', '1e6', '0.000001', '3.0', '9007199254740993'];
/** String bodies (JSON text, without quotes) with escapes and characters Go escapes differently. */
const STRINGS = [
  'plain', 'a\\/b', '\\u00e9t\\u00e9', 'caf\u00e9', '<b>&amp;</b>', 'line\\nbreak', 'tab\\there', 'sep\u2028par\u2029', 'emoji \ud83d\ude00',
  '\\ud83d\\ude00 escaped', 'quote \\" inside', 'back\\\\slash', '', ' ', 'S2B_17HQD_20201103_0_L2A', 'x\\u003cy', '\u00ff\uffff', '\u4e2d\u6587',
];
const KEYS = ['id', 'collection', 'eo:cloud_cover', '#', 'a.b', '\u00e9', '\uffff', '\ud83d\ude00', 'Z', 'a', '_', '1', '10', '2'];
const STATES = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID', 'RUNNING', 'successful', ''];

export function generateCorpus(options: { workflows: readonly string[]; count: number; seed?: number }): RawDelivery[] {
  const rand = prng(options.seed ?? 20261206);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const chance = (p: number) => rand() < p;
  const workflowNames = [...options.workflows, 'not-a-workflow', 'Ingest', ''];
  const quoted = (s: string) => `"${s}"`;
  const number = () => pick(NUMBERS);
  const scalar = (): string => {
    const r = rand();
    if (r < 0.4) return quoted(pick(STRINGS));
    if (r < 0.75) return number();
    if (r < 0.85) return pick(['true', 'false']);
    return 'null';
  };
  /** An object's members as text, with the occasional duplicate key (the first wins in gjson). */
  const members = (entries: [string, string][]): string => {
    const list = [...entries];
    if (chance(0.08) && list.length) {
      const [k] = pick(list);
      list.push([k, scalar()]);
    }
    return list.map(([k, v]) => `${quoted(k)}:${v}`).join(chance(0.3) ? ', ' : ',');
  };
  const properties = () => {
    const entries: [string, string][] = [['eo:cloud_cover', number()], ['datetime', quoted('2020-11-03T15:22:26Z')]];
    for (let i = 0; i < Math.floor(rand() * 3); i++) entries.push([pick(KEYS), scalar()]);
    return `{${members(entries)}}`;
  };
  const feature = () => `{${members([['type', '"Feature"'], ['id', quoted(pick(STRINGS))], ['collection', quoted(pick(['sentinel-2-l2a', 'landsat-c2-l2', 'c\u00e9']))], ['properties', properties()]])}}`;
  const step = (workflow: string) => {
    const entries: [string, string][] = [['workflow', quoted(workflow)]];
    if (chance(0.3)) entries.push(['chain_filter', quoted('@.properties.eo:cloud_cover < 50')]);
    if (chance(0.2)) entries.push(['replace', pick(['true', 'false', '"true"', '1', 'null', ...NUMBERS])]);
    // process.tasks.<task>.<key>, which payload projections read (constructs/payload.ts).
    if (chance(0.3)) entries.push(['tasks', `{${members([['cog', `{${members([['batch', chance(0.2) ? '{"n": [1, 2]}' : scalar()]])}}`]])}}`]);
    if (chance(0.2)) entries.push(['upload_options', `{${members([['path_template', quoted('/${collection}/${id}')], ['public_assets', '[]']])}}`]);
    return `{${members(entries)}}`;
  };
  const processBlock = () => {
    const r = rand();
    if (r < 0.15) return step(pick(workflowNames)); // the old, single-object form
    const length = 1 + Math.floor(rand() * 3);
    const steps = Array.from({ length }, () => (chance(0.15) ? `[${step(pick(workflowNames))},${step(pick(workflowNames))}]` : step(pick(workflowNames))));
    return `[${steps.join(',')}]`;
  };
  const payload = (): string => {
    const r = rand();
    if (r < 0.2) {
      const entries: [string, string][] = [['url', quoted(`s3://bucket/${pick(['a', 'b\\/c', 'x y'])}/payload.json`)]];
      if (chance(0.5)) entries.push(['process', processBlock()]);
      return `{${members(entries)}}`;
    }
    const entries: [string, string][] = [['type', '"FeatureCollection"'], ['features', `[${Array.from({ length: Math.floor(rand() * 3) }, feature).join(',')}]`]];
    if (chance(0.9)) entries.push(['process', processBlock()]);
    if (chance(0.3)) entries.push(['id', quoted(pick(STRINGS))]);
    if (chance(0.2)) entries.push([pick(KEYS), scalar()]);
    return `{${members(entries)}}`;
  };
  const pretty = (text: string) => (chance(0.2) ? text.replace(/,"/g, ',\n  "').replace(/^\{/, '{\n  ') : text);
  /** SNS wraps the payload text as a JSON string; its escapes are SNS's (JSON.stringify here). */
  /** SNS wraps the payload text as a JSON string; a few envelopes carry what @fromstr must read loosely. */
  const sns = (message: string, id: string) => {
    const r = rand();
    const wrapped = r < 0.85 ? JSON.stringify(message) : r < 0.9 ? message : r < 0.95 ? JSON.stringify(message.slice(0, Math.max(1, Math.floor(message.length / 2)))) : pick(NUMBERS);
    return `{"Type":"Notification","MessageId":"${id}","TopicArn":"arn:aws:sns:us-west-2:123456789012:swoop","Message":${wrapped},"Timestamp":"2026-01-01T12:00:00.000Z","SignatureVersion":"1"}`;
  };
  const headers = (): Record<string, string[]> => {
    const h: Record<string, string[]> = { [pick(['Content-Type', 'content-type', 'CONTENT-TYPE'])]: ['application/json'] };
    if (chance(0.5)) h[pick(['Idempotency-Key', 'idempotency-key', 'IDEMPOTENCY-KEY', 'idempotency_key'])] = chance(0.2) ? ['k1', 'k2'] : [pick(['k1', 'run-\u00e9', 'a/b', ''])];
    if (chance(0.3)) h[pick(['X-Swoop-Run', 'x-swoop-run', 'X-Custom'])] = [pick(STRINGS)];
    return h;
  };
  const finished = (): string => {
    const state = pick(STATES);
    const entries: [string, string][] = [['event', quoted(pick(['run.finished', 'run.finished', 'run.started']))], ['state', quoted(state)]];
    entries.push(['workflow', quoted(pick(workflowNames))], ['run', quoted(`run-${Math.floor(rand() * 1000)}`)]);
    if (chance(0.9)) entries.push(['uid', chance(0.1) ? pick(['null', '7', '1e21']) : quoted(pick(['0b1c2d3e-uid', 'u\u00e9', '', 'x<y>']))]);
    entries.push(['payloadId', quoted('sentinel-2-l2a/workflow-x/S2B_1')], ['error', chance(0.1) ? 'null' : quoted(state === 'SUCCESSFUL' ? '' : pick(STRINGS))]);
    if (chance(0.1)) entries.push(['finishedAt', pick(['null', number(), quoted('2026-01-01T10:05:00Z')])]);
    entries.push(['input', JSON.stringify(payload())], ['output', quoted(chance(0.7) ? 's3://payloads/run/output.json' : '')]);
    if (chance(0.1)) entries.push(['next', `{"#":${number()},"0":${step(pick(workflowNames))}}`]);
    else if (chance(0.9)) entries.push(['next', chance(0.5) ? '[]' : `[${Array.from({ length: 1 + Math.floor(rand() * 2) }, () => (chance(0.2) ? `[${step(pick(workflowNames))}]` : step(pick(workflowNames)))).join(',')}]`]);
    return `{${members(entries)}}`;
  };

  const out: RawDelivery[] = [];
  for (let i = 0; out.length < options.count; i++) {
    const messageId = `m-${i}-${Math.floor(rand() * 1e9).toString(16)}`;
    const r = rand();
    if (r < 0.35) {
      const text = chance(0.03) ? pick(['{"process": [', 'not json', '', '{"a":1}{"b":2}']) : pretty(payload());
      out.push({ kind: 'webhook', eventSourceName: 'swoop-ingress', eventName: 'payload', body: text, headers: headers(), messageId, label: `ingress webhook #${i}` });
    } else if (r < 0.7) {
      const inner = payload();
      const wrapped = chance(0.5);
      const text = wrapped ? sns(inner, `sns-${i}`) : inner;
      out.push({ kind: 'sqs', eventSourceName: 'swoop-ingress-sqs', eventName: 'payload', body: text, headers: {}, messageId, label: `ingress sqs${wrapped ? ' (SNS)' : ''} #${i}` });
    } else {
      out.push({ kind: 'webhook', eventSourceName: 'swoop-lifecycle', eventName: 'run-finished', body: pretty(finished()), headers: headers(), messageId, label: `lifecycle #${i}` });
    }
  }
  return out;
}
