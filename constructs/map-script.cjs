// swoop-map: the script of a Map step's split and merge pods (constructs/map.ts), cirrus'
// split/merge pattern. Argo moves every object: it downloads the input payload (an optional
// S3 input artifact, absent for an inline payload) and the iterations' outputs, and uploads
// what the script writes (output artifacts), with the workflow's service account, so the
// script needs no AWS SDK.
// - split (SWOOP_MAP_MODE=split): the payload (inline SWOOP_INPUT, else SWOOP_PAYLOAD_FILE)
//   becomes one payload per iteration, `<SWOOP_SPLIT_DIR>/<index>.json`: the payload with
//   `features` = SWOOP_BATCH_SIZE (default 1) of its features, its `id` dropped (each is a
//   payload of its own), plus `base.json` (the payload with no features, what merge builds
//   on). SWOOP_ITEMS_FILE lists the iterations (Argo's withParam over it): their indexes,
//   ["00000", "00001", ...], or with SWOOP_ITEM_SELECTION ({"s0": ["properties", "x"]})
//   objects {"index": "00000", "s0": <the item's value at that path>}, a string as itself,
//   other JSON as its text, '' when absent. SWOOP_FEATURES_FILE gets the number of features.
// - merge (SWOOP_MAP_MODE=merge): the payload of `base.json` with the features of each of the
//   SWOOP_ITEM_COUNT iterations' output, the first of SWOOP_OUTPUT_PATHS present under
//   `<SWOOP_OUTPUTS_DIR>/<index>/`, in item order, written to SWOOP_MERGED_FILE. An iteration
//   with no output failed; its items count as failed items (SWOOP_FEATURE_COUNT features in
//   batches of SWOOP_BATCH_SIZE); more than SWOOP_TOLERATED_COUNT of them, or more than
//   SWOOP_TOLERATED_PERCENTAGE percent of the features, fails the step (each when given;
//   with neither, any failed iteration does).
// Runs as plain Node >= 20, no dependencies. Argo substitutes double-brace tags in script
// sources, so none may appear here.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function env(name) {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
  return value;
}

function count(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} is not a count: ${text}`);
  return value;
}

function readPayload() {
  const input = env('SWOOP_INPUT');
  if (input.trim().startsWith('{')) return JSON.parse(input);
  if (!/^s3:\/\//.test(input)) throw new Error(`the input ${input.slice(0, 200)} is neither an inline payload nor an s3:// URL; a Map step splits those two`);
  const file = env('SWOOP_PAYLOAD_FILE');
  if (!fs.existsSync(file)) throw new Error(`no payload object at ${input}`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function checkPayload(payload) {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new Error('the payload is not a JSON object');
  if (!Array.isArray(payload.features)) throw new Error('the payload has no features list (an ItemCollection is expected)');
}

const indexOf = (i) => String(i).padStart(5, '0');

/** The value at `keys` of `item` as Argo passes a parameter: a string as itself, other JSON as its text, '' when absent. */
function select(item, keys) {
  let value = item;
  for (const key of keys) value = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[key] : undefined;
  return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
}

function split() {
  const payload = readPayload();
  checkPayload(payload);
  const dir = env('SWOOP_SPLIT_DIR');
  const batch = count('SWOOP_BATCH_SIZE', 1);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`SWOOP_BATCH_SIZE is not a whole number of items: ${batch}`);
  const selection = process.env.SWOOP_ITEM_SELECTION ? JSON.parse(process.env.SWOOP_ITEM_SELECTION) : undefined;
  fs.mkdirSync(dir, { recursive: true });
  const { id: _id, features, ...rest } = payload;
  const items = [];
  for (let start = 0, i = 0; start < features.length; start += batch, i++) {
    const index = indexOf(i);
    const batchFeatures = features.slice(start, start + batch);
    fs.writeFileSync(path.join(dir, `${index}.json`), JSON.stringify({ ...rest, features: batchFeatures }));
    if (!selection) items.push(index);
    else items.push({ index, ...Object.fromEntries(Object.entries(selection).map(([key, keys]) => [key, select(batchFeatures[0], keys)])) });
  }
  fs.writeFileSync(path.join(dir, 'base.json'), JSON.stringify({ ...payload, features: [] }));
  fs.writeFileSync(env('SWOOP_ITEMS_FILE'), JSON.stringify(items));
  fs.writeFileSync(env('SWOOP_FEATURES_FILE'), String(features.length));
  process.stdout.write(`split ${features.length} item(s) into ${items.length} iteration(s)\n`);
}

function merge() {
  const base = JSON.parse(fs.readFileSync(env('SWOOP_BASE_FILE'), 'utf8'));
  const dir = env('SWOOP_OUTPUTS_DIR');
  const iterations = count('SWOOP_ITEM_COUNT');
  const total = count('SWOOP_FEATURE_COUNT', iterations);
  const batch = count('SWOOP_BATCH_SIZE', 1);
  if (iterations === undefined || !Number.isInteger(iterations)) throw new Error(`SWOOP_ITEM_COUNT is not a count: ${process.env.SWOOP_ITEM_COUNT}`);
  const candidates = JSON.parse(env('SWOOP_OUTPUT_PATHS'));
  const features = [];
  const failed = [];
  let failedItems = 0;
  for (let i = 0; i < iterations; i++) {
    const index = indexOf(i);
    const file = candidates.map((c) => path.join(dir, index, c)).find((f) => fs.existsSync(f));
    if (!file) {
      failed.push(index);
      failedItems += Math.max(0, Math.min(batch, total - i * batch));
      continue;
    }
    const output = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!output || !Array.isArray(output.features)) throw new Error(`the output of iteration ${index} is not an ItemCollection`);
    features.push(...output.features);
  }
  // Each tolerance given applies (exceeding either fails); none given tolerates no failure.
  const toleratedCount = count('SWOOP_TOLERATED_COUNT');
  const toleratedPercentage = count('SWOOP_TOLERATED_PERCENTAGE');
  if (failed.length) {
    const which = `iteration(s) ${failed.slice(0, 20).join(', ')}${failed.length > 20 ? ', ...' : ''} wrote no output payload (${candidates.join(' or ')})`;
    const percentage = total ? (failedItems * 100) / total : 0;
    const limits = [toleratedCount !== undefined ? `${toleratedCount} item(s)` : '', toleratedPercentage !== undefined ? `${toleratedPercentage}%` : ''].filter(Boolean).join(' and ') || 'none';
    const exceeded = (toleratedCount === undefined && toleratedPercentage === undefined) ||
      (toleratedCount !== undefined && failedItems > toleratedCount) || (toleratedPercentage !== undefined && percentage > toleratedPercentage);
    if (exceeded) throw new Error(`${which}: ${failedItems} of ${total} item(s) failed, more than tolerated (${limits})`);
    process.stdout.write(`${which}: ${failedItems} of ${total} item(s) failed, within the tolerance (${limits}); merging the others\n`);
  }
  const merged = { ...base, features };
  const out = env('SWOOP_MERGED_FILE');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(merged));
  process.stdout.write(`merged ${features.length} item(s) from ${iterations - failed.length} of ${iterations} iteration(s)\n`);
}

try {
  const mode = env('SWOOP_MAP_MODE');
  if (mode === 'split') split();
  else if (mode === 'merge') merge();
  else throw new Error(`SWOOP_MAP_MODE is ${mode}, not split or merge`);
} catch (e) {
  process.stderr.write(`swoop-map: ${e.message || e}\n`);
  process.exit(1);
}
