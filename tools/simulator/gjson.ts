/**
 * The subset of GJSON path syntax (github.com/tidwall/gjson, the library Argo Events uses for
 * data filter paths and `dataKey`) that the simulator understands, evaluated on JSON *text* as
 * gjson does (json-text.ts): dot/pipe components with `\` escapes and `*`/`?` wildcards, array
 * indexes, `#` (length, and `#.key` mapping over an array; on an object `#` is an ordinary
 * key), multipaths `[a,b]` / `{"k":a}` (non-existent members are left out) and the modifiers
 * `@this`, `@fromstr` and `@tostr`. Anything else (queries `#(...)`, other modifiers) throws
 * instead of guessing. test/events/oracle.test.ts holds it against the real gjson.
 */
import { type JsonNode, parseJsonText } from './json-text';

/** gjson's Result types, named as `Result.Type.String()` names them (params.go compares those names). */
export type GjsonType = 'Null' | 'False' | 'Number' | 'String' | 'True' | 'JSON';

export interface PathResult {
  readonly exists: boolean;
  /** The value found (undefined when the path does not exist). */
  readonly node?: JsonNode;
}

const MISSING: PathResult = { exists: false };

/** gjson `Get(json, path)` on JSON text; a non-string value is read as its JSON text. */
export function getPath(json: string | object, path: string): PathResult {
  if (path === '') return MISSING;
  return fromText(typeof json === 'string' ? json : JSON.stringify(json), path);
}

/** gjson `Parse(json)`. */
export function parseResult(json: string): PathResult {
  const node = parseJsonText(json);
  return node ? { exists: true, node } : MISSING;
}

function fromText(text: string, path: string): PathResult {
  const root = parseJsonText(text);
  return root ? walk({ exists: true, node: root }, path) : MISSING;
}

export function resultType(r: PathResult): GjsonType {
  switch (r.node?.t) {
    case 'object':
    case 'array':
      return 'JSON';
    case 'string':
      return 'String';
    case 'number':
      return 'Number';
    case 'true':
      return 'True';
    case 'false':
      return 'False';
    default:
      return 'Null';
  }
}

/** gjson `Result.Raw`: the value's text as it stands in the input ('' when missing). */
export function rawJson(r: PathResult): string {
  return r.node?.raw ?? '';
}

/**
 * gjson `Result.String()`: strings decoded, JSON text for objects/arrays, "" for null or
 * missing; a number keeps its spelling when it is all digits, else prints as
 * `strconv.FormatFloat(n, 'f', -1, 64)` (1e21 -> 1000000000000000000000, 1.50 -> 1.5).
 */
export function resultString(r: PathResult): string {
  const node = r.node;
  if (!node) return '';
  switch (node.t) {
    case 'string':
      return node.str;
    case 'number':
      return /^-?\d+$/.test(node.raw) ? node.raw : formatFloatF(node.num);
    case 'true':
    case 'false':
      return node.t;
    case 'null':
      return '';
    default:
      return node.raw;
  }
}

/** `strconv.FormatFloat(n, 'f', -1, 64)`: the shortest decimal that reads back as n, never an exponent. */
export function formatFloatF(n: number): string {
  if (Object.is(n, -0)) return '-0';
  const text = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([-+]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, first, rest = '', expText] = m;
  const digits = first + rest;
  const exp = Number(expText);
  if (exp >= 0) return sign + digits.padEnd(exp + 1, '0');
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

/** gjson `Result.Float()`: numbers as parsed, strings by strconv.ParseFloat (0 when it fails), true as 1. */
export function resultFloat(r: PathResult): number {
  const node = r.node;
  if (!node) return 0;
  if (node.t === 'number') return node.num;
  if (node.t === 'true') return 1;
  if (node.t === 'string') return goParseFloat(node.str) ?? 0;
  return 0;
}

/** strconv.ParseFloat(s, 64), undefined where Go reports a syntax error. */
export function goParseFloat(s: string): number | undefined {
  if (/^[-+]?(?:\d+(?:_\d+)*\.?(?:\d+(?:_\d+)*)?|\.\d+(?:_\d+)*)(?:[eE][-+]?\d+)?$/.test(s)) return Number(s.replace(/_/g, ''));
  if (/^[-+]?(?:inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  return undefined;
}

/** gjson `Result.Bool()`. */
export function resultBool(r: PathResult): boolean {
  const node = r.node;
  if (!node) return false;
  if (node.t === 'true') return true;
  if (node.t === 'number') return node.num !== 0;
  if (node.t === 'string') return ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(node.str);
  return false;
}

/**
 * gjson `Result.Value()`, the decoded value templates see: objects become maps where a
 * repeated key keeps its first value (as Get finds it), numbers float64.
 */
export function resultValue(r: PathResult): unknown {
  return r.node ? nodeValue(r.node) : undefined;
}

function nodeValue(node: JsonNode): unknown {
  switch (node.t) {
    case 'object': {
      const map: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const [k, v] of node.entries) if (!(k in map)) map[k] = nodeValue(v);
      return map;
    }
    case 'array':
      return node.items.map(nodeValue);
    case 'string':
      return node.str;
    case 'number':
      return node.num;
    case 'true':
      return true;
    case 'false':
      return false;
    default:
      return null;
  }
}

/** A result computed from JSON text (gjson parses what a modifier or multipath produced). */
function textResult(text: string): PathResult {
  return parseResult(text);
}

function walk(current: PathResult, path: string): PathResult {
  if (!current.exists || !current.node) return MISSING;
  if (path === '') return current;
  const node = current.node;
  if (path[0] === '@') {
    const { name, arg, rest } = splitModifier(path);
    const out = applyModifier(node, name, arg);
    if (rest === '') return textResult(out);
    if (rest[0] === '.' || rest[0] === '|') return fromText(out, rest.slice(1));
    throw new Error(`unexpected "${rest}" in gjson path`);
  }
  if (path[0] === '[' || path[0] === '{') {
    const end = closingIndex(path);
    const built = multipath(node, path.slice(1, end), path[0] === '{');
    return continueAfter(textResult(built), path.slice(end + 1));
  }
  const { component, sep, rest } = nextComponent(path);
  if (component.startsWith('#(')) throw new Error(`gjson queries ("${component}") are not supported by the simulator`);
  if (component === '#' && node.t === 'array') {
    // gjson cannot count or map an array whose text ends inside a string (it can still index it).
    if (!node.countable) return MISSING;
    if (sep === '') return textResult(String(node.items.length));
    if (sep === '|') return walk(textResult(String(node.items.length)), rest);
    // `#.x` maps the rest of the path (up to the next top-level pipe) over the elements.
    const { mapped, piped } = splitAtPipe(rest);
    const raws = node.items.map((el) => walk({ exists: true, node: el }, mapped)).filter((r) => r.exists).map(rawOrString);
    const values = textResult(`[${raws.join(',')}]`);
    return piped === undefined ? values : walk(values, piped);
  }
  const child = childOf(node, component);
  return sep === '' ? child : walk(child, rest);
}

/** What a multipath or `#.` map writes for a member: its raw text, or its string form for a computed value. */
function rawOrString(r: PathResult): string {
  return rawJson(r) || resultString(r) || 'null';
}

function continueAfter(result: PathResult, rest: string): PathResult {
  if (rest === '') return result;
  if (rest[0] === '.' || rest[0] === '|') return walk(result, rest.slice(1));
  throw new Error(`unexpected "${rest}" in gjson path`);
}

function childOf(node: JsonNode, component: string): PathResult {
  if (node.t === 'array') {
    if (!/^\d+$/.test(component)) return MISSING;
    const item = node.items[Number(component)];
    return item ? { exists: true, node: item } : MISSING;
  }
  if (node.t === 'object') {
    const matcher = keyMatcher(component);
    for (const [key, value] of node.entries) if (matcher(key)) return { exists: true, node: value };
  }
  return MISSING;
}

function keyMatcher(component: string): (key: string) => boolean {
  let pattern = '';
  let wild = false;
  for (let i = 0; i < component.length; i++) {
    const c = component[i];
    if (c === '\\' && i + 1 < component.length) pattern += escapeRegex(component[++i]);
    else if (c === '*') (pattern += '[\\s\\S]*'), (wild = true);
    else if (c === '?') (pattern += '[\\s\\S]'), (wild = true);
    else pattern += escapeRegex(c);
  }
  if (!wild) {
    const literal = component.replace(/\\(.)/g, '$1');
    return (key) => key === literal;
  }
  const re = new RegExp(`^${pattern}$`);
  return (key) => re.test(key);
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Splits the first component off: it ends at an unescaped `.` or `|` outside brackets. */
function nextComponent(path: string): { component: string; sep: string; rest: string } {
  let depth = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\') i++;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && (c === '.' || c === '|')) return { component: path.slice(0, i), sep: c, rest: path.slice(i + 1) };
  }
  return { component: path, sep: '', rest: '' };
}

function splitAtPipe(path: string): { mapped: string; piped?: string } {
  let depth = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\') i++;
    else if (c === '"') i = skipString(path, i);
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && c === '|') return { mapped: path.slice(0, i), piped: path.slice(i + 1) };
  }
  return { mapped: path };
}

function skipString(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  throw new Error(`unterminated string in gjson path "${s}"`);
}

function closingIndex(path: string): number {
  let depth = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\') i++;
    else if (c === '"') i = skipString(path, i);
    else if (c === '[' || c === '{' || c === '(') depth++;
    else if (c === ']' || c === '}' || c === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new Error(`unbalanced brackets in gjson path "${path}"`);
}

function multipath(node: JsonNode, inner: string, asObject: boolean): string {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '\\') i++;
    else if (c === '"') i = skipString(inner, i);
    else if (c === '[' || c === '{' || c === '(') depth++;
    else if (c === ']' || c === '}' || c === ')') depth--;
    else if (c === ',' && depth === 0) (parts.push(inner.slice(start, i)), (start = i + 1));
  }
  parts.push(inner.slice(start));
  const members: string[] = [];
  for (const part of parts.map((p) => p.trim()).filter(Boolean)) {
    const { key, path } = splitKey(part);
    const r = walk({ exists: true, node }, path);
    if (!r.exists) continue;
    members.push(asObject ? `${JSON.stringify(key ?? lastName(path))}:${rawOrString(r)}` : rawOrString(r));
  }
  return asObject ? `{${members.join(',')}}` : `[${members.join(',')}]`;
}

function splitKey(part: string): { key?: string; path: string } {
  if (part[0] === '"') {
    const end = skipString(part, 0);
    if (part[end + 1] === ':') return { key: JSON.parse(part.slice(0, end + 1)) as string, path: part.slice(end + 2) };
  }
  const colon = part.indexOf(':');
  if (colon > 0 && !part.slice(0, colon).includes('@')) return { key: part.slice(0, colon), path: part.slice(colon + 1) };
  return { path: part };
}

function lastName(path: string): string {
  for (let i = path.length - 1; i >= 0; i--) {
    if ((path[i] === '.' || path[i] === '|') && path[i - 1] !== '\\') return simpleOrUnderscore(path.slice(i + 1));
  }
  return simpleOrUnderscore(path);
}

function simpleOrUnderscore(name: string): string {
  return /[[\]{}()#|!]/.test(name) ? '_' : name;
}

function splitModifier(path: string): { name: string; arg?: string; rest: string } {
  const m = /^@([A-Za-z]+)/.exec(path);
  if (!m) throw new Error(`bad gjson modifier in "${path}"`);
  let i = m[0].length;
  let arg: string | undefined;
  if (path[i] === ':') {
    const start = i + 1;
    if (path[start] === '{' || path[start] === '[') i = closingIndex(path.slice(start)) + start + 1;
    else {
      i = start;
      while (i < path.length && path[i] !== '.' && path[i] !== '|') i++;
    }
    arg = path.slice(start, i);
  }
  return { name: m[1], arg, rest: path.slice(i) };
}

/** A modifier's output text, as gjson's modifier functions return it. */
function applyModifier(node: JsonNode, name: string, arg: string | undefined): string {
  switch (name) {
    case 'this':
      return node.raw;
    case 'fromstr': {
      // modFromStr: valid JSON in, Parse(json).String() out, which any later path reads leniently.
      try {
        JSON.parse(node.raw);
      } catch {
        return '';
      }
      return resultString({ exists: true, node });
    }
    case 'tostr':
      return appendJsonString(node.raw);
    default:
      throw new Error(`gjson modifier @${name}${arg ? `:${arg}` : ''} is not supported by the simulator`);
  }
}

/** gjson `AppendJSONString`: control characters, quotes, backslashes and <, >, & escaped. */
function appendJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20) out += ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' } as Record<string, string>)[ch] ?? `\\u${code.toString(16).padStart(4, '0')}`;
    else if (ch === '<' || ch === '>' || ch === '&' || ch === '\u2028' || ch === '\u2029') out += `\\u${code.toString(16).padStart(4, '0')}`;
    else if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else out += ch;
  }
  return `${out}"`;
}
