/**
 * The subset of expr-lang (github.com/expr-lang/expr) that Argo Workflows evaluates in
 * `{{=...}}` tags, `when` conditions, hook expressions and HTTP `successCondition`s, as far
 * as the generated templates use it. Semantics follow expr-lang and Argo's function map
 * (util/expr/env: `toJson`, `jsonpath`, `asFloat`, `asInt`; expr builtins `string`, `len`,
 * `fromJSON`; the operators `in`, `contains`, `startsWith`, `endsWith`, `matches` with Go's
 * RE2 patterns). It evaluates the AST of the library's expr-lang parser
 * (constructs/expressions/expr-lang.ts, the one synth checks use); anything else -- sprig,
 * pipes, closures, ranges -- throws, naming what the renderer does not support, so a
 * generated template that needs more fails the test instead of being evaluated wrongly.
 *
 * Deliberately stricter than Argo in one way: reading a key that does not exist is an error
 * (Argo yields nil and carries on), except on the left of `??`. A typo in a generated
 * expression must fail here, not silently send `null`.
 */
import { createHash } from 'node:crypto';
import { parseExpr, type ExprNode } from '../../../constructs/expressions/expr-lang';
import { goFormatValue, goJsonMarshal } from '../../../tools/simulator/go-values';

type Value = unknown;
export type Env = Readonly<Record<string, unknown>>;
type Node = ExprNode;

export class ExprError extends Error {
  constructor(message: string, expression: string) {
    super(`${message} (in expression: ${expression})`);
    this.name = 'ExprError';
  }
}

/** A key that is not there: only `??` may look at it. */
const MISSING = Symbol('missing');

type Fn = (args: Value[]) => Value;

const FUNCTIONS: Record<string, Fn> = {
  toJson: ([v]) => goJsonMarshal(v),
  string: ([v]) => goFormatValue(v),
  len: ([v]) => {
    if (typeof v === 'string') return [...v].length;
    if (Array.isArray(v)) return v.length;
    if (v !== null && typeof v === 'object') return Object.keys(v).length;
    throw new Error(`invalid argument for len (type ${typeof v})`);
  },
  fromJSON: ([v]) => JSON.parse(String(v)),
  asFloat: ([v]) => toNumber(v, 'asFloat'),
  asInt: ([v]) => Math.trunc(toNumber(v, 'asInt')),
  jsonpath: ([doc, path]) => jsonpath(String(doc), String(path)),
};

/**
 * The sprig functions the generated templates call (Argo exposes sprig as `sprig.*` in
 * expressions, util/expr/env): regexReplaceAll(regex, s, repl) is Go's
 * regexp.MustCompile(regex).ReplaceAllString(s, repl) with Go's `$` expansion; sha1sum is the hex SHA-1 of the string. Anything else throws.
 */
const SPRIG: Record<string, Fn> = {
  regexReplaceAll: ([re, s, repl]) => {
    const r = String(repl);
    return String(s).replace(new RegExp(String(re), 'g'), (...m: unknown[]) => {
      const groups = m.slice(0, typeof m[m.length - 1] === 'object' ? -3 : -2) as (string | undefined)[];
      // Go's Expand: `$$` is `$`; `$name` / `${name}` with the longest word-character name; a name
      // that is not a group (e.g. `1x` in `$1x`) expands to nothing.
      return r.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (_, whole: string, braced?: string, bare?: string) => {
        if (whole === '$') return '$';
        const name = braced ?? bare!;
        return /^\d+$/.test(name) ? groups[Number(name)] ?? '' : '';
      });
    });
  },
  sha1sum: ([s]) => createHash('sha1').update(String(s)).digest('hex'),
};

function toNumber(v: Value, fn: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) return Number(v);
  throw new Error(`${fn}: cannot convert ${JSON.stringify(v)} to a number`);
}

/** The JSONPath forms the templates use: `$`, `.name` and `['name']` / `[index]` steps. */
function jsonpath(doc: string, path: string): Value {
  let value: Value = JSON.parse(doc);
  const steps = /^\$((?:\.[A-Za-z_][A-Za-z0-9_-]*|\['[^']*'\]|\[\d+\])*)$/.exec(path);
  if (!steps) throw new Error(`jsonpath "${path}" uses syntax the e2e renderer does not support`);
  for (const m of steps[1]!.matchAll(/\.([A-Za-z_][A-Za-z0-9_-]*)|\['([^']*)'\]|\[(\d+)\]/g)) {
    const key = m[1] ?? m[2] ?? Number(m[3]);
    if (value === null || typeof value !== 'object' || !(key in (value as object))) {
      throw new Error(`jsonpath ${path}: unknown key ${String(key)}`);
    }
    value = (value as Record<string | number, Value>)[key];
  }
  return value;
}

function typeName(v: Value): string {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'map' : typeof v;
}

function equal(a: Value, b: Value): boolean {
  if (typeof a !== typeof b || a === null || b === null) return a === b;
  if (typeof a === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

class Evaluator {
  constructor(private readonly env: Env, private readonly src: string) {}

  eval(n: Node): Value {
    const v = this.value(n);
    if (v === MISSING) throw new ExprError(`${this.describe(n)} is not defined`, this.src);
    return v;
  }

  private fail(message: string): never {
    throw new ExprError(message, this.src);
  }

  private describe(n: Node): string {
    if (n.k === 'id') return n.name;
    if (n.k === 'member') return n.text.trim();
    return 'value';
  }

  private value(n: Node): Value | typeof MISSING {
    switch (n.k) {
      case 'lit':
        return n.v;
      case 'id':
        if (n.name in FUNCTIONS) return FUNCTIONS[n.name];
        if (n.name === 'sprig') return SPRIG;
        if (!(n.name in this.env)) this.fail(`unknown name ${n.name}`);
        return this.env[n.name];
      case 'member': {
        if (n.optional) this.fail('optional chaining is not supported by the e2e renderer');
        const obj = this.eval(n.obj);
        const key = this.eval(n.prop);
        if (obj === SPRIG && !Object.prototype.hasOwnProperty.call(SPRIG, String(key))) this.fail(`sprig.${String(key)} is not supported by the e2e renderer`);
        if (obj === null || typeof obj !== 'object') this.fail(`cannot fetch ${String(key)} from ${typeName(obj)} (${this.describe(n.obj)})`);
        if (Array.isArray(obj)) {
          if (typeof key !== 'number') this.fail(`array index must be a number, got ${typeName(key)}`);
          return key in obj ? obj[key] : MISSING;
        }
        return Object.prototype.hasOwnProperty.call(obj, String(key)) ? (obj as Record<string, Value>)[String(key)] : MISSING;
      }
      case 'call': {
        const fn = this.eval(n.fn);
        if (typeof fn !== 'function') this.fail(`${this.describe(n.fn)} is not a function`);
        const args = n.args.map((a) => this.eval(a));
        try {
          return (fn as Fn)(args);
        } catch (e) {
          return this.fail(`${this.describe(n.fn)}(): ${(e as Error).message}`);
        }
      }
      case 'unary': {
        const v = this.eval(n.arg);
        if (n.op === '!') {
          if (typeof v !== 'boolean') this.fail(`invalid operation: !${typeName(v)}`);
          return !v;
        }
        if (typeof v !== 'number') this.fail(`invalid operation: ${n.op}${typeName(v)}`);
        return n.op === '-' ? -v : v;
      }
      case 'cond': {
        const test = this.eval(n.test);
        if (typeof test !== 'boolean') this.fail(`non-bool ${typeName(test)} used as condition`);
        return test ? this.eval(n.yes) : this.eval(n.no);
      }
      case 'map':
        return Object.fromEntries(n.entries.map(([k, v]) => [String(this.eval(k)), this.eval(v)]));
      case 'array':
        return n.items.map((i) => this.eval(i));
      case 'bin':
        return this.binary(n.op, n.l, n.r);
      default:
        return this.fail(`${n.k === 'pipe' ? 'pipes' : n.k === 'closure' ? 'closures' : n.k === 'slice' ? 'slices' : 'let'} are not supported by the e2e renderer`);
    }
  }

  private binary(op: string, ln: Node, rn: Node): Value {
    if (!['??', '&&', '||', '==', '!=', '+', '-', '*', '/', '%', '<', '>', '<=', '>=', ...WORD_OPERATORS].includes(op)) this.fail(`operator "${op}" is not supported by the e2e renderer`);
    if (op === '??') {
      const l = this.value(ln);
      return l === MISSING || l === null ? this.eval(rn) : l;
    }
    if (op === '&&' || op === '||') {
      const l = this.eval(ln);
      if (typeof l !== 'boolean') this.fail(`invalid operation: ${typeName(l)} ${op} ...`);
      if (op === '&&' ? !l : l) return l;
      const r = this.eval(rn);
      if (typeof r !== 'boolean') this.fail(`invalid operation: ... ${op} ${typeName(r)}`);
      return r;
    }
    const l = this.eval(ln);
    const r = this.eval(rn);
    if (op === '==') return equal(l, r);
    if (op === '!=') return !equal(l, r);
    if (op === 'in') {
      if (Array.isArray(r)) return r.some((item) => equal(l, item));
      if (r !== null && typeof r === 'object') return Object.prototype.hasOwnProperty.call(r, String(l));
      this.fail(`invalid operation: ${typeName(l)} in ${typeName(r)}`);
    }
    if (WORD_OPERATORS.includes(op)) {
      if (typeof l !== 'string' || typeof r !== 'string') this.fail(`invalid operation: ${typeName(l)} ${op} ${typeName(r)}`);
      if (op === 'contains') return l.includes(r);
      if (op === 'startsWith') return l.startsWith(r);
      if (op === 'endsWith') return l.endsWith(r);
      return goRegExp(r, this.src).test(l);
    }
    if (op === '+' && typeof l === 'string' && typeof r === 'string') return l + r;
    if (typeof l === 'string' && typeof r === 'string' && ['<', '>', '<=', '>='].includes(op)) {
      return op === '<' ? l < r : op === '>' ? l > r : op === '<=' ? l <= r : l >= r;
    }
    if (typeof l !== 'number' || typeof r !== 'number') this.fail(`invalid operation: ${typeName(l)} ${op} ${typeName(r)}`);
    switch (op) {
      case '+':
        return l + r;
      case '-':
        return l - r;
      case '*':
        return l * r;
      case '/':
        return l / r;
      case '%':
        return l % r;
      case '<':
        return l < r;
      case '>':
        return l > r;
      case '<=':
        return l <= r;
      case '>=':
        return l >= r;
    }
    return this.fail(`unsupported operator ${op}`);
  }
}

const WORD_OPERATORS = ['in', 'contains', 'startsWith', 'endsWith', 'matches'];

/**
 * A Go (RE2) pattern as a JavaScript RegExp: the leading `(?i)` flag group becomes the `i`
 * flag; constructs RE2 lacks (lookaround, back-references) are refused, as Go refuses them.
 */
function goRegExp(pattern: string, src: string): RegExp {
  const insensitive = pattern.startsWith('(?i)');
  const body = insensitive ? pattern.slice(4) : pattern;
  if (/\(\?<?[=!]|\\[1-9]|\\k</.test(body)) throw new ExprError(`invalid regular expression for Go (RE2): ${pattern}`, src);
  return new RegExp(body, insensitive ? 'i' : '');
}

/** Evaluates one expression against `env` (nested maps, as Argo builds them). */
export function evaluate(expression: string, env: Env): Value {
  const ast = parseExpr(expression);
  return new Evaluator(env, expression).eval(ast);
}
