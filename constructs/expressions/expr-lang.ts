/**
 * A parser for expr-lang (github.com/expr-lang/expr), the language Argo Workflows evaluates
 * in `{{=...}}` tags and in `when` conditions written as one such tag. It accepts the
 * language's syntax (literals incl. backtick strings, `in`/`not in`/`matches`/`contains`/
 * `startsWith`/`endsWith`, `..` ranges, `**`, `??`, `?:`, `?.`, slices, pipes `|`,
 * predicates `{# > 0}`, `let`, `if {} else {}`, comments) and builds an AST; whether the
 * names exist and types fit is Argo's business at run time. Synth checks use it for syntax
 * only; the e2e renderer (test/e2e/support/expr.ts) evaluates the AST it builds.
 */

export type ExprNode =
  | { readonly k: 'lit'; readonly v: unknown }
  | { readonly k: 'id'; readonly name: string }
  | { readonly k: 'member'; readonly obj: ExprNode; readonly prop: ExprNode; readonly optional: boolean; readonly text: string }
  | { readonly k: 'slice'; readonly obj: ExprNode; readonly from?: ExprNode; readonly to?: ExprNode }
  | { readonly k: 'call'; readonly fn: ExprNode; readonly args: ExprNode[]; readonly text: string }
  | { readonly k: 'unary'; readonly op: string; readonly arg: ExprNode }
  | { readonly k: 'bin'; readonly op: string; readonly l: ExprNode; readonly r: ExprNode }
  | { readonly k: 'cond'; readonly test: ExprNode; readonly yes: ExprNode; readonly no: ExprNode }
  | { readonly k: 'map'; readonly entries: [ExprNode, ExprNode][] }
  | { readonly k: 'array'; readonly items: ExprNode[] }
  | { readonly k: 'closure'; readonly body: ExprNode }
  | { readonly k: 'pipe'; readonly value: ExprNode; readonly call: ExprNode }
  | { readonly k: 'let'; readonly name: string; readonly value: ExprNode; readonly body: ExprNode };

/** A syntax error; `at` is the 0-based offset in the expression. */
export class ExprSyntaxError extends Error {
  constructor(public readonly reason: string, public readonly at: number, public readonly expression: string) {
    super(`${reason} at column ${at + 1} (in expression: ${expression})`);
    this.name = 'ExprSyntaxError';
  }
}

interface Token {
  readonly t: 'num' | 'str' | 'id' | 'op' | 'eof';
  readonly v: string;
  /** String literals: the decoded value. */
  readonly value?: string;
  readonly at: number;
}

const OPERATORS = [
  '...', '??', '==', '!=', '<=', '>=', '&&', '||', '?.', '**', '..', '<', '>', '!', '+', '-', '*', '/', '%', '^',
  '?', ':', '(', ')', '[', ']', '{', '}', ',', '.', '|', ';', '=', '#',
];
const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"' };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (reason: string, at: number): never => {
    throw new ExprSyntaxError(reason, at, src);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (src.startsWith('//', i)) {
      const end = src.indexOf('\n', i);
      i = end < 0 ? src.length : end;
      continue;
    }
    if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated comment', i);
      i = end + 2;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? '') && src[i - 1] !== '.')) {
      const m = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*(?:\.[0-9][0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?)/.exec(src.slice(i))!;
      if (/[A-Za-z_]/.test(src[i + m[0].length] ?? '')) fail(`invalid number "${src.slice(i, i + m[0].length + 1)}"`, i);
      out.push({ t: 'num', v: m[0], at: i });
      i += m[0].length;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) fail('unterminated string literal', i);
      out.push({ t: 'str', v: src.slice(i, end + 1), value: src.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') {
          const esc = src[j + 1];
          if (esc !== undefined && esc in ESCAPES) {
            text += ESCAPES[esc];
            j += 2;
          } else if (esc === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(j + 2, j + 4))) {
            text += String.fromCharCode(parseInt(src.slice(j + 2, j + 4), 16));
            j += 4;
          } else if (esc === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(j + 2, j + 6))) {
            text += String.fromCharCode(parseInt(src.slice(j + 2, j + 6), 16));
            j += 6;
          } else if (esc === 'U' && /^[0-9a-fA-F]{8}$/.test(src.slice(j + 2, j + 10))) {
            text += String.fromCodePoint(parseInt(src.slice(j + 2, j + 10), 16));
            j += 10;
          } else if (esc !== undefined && /^[0-7]{3}$/.test(src.slice(j + 1, j + 4))) {
            text += String.fromCharCode(parseInt(src.slice(j + 1, j + 4), 8));
            j += 4;
          } else {
            fail(`invalid escape \\${esc ?? ''} in string literal`, j);
          }
        } else if (src[j] === '\n') {
          fail('newline in string literal', j);
        } else text += src[j++];
      }
      if (j >= src.length) fail('unterminated string literal', i);
      out.push({ t: 'str', v: src.slice(i, j + 1), value: text, at: i });
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
    if (!op || op === '...') fail(`unexpected character "${c}"`, i);
    out.push({ t: 'op', v: op!, at: i });
    i += op!.length;
  }
  out.push({ t: 'eof', v: '', at: src.length });
  return out;
}

// expr-lang's precedence (parser/operator): `??` binds tightest, `||` loosest; `**`/`^` are right-associative.
const BINARY: Record<string, number> = {
  '||': 10, or: 10, '&&': 15, and: 15,
  '==': 20, '!=': 20, '<': 20, '>': 20, '<=': 20, '>=': 20, in: 20, matches: 20, contains: 20, startsWith: 20, endsWith: 20,
  '..': 25, '+': 30, '-': 30, '*': 60, '/': 60, '%': 60, '**': 100, '^': 100, '??': 500,
};
const RIGHT_ASSOCIATIVE = new Set(['**', '^']);
const NEGATABLE = new Set(['in', 'matches', 'contains', 'startsWith', 'endsWith']);
const UNARY: Record<string, number> = { '!': 50, not: 50, '-': 90, '+': 90 };

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[], private readonly src: string) {}

  parse(): ExprNode {
    if (this.peek().t === 'eof') this.fail('the expression is empty');
    const node = this.sequence();
    if (this.peek().t !== 'eof') this.fail(`unexpected "${this.peek().v}"`);
    return node;
  }

  private peek(offset = 0): Token {
    return this.toks[Math.min(this.pos + offset, this.toks.length - 1)]!;
  }

  private next(): Token {
    return this.toks[this.pos++]!;
  }

  private fail(reason: string, at = this.peek().at): never {
    throw new ExprSyntaxError(reason, at, this.src);
  }

  private expect(op: string): void {
    const t = this.peek();
    if (t.t !== 'op' || t.v !== op) this.fail(`expected "${op}"${t.t === 'eof' ? ' before the end of the expression' : ` but found "${t.v}"`}`);
    this.next();
  }

  private isOp(op: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.t === 'op' && t.v === op;
  }

  private isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.t === 'id' && t.v === word;
  }

  /** `let x = v; body` or one expression (with trailing pipes). */
  private sequence(): ExprNode {
    if (this.isWord('let')) {
      this.next();
      const name = this.next();
      if (name.t !== 'id') this.fail('expected a variable name after "let"', name.at);
      this.expect('=');
      const value = this.expression();
      this.expect(';');
      return { k: 'let', name: name.v, value, body: this.sequence() };
    }
    return this.expression();
  }

  private expression(): ExprNode {
    let node = this.ternary();
    while (this.isOp('|')) {
      const at = this.next().at;
      const call = this.ternary();
      if (call.k !== 'call' && call.k !== 'id') this.fail('a pipe "|" must be followed by a function call', at);
      node = { k: 'pipe', value: node, call };
    }
    return node;
  }

  private ternary(): ExprNode {
    const test = this.binary(0);
    if (this.isOp('?')) {
      this.next();
      if (this.isOp(':')) {
        // `a ?: b` is expr-lang's elvis form.
        this.next();
        return { k: 'cond', test, yes: test, no: this.ternary() };
      }
      const yes = this.ternary();
      this.expect(':');
      const no = this.ternary();
      return { k: 'cond', test, yes, no };
    }
    return test;
  }

  private binary(minPrec: number): ExprNode {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      let op = t.t === 'op' || t.t === 'id' ? t.v : '';
      let negated = false;
      if (op === 'not' && NEGATABLE.has(this.peek(1).v) && this.peek(1).t === 'id') {
        negated = true;
        op = this.peek(1).v;
      }
      const prec = BINARY[op];
      if (prec === undefined || prec < minPrec) return left;
      this.next();
      if (negated) this.next();
      const right = this.binary(RIGHT_ASSOCIATIVE.has(op) ? prec : prec + 1);
      const normal = op === 'and' ? '&&' : op === 'or' ? '||' : op === '^' ? '**' : op;
      left = { k: 'bin', op: normal, l: left, r: right };
      if (negated) left = { k: 'unary', op: '!', arg: left };
    }
  }

  private unary(): ExprNode {
    const t = this.peek();
    const prec = (t.t === 'op' || t.t === 'id') ? UNARY[t.v] : undefined;
    if (prec !== undefined && !(t.t === 'id' && NEGATABLE.has(this.peek(1).v))) {
      this.next();
      const arg = this.binary(prec);
      return { k: 'unary', op: t.v === 'not' ? '!' : t.v, arg };
    }
    return this.postfix(this.primary());
  }

  private postfix(node: ExprNode): ExprNode {
    for (;;) {
      const start = this.peek().at;
      const optional = this.isOp('?.');
      if (optional && this.isOp('[', 1)) this.next();
      if (this.isOp('.') || (optional && !this.isOp('['))) {
        this.next();
        const name = this.next();
        if (name.t !== 'id') this.fail(`expected a property name after "${optional ? '?.' : '.'}"`, name.at);
        if (this.isOp('(')) {
          const args = this.arguments();
          node = { k: 'call', fn: { k: 'member', obj: node, prop: { k: 'lit', v: name.v }, optional, text: this.src.slice(0, name.at + name.v.length) }, args, text: this.src.slice(start, this.peek().at) };
        } else {
          node = { k: 'member', obj: node, prop: { k: 'lit', v: name.v }, optional, text: this.src.slice(0, this.peek().at) };
        }
      } else if (this.isOp('[')) {
        this.next();
        if (this.isOp(':')) {
          this.next();
          const to = this.isOp(']') ? undefined : this.expression();
          this.expect(']');
          node = { k: 'slice', obj: node, ...(to ? { to } : {}) };
          continue;
        }
        const prop = this.expression();
        if (this.isOp(':')) {
          this.next();
          const to = this.isOp(']') ? undefined : this.expression();
          this.expect(']');
          node = { k: 'slice', obj: node, from: prop, ...(to ? { to } : {}) };
          continue;
        }
        this.expect(']');
        node = { k: 'member', obj: node, prop, optional, text: this.src.slice(0, this.peek().at) };
      } else if (this.isOp('(')) {
        const args = this.arguments();
        node = { k: 'call', fn: node, args, text: this.src.slice(start, this.peek().at) };
      } else return node;
    }
  }

  private arguments(): ExprNode[] {
    this.expect('(');
    const args: ExprNode[] = [];
    while (!this.isOp(')')) {
      args.push(this.expression());
      if (!this.isOp(')')) this.expect(',');
    }
    this.expect(')');
    return args;
  }

  private primary(): ExprNode {
    const t = this.next();
    if (t.t === 'num') return { k: 'lit', v: Number(t.v.replace(/_/g, '')) };
    if (t.t === 'str') return { k: 'lit', v: t.value };
    if (t.t === 'id') {
      if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
      if (t.v === 'nil') return { k: 'lit', v: null };
      if (t.v === 'if') return this.ifElse();
      return { k: 'id', name: t.v };
    }
    if (t.t === 'op' && t.v === '#') {
      // Closure pointers: `#`, `#index`, `#acc`.
      const name = this.peek();
      if (name.t === 'id' && name.at === t.at + 1) {
        this.next();
        return { k: 'id', name: `#${name.v}` };
      }
      return { k: 'id', name: '#' };
    }
    if (t.t === 'op' && t.v === '.') {
      // `.field` inside a predicate is a member of the current element.
      const name = this.next();
      if (name.t !== 'id') this.fail('expected a property name after "."', name.at);
      return { k: 'member', obj: { k: 'id', name: '#' }, prop: { k: 'lit', v: name.v }, optional: false, text: `.${name.v}` };
    }
    if (t.t === 'op' && t.v === '(') {
      const inner = this.sequence();
      this.expect(')');
      return inner;
    }
    if (t.t === 'op' && t.v === '{') return this.braces();
    if (t.t === 'op' && t.v === '[') {
      const items: ExprNode[] = [];
      while (!this.isOp(']')) {
        items.push(this.expression());
        if (!this.isOp(']')) this.expect(',');
      }
      this.expect(']');
      return { k: 'array', items };
    }
    this.pos--;
    return this.fail(t.t === 'eof' ? 'the expression ends too early' : `unexpected "${t.v}"`);
  }

  /** `{k: v, ...}` is a map; `{expression}` a predicate (closure). */
  private braces(): ExprNode {
    const key = this.peek();
    const isMap = this.isOp('}') || ((key.t === 'str' || key.t === 'id' || key.t === 'num') && this.isOp(':', 1));
    if (!isMap) {
      const body = this.sequence();
      this.expect('}');
      return { k: 'closure', body };
    }
    const entries: [ExprNode, ExprNode][] = [];
    while (!this.isOp('}')) {
      const name = this.next();
      if (name.t !== 'str' && name.t !== 'id' && name.t !== 'num') this.fail('expected a map key', name.at);
      const k: ExprNode = { k: 'lit', v: name.t === 'str' ? name.value : name.v };
      this.expect(':');
      entries.push([k, this.expression()]);
      if (!this.isOp('}')) this.expect(',');
    }
    this.expect('}');
    return { k: 'map', entries };
  }

  private ifElse(): ExprNode {
    const test = this.expression();
    this.expect('{');
    const yes = this.sequence();
    this.expect('}');
    if (!this.isWord('else')) this.fail('expected "else" after the "if" block');
    this.next();
    if (this.isWord('if')) {
      this.next();
      return { k: 'cond', test, yes, no: this.ifElse() };
    }
    this.expect('{');
    const no = this.sequence();
    this.expect('}');
    return { k: 'cond', test, yes, no };
  }
}

/** Parses one expr-lang expression; throws ExprSyntaxError naming the column. */
export function parseExpr(expression: string): ExprNode {
  return new Parser(tokenize(expression), expression).parse();
}

/** The syntax problem of an expression (`<reason> at column N`), or undefined when it parses. */
export function exprSyntaxProblem(expression: string): string | undefined {
  try {
    parseExpr(expression);
    return undefined;
  } catch (e) {
    if (e instanceof ExprSyntaxError) return `${e.reason} at column ${e.at + 1}`;
    throw e;
  }
}
