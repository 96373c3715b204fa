/**
 * The payload projections of a claimed run (constructs/payload.ts; docs/state.md, "Payload
 * projections"): the values of the workflow parameters its conditions read, computed from the
 * payload the run receives as `input`, once, before its Workflow is created:
 * - an inline payload (the ItemCollection's JSON): from it, with no I/O;
 * - a reference `{"url", "process"}` (ingress, a dispatched bare reference, a process-array
 *   chain): `process.tasks` from its `process`; the items from the object at `url`, read only
 *   when the declaration names them;
 * - a URL (a then() chain: the upstream run's output) or `{"url", "chain_filter"}`: from the
 *   object at the URL (items and process). The items of a filtered link are the task's to
 *   choose, so projecting them is refused (synth refuses that link too).
 * The same input and the same object give the same values (`projectPayload` is pure); the
 * objects are runs' outputs, written once, so a retried submission computes what the first did.
 */
import { PayloadUnavailable, PayloadUnreadable, type PayloadReader } from './payload-reader';
import { type PayloadDeclaration, projectPayload, readsItems } from '../constructs/payload';

/** What the run's `input` argument holds. */
interface Source {
  readonly inline?: Record<string, unknown>;
  readonly url?: string;
  /** `process` given beside `url`, which overrides the object's. */
  readonly process?: unknown;
  readonly filtered: boolean;
}

function sourceOf(input: string): Source {
  let doc: unknown;
  try {
    doc = JSON.parse(input);
  } catch {
    // Not JSON: a URL, as a then() link passes the upstream output.
    return { url: input.trim(), filtered: false };
  }
  if (typeof doc === 'string') return { url: doc, filtered: false };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PayloadUnreadable('the input is neither a payload (a JSON object) nor a URL of one');
  }
  const o = doc as Record<string, unknown>;
  if (typeof o.url === 'string') return { url: o.url, process: o.process, filtered: o.chain_filter !== undefined };
  return { inline: o, filtered: false };
}

/**
 * The values of `declaration` for a run of `workflow` with `input`. Throws PayloadUnreadable
 * (never projectable) or PayloadUnavailable (retry); without a reader (no PAYLOAD_STORE, a
 * deployment to fix) a payload that must be read is unavailable, like the Kubernetes API.
 */
export async function projectInput(input: string, declaration: PayloadDeclaration, workflow: string, reader: PayloadReader | undefined): Promise<Record<string, string>> {
  if (Object.keys(declaration).length === 0) return {};
  const source = sourceOf(input);
  if (source.inline) return projectPayload(source.inline, declaration, workflow);
  const items = readsItems(declaration);
  if (source.filtered && items) {
    throw new PayloadUnreadable('the input is a filtered then() link ({"url", "chain_filter"}), whose items the task chooses; the payload\'s items cannot be projected before it runs');
  }
  // Only process.tasks is declared and the reference carries process: nothing to read.
  if (!items && source.process !== undefined) return projectPayload({ process: source.process }, declaration, workflow);
  if (!reader) throw new PayloadUnavailable(`the payload is passed by URL (${source.url!.slice(0, 200)}) and this state service has no PAYLOAD_STORE to read it from`);
  const object = await reader.read(source.url!);
  return projectPayload(source.process !== undefined ? { ...object, process: source.process } : object, declaration, workflow);
}
