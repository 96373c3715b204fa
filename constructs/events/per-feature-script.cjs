// swoop-callback-<id>: the script of the platform WorkflowTemplate that delivers a SWOOP
// `perFeature` HTTP callback (docs/callbacks.md). It reads the finished run's output payload
// (SWOOP_PAYLOAD_FILE, downloaded by Argo from S3; or SWOOP_OUTPUT itself when the output is
// inline JSON), keeps the features the feature filter selects, and POSTs once per feature
// `{"feature": <the feature>, ...parameters}` with `Idempotency-Key: <run uid>/<callback>/<feature id>`,
// retrying each with backoff. A feature that still fails makes the script exit 1, so Argo
// retries the step; features already delivered are sent again under the same key, which the
// receiver uses to drop the repeat. Plain Node >= 20, no dependencies. Argo substitutes
// double-brace tags in script sources, so none may appear here.
'use strict';
const fs = require('node:fs');

const TIMEOUT_MS = Number(process.env.SWOOP_TIMEOUT_MS || 30000);
const ATTEMPTS = Number(process.env.SWOOP_ATTEMPTS || 4);
const BACKOFF_MS = Number(process.env.SWOOP_BACKOFF_MS || 1000);

function env(name) {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
  return value;
}

// ---- the feature filter: cirrus' jsonpath-ng filter dialect, as synthesis checks it ----
// (constructs/expressions/item-filter.ts): units `@<path> [op value]` joined by `&`, with
// parentheses; path steps .name .'quoted' ..name .* [*] ['a','b']; ops == = != < <= > >= =~.
// As jsonpath-ng: a unit holds when any value the path finds passes; an integer literal
// compares the value as int() (a value that is not one does not pass), a boolean as bool().
const PATH = /@(?:\.\.?(?:[A-Za-z_@][A-Za-z0-9_@-]*|'[^']*'|"[^"]*"|\*)|\[\s*(?:\*|(?:'[^']*'|"[^"]*")(?:\s*,\s*(?:'[^']*'|"[^"]*"))*)\s*\])*/y;
function tokenize(text) {
  const tokens = [];
  const re = /\s*(\(|\)|&|=~|==|!=|<=|>=|=|<|>|'[^']*'|"[^"]*"|-?\d+\.\d+|-?\d+|true|false|[A-Za-z_][A-Za-z0-9_-]*)/y;
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) { i++; continue; }
    if (text[i] === '@') {
      PATH.lastIndex = i;
      const m = PATH.exec(text);
      tokens.push({ path: m[0] });
      i = PATH.lastIndex;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw new Error(`feature filter "${text}": cannot read it at column ${i + 1}`);
    tokens.push({ t: m[1] });
    i = re.lastIndex;
  }
  return tokens;
}

function pathSteps(path) {
  const steps = [];
  const re = /(\.\.|\.)([A-Za-z_@][A-Za-z0-9_@-]*|'[^']*'|"[^"]*"|\*)|\[\s*([^\]]*)\]/g;
  let m;
  while ((m = re.exec(path.slice(1)))) {
    if (m[3] !== undefined) {
      const keys = m[3].trim() === '*' ? ['*'] : m[3].split(',').map((k) => k.trim().slice(1, -1));
      steps.push({ deep: false, keys });
    } else {
      const name = m[2].startsWith("'") || m[2].startsWith('"') ? m[2].slice(1, -1) : m[2];
      steps.push({ deep: m[1] === '..', keys: [name] });
    }
  }
  return steps;
}

function find(values, step) {
  const out = [];
  const take = (v) => {
    if (v === null || typeof v !== 'object') return;
    for (const k of step.keys) {
      if (k === '*') out.push(...(Array.isArray(v) ? v : Object.values(v)));
      else if (!Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, k)) out.push(v[k]);
    }
  };
  const walk = (v) => {
    take(v);
    if (v !== null && typeof v === 'object') for (const c of Array.isArray(v) ? v : Object.values(v)) walk(c);
  };
  for (const v of values) (step.deep ? walk : take)(v);
  return out;
}

function pyInt(v) {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return parseInt(v, 10);
  return undefined;
}

function compare(op, a, b) {
  if (op === '=~') return typeof a === 'string' && new RegExp(b).test(a);
  if (op === '=' || op === '==') return a === b || (typeof a === 'object' && JSON.stringify(a) === JSON.stringify(b));
  if (op === '!=') return !(a === b);
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return false; // Python refuses mixed orderings
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}

function compileFilter(text) {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos] && tokens[pos].t;
  const literal = (tok) => {
    if (!tok || tok.path) throw new Error(`feature filter "${text}": expected a value`);
    const t = tok.t;
    if (t.startsWith("'") || t.startsWith('"')) return { v: t.slice(1, -1) };
    if (t === 'true' || t === 'false') return { v: t === 'true', bool: true };
    if (/^-?\d+$/.test(t)) return { v: Number(t), int: true };
    if (/^-?\d+\.\d+$/.test(t)) return { v: Number(t) };
    return { v: t };
  };
  function unit() {
    const tok = tokens[pos++];
    if (tok && tok.t === '(') {
      const e = conj();
      if (!tokens[pos] || tokens[pos++].t !== ')') throw new Error(`feature filter "${text}": missing ")"`);
      return e;
    }
    if (!tok || !tok.path) throw new Error(`feature filter "${text}": expected @.path`);
    const steps = pathSteps(tok.path);
    const get = (f) => steps.reduce((vals, st) => find(vals, st), [f]);
    const op = peek();
    if (!['==', '=', '!=', '<', '<=', '>', '>=', '=~'].includes(op)) return (f) => get(f).length > 0;
    pos++;
    const lit = literal(tokens[pos++]);
    return (f) => get(f).some((x) => {
      const value = lit.int ? pyInt(x) : lit.bool ? Boolean(x) && !(Array.isArray(x) && x.length === 0) : x;
      return value !== undefined && compare(op, value, lit.v);
    });
  }
  function conj() {
    let left = unit();
    while (peek() === '&') {
      pos++;
      const l = left, r = unit();
      left = (f) => l(f) && r(f);
    }
    return left;
  }
  const e = conj();
  if (pos !== tokens.length) throw new Error(`feature filter "${text}": unexpected "${tokens[pos].t || tokens[pos].path}"`);
  return e;
}

function readPayload() {
  const output = env('SWOOP_OUTPUT');
  const text = output.trimStart().startsWith('{') ? output : fs.readFileSync(env('SWOOP_PAYLOAD_FILE'), 'utf8');
  const payload = JSON.parse(text);
  if (!payload || !Array.isArray(payload.features)) throw new Error(`the output payload at ${output.slice(0, 200)} has no features list`);
  return payload;
}

async function postOnce(url, method, headers, body) {
  const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) throw new Error(`answered ${res.status}`);
}

async function deliver(url, method, headers, body, what) {
  for (let attempt = 1; ; attempt++) {
    try {
      await postOnce(url, method, headers, body);
      return;
    } catch (e) {
      if (attempt >= ATTEMPTS) throw new Error(`${what}: ${method} ${url} failed ${attempt} times, last: ${e.message}`);
      await new Promise((r) => setTimeout(r, BACKOFF_MS * 2 ** (attempt - 1)));
    }
  }
}

async function main() {
  const url = env('SWOOP_CALLBACK_URL');
  const method = process.env.SWOOP_CALLBACK_METHOD || 'POST';
  const headers = { 'Content-Type': 'application/json', ...JSON.parse(process.env.SWOOP_CALLBACK_HEADERS || '{}') };
  if (process.env.SWOOP_CALLBACK_AUTH_HEADER) headers[process.env.SWOOP_CALLBACK_AUTH_HEADER] = env('SWOOP_CALLBACK_AUTH');
  const names = JSON.parse(process.env.SWOOP_PARAMETER_NAMES || '[]');
  const parameters = Object.fromEntries(names.map((n, i) => [n, process.env[`SWOOP_PARAMETER_${i}`] || '']));
  const keyPrefix = `${env('SWOOP_RUN_UID')}/${env('SWOOP_CALLBACK_ID')}`;
  const filter = process.env.SWOOP_FEATURE_FILTER ? compileFilter(process.env.SWOOP_FEATURE_FILTER) : () => true;
  const features = readPayload().features.filter((f) => filter(f));
  const failed = [];
  for (const [i, feature] of features.entries()) {
    const id = feature && feature.id !== undefined ? String(feature.id) : `#${i}`;
    try {
      await deliver(url, method, { ...headers, 'Idempotency-Key': `${keyPrefix}/${id}` }, JSON.stringify({ feature, ...parameters }), `feature ${id}`);
    } catch (e) {
      failed.push(e.message);
    }
  }
  process.stdout.write(`delivered ${features.length - failed.length} of ${features.length} selected features\n`);
  if (failed.length) throw new Error(failed.join('; '));
}

main().catch((e) => {
  process.stderr.write(`per-feature callback failed: ${e.message}\n`);
  process.exit(1);
});
