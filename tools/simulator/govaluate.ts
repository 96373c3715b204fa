/**
 * The expression language of github.com/Knetic/govaluate as Argo Events uses it: expr
 * filters (`a == "b" || c == 10` over named fields) and trigger `conditions` (dependency
 * names joined by `&&`/`||`). Supported: literals (numbers, 'single' or "double" quoted
 * strings, true/false), names (with `\`-escaped characters such as `\-`), parentheses,
 * `! - * / % + == != > >= < <= =~ !~ && ||` with govaluate's precedence. Comparing values of
 * different types is an error, as in govaluate.
 */

type Value = unknown;
type Token = { t: 'num' | 'str' | 'bool' | 'name' | 'op' | 'paren'; v: string };

export interface ExpressionOptions {
  /** Read `a-b` as one name, as Argo Events does for `conditions` (it escapes '-' before parsing). */
  readonly hyphenatedNames?: boolean;
}

export function evaluateExpression(expression: string, parameters: Record<string, Value>, options: ExpressionOptions = {}): Value {
  const tokens = lex(expression, options.hyphenatedNames ?? false);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const take = (): Token => {
    const tok = tokens[pos++];
    if (!tok) throw new Error(`expression "${expression}" ends too early`);
    return tok;
  };
  const BINARY: string[][] = [['||'], ['&&'], ['==', '!=', '>', '>=', '<', '<=', '=~', '!~'], ['+', '-'], ['*', '/', '%']];
  const parseLevel = (level: number): Value => {
    if (level === BINARY.length) return parseUnary();
    let left = parseLevel(level + 1);
    while (peek()?.t === 'op' && BINARY[level].includes(peek()!.v)) {
      const op = take().v;
      // Short-circuit still needs the right side parsed.
      const right = parseLevel(level + 1);
      left = apply(op, left, right, expression);
    }
    return left;
  };
  const parseUnary = (): Value => {
    const tok = take();
    if (tok.t === 'op' && tok.v === '!') return !asBool(parseUnary(), expression);
    if (tok.t === 'op' && tok.v === '-') return -asNumber(parseUnary(), expression);
    if (tok.t === 'paren' && tok.v === '(') {
      const v = parseLevel(0);
      const close = take();
      if (close.v !== ')') throw new Error(`expression "${expression}": expected ")"`);
      return v;
    }
    if (tok.t === 'num') return Number(tok.v);
    if (tok.t === 'str') return tok.v;
    if (tok.t === 'bool') return tok.v === 'true';
    if (tok.t === 'name') {
      if (!(tok.v in parameters)) throw new Error(`No parameter '${tok.v}' found.`);
      return parameters[tok.v];
    }
    throw new Error(`expression "${expression}": unexpected "${tok.v}"`);
  };
  const result = parseLevel(0);
  if (pos < tokens.length) throw new Error(`expression "${expression}": unexpected "${tokens[pos].v}"`);
  return result;
}

/** Names (variables) an expression refers to, e.g. the dependencies a `conditions` string uses. */
export function expressionNames(expression: string, options: ExpressionOptions = {}): string[] {
  return [...new Set(lex(expression, options.hyphenatedNames ?? false).filter((t) => t.t === 'name').map((t) => t.v))];
}

function lex(expression: string, hyphenatedNames: boolean): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const op = ['&&', '||', '==', '!=', '>=', '<=', '=~', '!~', '>', '<', '!', '+', '-', '*', '/', '%'].find((o) => expression.startsWith(o, i));
    if (c === '(' || c === ')') {
      tokens.push({ t: 'paren', v: c });
      i++;
    } else if (c === '"' || c === "'") {
      const end = expression.indexOf(c, i + 1);
      if (end < 0) throw new Error(`expression "${expression}": unterminated string`);
      tokens.push({ t: 'str', v: expression.slice(i + 1, end) });
      i = end + 1;
    } else if (/\d/.test(c)) {
      const m = /^\d+(\.\d+)?/.exec(expression.slice(i))!;
      tokens.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_\\]/.test(c)) {
      let name = '';
      while (i < expression.length && /[\w\\.]/.test(expression[i])) {
        if (expression[i] === '\\') {
          name += expression[i + 1] ?? '';
          i += 2;
        } else name += expression[i++];
      }
      while (hyphenatedNames && expression[i] === '-' && /\w/.test(expression[i + 1] ?? '')) {
        name += expression[i++];
        while (i < expression.length && /[\w]/.test(expression[i])) name += expression[i++];
      }
      if (name === 'true' || name === 'false') tokens.push({ t: 'bool', v: name });
      else tokens.push({ t: 'name', v: name });
    } else if (op) {
      tokens.push({ t: 'op', v: op });
      i += op.length;
    } else throw new Error(`expression "${expression}": unexpected "${c}"`);
  }
  return tokens;
}

function asBool(v: Value, expression: string): boolean {
  if (typeof v !== 'boolean') throw new Error(`expression "${expression}": value ${JSON.stringify(v)} cannot be used with a logical operator`);
  return v;
}

function asNumber(v: Value, expression: string): number {
  if (typeof v !== 'number') throw new Error(`expression "${expression}": value ${JSON.stringify(v)} cannot be used with a numeric operator`);
  return v;
}

function apply(op: string, a: Value, b: Value, expression: string): Value {
  switch (op) {
    case '||':
      return asBool(a, expression) || asBool(b, expression);
    case '&&':
      return asBool(a, expression) && asBool(b, expression);
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '=~':
      return new RegExp(String(b)).test(String(a));
    case '!~':
      return !new RegExp(String(b)).test(String(a));
    case '+':
      if (typeof a === 'string' || typeof b === 'string') return String(a) + String(b);
      return asNumber(a, expression) + asNumber(b, expression);
    default: {
      if (['>', '>=', '<', '<='].includes(op)) {
        if (typeof a === 'string' && typeof b === 'string') return op === '>' ? a > b : op === '>=' ? a >= b : op === '<' ? a < b : a <= b;
        const x = asNumber(a, expression);
        const y = asNumber(b, expression);
        return op === '>' ? x > y : op === '>=' ? x >= y : op === '<' ? x < y : x <= y;
      }
      const x = asNumber(a, expression);
      const y = asNumber(b, expression);
      return op === '-' ? x - y : op === '*' ? x * y : op === '/' ? x / y : x % y;
    }
  }
}
