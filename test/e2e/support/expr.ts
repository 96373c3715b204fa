/**
 * The subset of expr-lang (github.com/expr-lang/expr) that Argo Workflows evaluates in
 * `{{=...}}` tags, `when` conditions, hook expressions and HTTP `successCondition`s, as far
 * as the generated templates use it. Semantics follow expr-lang and Argo's function map
 * (util/expr/env: `toJson`, `jsonpath`, `asFloat`, `asInt`; expr builtins `string`, `len`,
 * `fromJSON`). Anything else -- sprig, pipes, closures, `in`, ranges -- throws, naming what
 * the renderer does not support, so a generated template that needs more fails the test
 * instead of being evaluated wrongly.
 *
 * Deliberately stricter than Argo in one way: reading a key that does not exist is an error
 * (Argo yields nil and carries on), except on the left of `??`. A typo in a generated
 * expression must fail here, not silently send `null`.
 */
import { goFormatValue, goJsonMarshal } from '../../../tools/simulator/go-values';

type Value = unknown;
export type Env = Readonly<Record<string, unknown>>;

export class ExprError extends Error {
  constructor(message: string, expression: string) {
    super(`${message} (in expression: ${expression})`);
    this.name = 'ExprError';
  }
}

type Node =
  | { k: 'lit'; v: Value }
  | { k: 'id'; name: string }
  | { k: 'member'; obj: Node; prop: Node; text: string }
  | { k: 'call'; fn: Node; args: Node[]; text: string }
  | { k: 'unary'; op: string; arg: Node }
  | { k: 'bin'; op: string; l: Node; r: Node }
  | { k: 'cond'; test: Node; yes: Node; no: Node }
  | { k: 'map'; entries: [Node, Node][] }
  | { k: 'array'; items: Node[] };

interface Token {
  readonly t: 'num' | 'str' | 'id' | 'op' | 'eof';
  readonly v: string;
  readonly at: number;
}

const OPERATORS = ['??', '==', '!=', '<=', '>=', '&&', '||', '?.', '<', '>', '!', '+', '-', '*', '/', '%', '?', ':', '(', ')', '[', ']', '{', '}', ',', '.', '|'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[0], at: i });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') {
          const esc = src[j + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
          if (esc === undefined || !(esc in map)) throw new ExprError(`unsupported string escape \\${esc ?? ''}`, src);
          text += map[esc];
          j += 2;
        } else text += src[j++];
      }
      if (j >= src.length) throw new ExprError('unterminated string literal', src);
      out.push({ t: 'str', v: text, at: i });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0], at: i });
      i += m[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExprError(`unexpected character "${c}" at ${i}`, src);
    out.push({ t: 'op', v: op, at: i });
    i += op.length;
  }
  out.push({ t: 'eof', v: '', at: src.length });
  return out;
}

// expr-lang's binary precedence (parser/operator): ?? binds tightest, || loosest.
const BINARY: Record<string, number> = { '||': 10, or: 10, '&&': 15, and: 15, '==': 20, '!=': 20, '<': 20, '>': 20, '<=': 20, '>=': 20, '+': 30, '-': 30, '*': 60, '/': 60, '%': 60, '??': 500 };
const UNSUPPORTED_WORDS = new Set(['in', 'matches', 'contains', 'startsWith', 'endsWith', 'let', 'not']);

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[], private readonly src: string) {}

  parse(): Node {
    const node = this.expression();
    if (this.peek().t !== 'eof') this.fail(`unexpected "${this.peek().v}"`);
    return node;
  }

  private peek(): Token {
    return this.toks[this.pos]!;
  }

  private next(): Token {
    return this.toks[this.pos++]!;
  }

  private fail(message: string): never {
    throw new ExprError(`${message} at ${this.peek().at}`, this.src);
  }

  private expect(op: string): void {
    const t = this.next();
    if (t.t !== 'op' || t.v !== op) {
      this.pos--;
      this.fail(`expected "${op}"`);
    }
  }

  private isOp(op: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === op;
  }

  private expression(): Node {
    const test = this.binary(0);
    if (this.isOp('?')) {
      this.next();
      const yes = this.expression();
      this.expect(':');
      const no = this.expression();
      return { k: 'cond', test, yes, no };
    }
    return test;
  }

  private binary(minPrec: number): Node {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && t.v === '|') this.fail('pipes are not supported by the e2e renderer');
      if (t.t === 'id' && UNSUPPORTED_WORDS.has(t.v)) this.fail(`operator "${t.v}" is not supported by the e2e renderer`);
      const op = t.t === 'op' || t.t === 'id' ? t.v : '';
      const prec = BINARY[op];
      if (prec === undefined || prec < minPrec) return left;
      this.next();
      const right = this.binary(prec + 1);
      left = { k: 'bin', op: op === 'and' ? '&&' : op === 'or' ? '||' : op, l: left, r: right };
    }
  }

  private unary(): Node {
    if (this.isOp('!') || this.isOp('-') || this.isOp('+')) {
      const op = this.next().v;
      return { k: 'unary', op, arg: this.unary() };
    }
    return this.postfix(this.primary());
  }

  private postfix(node: Node): Node {
    for (;;) {
      const start = this.peek().at;
      if (this.isOp('?.')) this.fail('optional chaining is not supported by the e2e renderer');
      if (this.isOp('.')) {
        this.next();
        const name = this.next();
        if (name.t !== 'id') this.fail('expected a property name after "."');
        node = { k: 'member', obj: node, prop: { k: 'lit', v: name.v }, text: this.src.slice(0, this.peek().at) };
      } else if (this.isOp('[')) {
        this.next();
        const prop = this.expression();
        this.expect(']');
        node = { k: 'member', obj: node, prop, text: this.src.slice(0, this.peek().at) };
      } else if (this.isOp('(')) {
        this.next();
        const args: Node[] = [];
        while (!this.isOp(')')) {
          args.push(this.expression());
          if (!this.isOp(')')) this.expect(',');
        }
        this.expect(')');
        node = { k: 'call', fn: node, args, text: this.src.slice(start, this.peek().at) };
      } else return node;
    }
  }

  private primary(): Node {
    const t = this.next();
    if (t.t === 'num') return { k: 'lit', v: Number(t.v) };
    if (t.t === 'str') return { k: 'lit', v: t.v };
    if (t.t === 'id') {
      if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
      if (t.v === 'nil') return { k: 'lit', v: null };
      return { k: 'id', name: t.v };
    }
    if (t.t === 'op' && t.v === '(') {
      const inner = this.expression();
      this.expect(')');
      return inner;
    }
    if (t.t === 'op' && t.v === '{') {
      const entries: [Node, Node][] = [];
      while (!this.isOp('}')) {
        const key = this.next();
        if (key.t !== 'str' && key.t !== 'id' && key.t !== 'num') this.fail('expected a map key');
        this.expect(':');
        entries.push([{ k: 'lit', v: key.v }, this.expression()]);
        if (!this.isOp('}')) this.expect(',');
      }
      this.expect('}');
      return { k: 'map', entries };
    }
    if (t.t === 'op' && t.v === '[') {
      const items: Node[] = [];
      while (!this.isOp(']')) {
        items.push(this.expression());
        if (!this.isOp(']')) this.expect(',');
      }
      this.expect(']');
      return { k: 'array', items };
    }
    this.pos--;
    return this.fail(`unexpected "${t.v || 'end of expression'}"`);
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
        if (n.name === 'sprig') this.fail('sprig functions are not supported by the e2e renderer');
        if (!(n.name in this.env)) this.fail(`unknown name ${n.name}`);
        return this.env[n.name];
      case 'member': {
        const obj = this.eval(n.obj);
        const key = this.eval(n.prop);
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
    }
  }

  private binary(op: string, ln: Node, rn: Node): Value {
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

/** Evaluates one expression against `env` (nested maps, as Argo builds them). */
export function evaluate(expression: string, env: Env): Value {
  const ast = new Parser(tokenize(expression), expression).parse();
  return new Evaluator(env, expression).eval(ast);
}
