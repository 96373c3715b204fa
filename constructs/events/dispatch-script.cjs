// swoop-dispatch: the script of the platform WorkflowTemplate that routes payloads passed by
// bare reference ({"url": "s3://bucket/key.json"}, cirrus' form for payloads over ~120 KB).
// Argo has already downloaded the object to SWOOP_PAYLOAD_FILE (an optional input artifact:
// absent when there is no such object). The script takes the payload's `process` and posts
// {"url", "process"} to the payload webhook, where the normal routing takes over. A payload
// that cannot be routed is recorded INVALID with the state service and the script exits 0;
// an HTTP failure exits 1 so Argo retries the step (the exit handler records what is left).
// Runs as plain Node >= 20 (global fetch), no dependencies. Argo substitutes double-brace
// tags in script sources, so none may appear here.
'use strict';
const fs = require('node:fs');

const TIMEOUT_MS = 15000;

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/**
 * Why the payload cannot be forwarded, or undefined. Only a missing `process` is refused here:
 * the sensor judges the rest (unknown or malformed workflow names are recorded INVALID there),
 * and forwarding {"url"} alone would come back here forever.
 */
function processProblem(payload) {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return 'the object is not a JSON object';
  if (payload.process === undefined || payload.process === null) return 'the payload has no process block';
  return undefined;
}

async function post(url, headers, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (res.status < 200 || res.status > 299) {
    throw new Error(`POST ${url} answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
  }
}

async function recordInvalid(message, detail) {
  await post(`${env('SWOOP_STATE_URL').replace(/\/+$/, '')}/events`, { Authorization: env('SWOOP_STATE_AUTHORIZATION') }, {
    type: 'invalid',
    source: process.env.SWOOP_SOURCE || 'swoop-dispatch',
    message,
    input: env('SWOOP_INPUT'),
    detail,
  });
  process.stdout.write(`recorded INVALID: ${message}${detail ? ` (${detail})` : ''}\n`);
}

async function main() {
  const url = env('SWOOP_URL');
  const file = env('SWOOP_PAYLOAD_FILE');
  if (!fs.existsSync(file)) {
    await recordInvalid(`no payload object at ${url}`, 'the referenced S3 object does not exist');
    return;
  }
  let payload;
  try {
    payload = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    await recordInvalid(`the payload at ${url} is not JSON`, String(e.message || e));
    return;
  }
  const problem = processProblem(payload);
  if (problem) {
    await recordInvalid(`the payload at ${url} cannot be routed: ${problem}`, '');
    return;
  }
  // The run's name keys the delivery: a retry of this step reposts under the same key.
  const idempotency = process.env.SWOOP_DELIVERY_ID ? { 'Idempotency-Key': process.env.SWOOP_DELIVERY_ID } : {};
  await post(env('SWOOP_WEBHOOK_URL'), { Authorization: `Bearer ${env('SWOOP_WEBHOOK_TOKEN')}`, ...idempotency }, { url, process: payload.process });
  process.stdout.write(`forwarded ${url} with its process block\n`);
}

main().catch((e) => {
  process.stderr.write(`swoop-dispatch: ${e.message || e}\n`);
  process.exitCode = 1;
});
