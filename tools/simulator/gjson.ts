/**
 * The subset of GJSON path syntax (github.com/tidwall/gjson, the library Argo Events uses for
 * data filter paths and `dataKey`) that the simulator understands: dot/pipe components with
 * `\` escapes and `*`/`?` wildcards, array indexes, `#` (length) and `#.key` (map over an
 * array), multipaths `[a,b]` / `{"k":a}` (non-existent members are left out), and the
 * modifiers `@this`, `@fromstr`, `@tostr`, `@reverse`, `@keys`, `@values`, `@flatten`.
 * Anything else (queries `#(...)`, other modifiers) throws instead of guessing.
 */

export interface PathResult {
  readonly exists: boolean;
  /** The decoded JSON value (undefined when the path does not exist). */
  readonly value: unknown;
}

const MISSING: PathResult = { exists: false, value: undefined };

export function getPath(value: unknown, path: string): PathResult {
  if (path === '') return MISSING;
  return walk({ exists: true, value }, path);
}

/** gjson `Result.String()`: strings unquoted, JSON for objects/arrays/numbers/booleans, "" for null or missing. */
export function resultString(r: PathResult): string {
  if (!r.exists || r.value === null) return '';
  if (typeof r.value === 'string') return r.value;
  return rawJson(r.value);
}

/** gjson `Result.Raw`: the JSON text of the value (compact; the original spacing is not kept). */
export function rawJson(value: unknown): string {
  return JSON.stringify(value) ?? '';
}

/** gjson `Result.Float()`. */
export function resultFloat(r: PathResult): number {
  const v = r.value;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number.parseFloat(v);
    return Number.isNaN(n) ? 0 : n;
  }
  return 0;
}

/** gjson `Result.Bool()`. */
export function resultBool(r: PathResult): boolean {
  const v = r.value;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);
  return false;
}

function walk(current: PathResult, path: string): PathResult {
  if (!current.exists) return MISSING;
  if (path === '') return current;
  if (path[0] === '@') {
    const { name, arg, rest } = splitModifier(path);
    return continueAfter(applyModifier(current.value, name, arg), rest);
  }
  if (path[0] === '[' || path[0] === '{') {
    const end = closingIndex(path);
    const inner = path.slice(1, end);
    const built = multipath(current.value, inner, path[0] === '{');
    return continueAfter({ exists: true, value: built }, path.slice(end + 1));
  }
  const { component, sep, rest } = nextComponent(path);
  if (component.startsWith('#(')) throw new Error(`gjson queries ("${component}") are not supported by the simulator`);
  if (component === '#') {
    if (!Array.isArray(current.value)) return MISSING;
    if (sep === '' ) return { exists: true, value: current.value.length };
    if (sep === '|') return walk({ exists: true, value: current.value.length }, rest);
    // `#.x` maps the rest of the path (up to the next top-level pipe) over the elements.
    const { mapped, piped } = splitAtPipe(rest);
    const values = current.value.map((el) => walk({ exists: true, value: el }, mapped)).filter((r) => r.exists).map((r) => r.value);
    return piped === undefined ? { exists: true, value: values } : walk({ exists: true, value: values }, piped);
  }
  const child = childOf(current.value, component);
  return sep === '' ? child : walk(child, rest);
}

function continueAfter(result: PathResult, rest: string): PathResult {
  if (rest === '') return result;
  if (rest[0] === '.' || rest[0] === '|') return walk(result, rest.slice(1));
  throw new Error(`unexpected "${rest}" in gjson path`);
}

function childOf(value: unknown, component: string): PathResult {
  if (Array.isArray(value)) {
    if (!/^\d+$/.test(component)) return MISSING;
    const i = Number(component);
    return i < value.length ? { exists: true, value: value[i] } : MISSING;
  }
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const matcher = keyMatcher(component);
    for (const key of Object.keys(obj)) if (matcher(key)) return { exists: true, value: obj[key] };
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

function multipath(value: unknown, inner: string, asObject: boolean): unknown {
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
  const array: unknown[] = [];
  const object: Record<string, unknown> = {};
  for (const part of parts.map((p) => p.trim()).filter(Boolean)) {
    const { key, path } = splitKey(part);
    const r = getPath(value, path);
    if (!r.exists) continue;
    if (asObject) object[key ?? lastName(path)] = r.value;
    else array.push(r.value);
  }
  return asObject ? object : array;
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

function applyModifier(value: unknown, name: string, arg: string | undefined): PathResult {
  switch (name) {
    case 'this':
      return { exists: true, value };
    case 'fromstr': {
      if (typeof value !== 'string') return MISSING;
      try {
        return { exists: true, value: JSON.parse(value) as unknown };
      } catch {
        return MISSING;
      }
    }
    case 'tostr':
      return { exists: true, value: rawJson(value) };
    case 'reverse':
      if (Array.isArray(value)) return { exists: true, value: [...value].reverse() };
      if (value && typeof value === 'object') return { exists: true, value: Object.fromEntries(Object.entries(value).reverse()) };
      return { exists: true, value };
    case 'keys':
      return value && typeof value === 'object' && !Array.isArray(value) ? { exists: true, value: Object.keys(value) } : { exists: true, value: [] };
    case 'values':
      return value && typeof value === 'object' && !Array.isArray(value) ? { exists: true, value: Object.values(value) } : { exists: true, value: [] };
    case 'flatten':
      return Array.isArray(value) ? { exists: true, value: value.flatMap((v) => (Array.isArray(v) ? v : [v])) } : { exists: true, value };
    default:
      throw new Error(`gjson modifier @${name}${arg ? `:${arg}` : ''} is not supported by the simulator`);
  }
}
