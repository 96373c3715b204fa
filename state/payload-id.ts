/**
 * cirrus payload identity, for claims that arrive without a payload id (chained runs,
 * references, SNS messages: contracts.md). cirrus builds the id as
 * `<collections joined by "/">/workflow-<workflow>/<item ids joined by "/">`, collections
 * defaulting to the items' own (overridable by the process's `collections`), both sorted.
 * A reference (`{"url": ...}` or a bare URL) has no items to read, so its id is a stable
 * hash of the reference instead.
 */
import { createHash } from 'node:crypto';

type Json = Record<string, unknown>;

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The process definition (element of `process`) for `workflow`, or the first one. */
function processFor(payload: Json, workflow: string): Json | undefined {
  const p = payload.process;
  const list = (Array.isArray(p) ? p : [p]).flat();
  const defs = list.filter((d): d is Json => typeof d === 'object' && d !== null);
  return defs.find((d) => d.workflow === workflow) ?? defs[0];
}

/** The cirrus id of an inline payload, or undefined when the text is not one. */
export function cirrusPayloadId(input: string, workflow: string): string | undefined {
  const payload = parse(input);
  if (typeof payload !== 'object' || payload === null || !Array.isArray((payload as Json).features)) return undefined;
  const features = (payload as Json).features as Json[];
  const proc = processFor(payload as Json, workflow);
  const wf = workflow || (typeof proc?.workflow === 'string' ? proc.workflow : '');
  const ids = features.map((f) => f?.id).filter((id): id is string => typeof id === 'string');
  if (!wf || ids.length === 0) return undefined;
  const own = features.map((f) => f?.collection).filter((c): c is string => typeof c === 'string');
  const chosen = Array.isArray(proc?.collections) ? (proc!.collections as unknown[]).filter((c): c is string => typeof c === 'string') : own;
  const collections = [...new Set(chosen)].sort();
  return `${collections.join('/')}/workflow-${wf}/${[...ids].sort().join('/')}`;
}

/** The payload id to record a claim under: the cirrus id, else a hash of the reference. */
export function derivePayloadId(input: string, workflow: string): string {
  const id = cirrusPayloadId(input, workflow);
  if (id) return id;
  const doc = parse(input);
  const ref = typeof doc === 'object' && doc !== null && typeof (doc as Json).url === 'string' ? (doc as Json).url as string : input;
  return `ref/workflow-${workflow}/${createHash('sha256').update(ref).digest('hex').slice(0, 32)}`;
}
