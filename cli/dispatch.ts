/**
 * Following a bare `{"url": "s3://..."}` reference: the ingress hands it to a `swoop-dispatch`
 * run, which reads the object and posts `{"url", "process"}` to the payload webhook with its
 * own run name as the Idempotency-Key (constructs/events/dispatch-script.cjs). The CLI reads
 * the same object (cli/output.ts, as `run --output` does) and hands the deployment's sensors
 * the request the dispatch will send, so it knows the run to follow before dispatch has run.
 */
import type { Simulator } from '../tools/simulator';
import { webhookHeaders } from './ingress';
import { CliError } from './io';
import { readUrl } from './output';
import { type PayloadDoc, type Prediction, predictWebhook } from './payloads';

/**
 * What the dispatch run will post for the payload at `url`, read now (before anything is sent):
 * a payload it would record INVALID is refused here with the reason.
 */
export async function readBareReference(url: string, where: string, signal?: AbortSignal): Promise<PayloadDoc> {
  const text = (await readUrl(url, `${where}: payload`, signal))!;
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new CliError(`${where}: the object at ${url} is not JSON; swoop-dispatch would record it INVALID, nothing sent`);
  }
  // What the dispatch script refuses (its processProblem) it records INVALID and forwards nothing.
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new CliError(`${where}: the object at ${url} is not a JSON object; swoop-dispatch would record it INVALID, nothing sent`);
  }
  const process = (payload as { process?: unknown }).process;
  if (process === undefined || process === null) {
    throw new CliError(`${where}: the payload at ${url} has no process block, so swoop-dispatch would record it INVALID; add "process", nothing sent`);
  }
  const body = { url, process };
  return { where: `${where} (${url})`, text: JSON.stringify(body), body };
}

/** The runs the dispatch run `dispatchRun` starts by posting `forwarded` (its run name is the Idempotency-Key). */
export function dispatchedRuns(sim: Simulator, forwarded: PayloadDoc, dispatchRun: string): Prediction['runs'] {
  // The headers the dispatch script posts with (the bearer token does not name runs).
  const prediction = predictWebhook(sim, forwarded, webhookHeaders(dispatchRun));
  if (prediction.dispatch) throw new CliError(`${forwarded.where}: routes to swoop-dispatch again; give it a process naming a workflow`);
  return prediction.runs;
}
