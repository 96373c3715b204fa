// swoop-map: the script of a Map step's split and merge pods (constructs/map.ts), cirrus'
// split/merge pattern. Argo moves every object: it downloads the input payload (an optional
// S3 input artifact, absent for an inline payload) and the iterations' outputs, and uploads
// what the script writes (output artifacts), with the workflow's service account, so the
// script needs no AWS SDK.
// - split (SWOOP_MAP_MODE=split): the payload (inline SWOOP_INPUT, else SWOOP_PAYLOAD_FILE)
//   becomes one single-item payload per feature, `<SWOOP_SPLIT_DIR>/<index>.json` (the payload
//   with `features: [item]`, its `id` dropped: each is a payload of its own), plus `base.json`
//   (the payload with no features, what merge builds on); SWOOP_ITEMS_FILE lists the
//   iterations' indexes, ["00000", "00001", ...] (Argo's withParam over it).
// - merge (SWOOP_MAP_MODE=merge): the payload of `base.json` with the features of every
//   SWOOP_ITEM_COUNT iterations, `<SWOOP_OUTPUTS_DIR>/<index>/output.json`, in item order,
//   written to SWOOP_MERGED_FILE. A missing output (an iteration that wrote nothing) fails the step.
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

function split() {
  const payload = readPayload();
  checkPayload(payload);
  const dir = env('SWOOP_SPLIT_DIR');
  fs.mkdirSync(dir, { recursive: true });
  const { id: _id, features, ...rest } = payload;
  const items = features.map((feature, i) => {
    const index = indexOf(i);
    fs.writeFileSync(path.join(dir, `${index}.json`), JSON.stringify({ ...rest, features: [feature] }));
    return index;
  });
  fs.writeFileSync(path.join(dir, 'base.json'), JSON.stringify({ ...payload, features: [] }));
  fs.writeFileSync(env('SWOOP_ITEMS_FILE'), JSON.stringify(items));
  process.stdout.write(`split ${items.length} item(s)\n`);
}

function merge() {
  const base = JSON.parse(fs.readFileSync(env('SWOOP_BASE_FILE'), 'utf8'));
  const dir = env('SWOOP_OUTPUTS_DIR');
  const count = Number(env('SWOOP_ITEM_COUNT'));
  if (!Number.isInteger(count) || count < 0) throw new Error(`SWOOP_ITEM_COUNT is not a count: ${process.env.SWOOP_ITEM_COUNT}`);
  const features = [];
  for (let i = 0; i < count; i++) {
    const index = indexOf(i);
    const file = path.join(dir, index, 'output.json');
    if (!fs.existsSync(file)) throw new Error(`iteration ${index} wrote no output payload (${file})`);
    const output = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!output || !Array.isArray(output.features)) throw new Error(`the output of iteration ${index} is not an ItemCollection`);
    features.push(...output.features);
  }
  const merged = { ...base, features };
  const out = env('SWOOP_MERGED_FILE');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(merged));
  process.stdout.write(`merged ${features.length} item(s) from ${count} iteration(s)\n`);
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
