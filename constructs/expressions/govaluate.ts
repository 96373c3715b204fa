/**
 * What Argo Workflows does with a step's `when` once its `{{...}}` tags are substituted
 * (workflow/controller shouldExecute): github.com/Knetic/govaluate parses the text, every
 * variable token becomes a string literal (so `foo != bar` compares two words), the
 * expression is evaluated without parameters, and anything but a boolean result is an error.
 *
 * This is a model of that, for synth and lint checks: the lexer, the token-transition rules
 * and the two syntax passes follow govaluate's, so syntax errors are reported as Argo would
 * report them; evaluation covers the part of the language a condition needs: numbers,
 * quoted strings, bare words, true/false, parentheses, `== != < <= > >=`, `&& ||`, prefix
 * `!` and `-`. Everything else govaluate has (arithmetic and bitwise modifiers, `?:`/`??`,
 * `in`, regex `=~`, dates, accessors, `,`) is reported as `unsupported`, never guessed:
 * test/constructs/govaluate.test.ts holds the model against the real govaluate (tools/argo-when-oracle)
 * with the property "whatever this model evaluates, Argo evaluates to the same boolean, and
 * whatever it calls an error, Argo refuses".
 */

export type WhenOutcome =
  | { readonly kind: 'value'; readonly value: boolean }
  | { readonly kind: 'error'; readonly reason: string }
  | { readonly kind: 'unsupported'; readonly reason: string };

type Kind =
  | 'PREFIX' | 'NUMERIC' | 'BOOLEAN' | 'STRING' | 'PATTERN' | 'TIME' | 'VARIABLE' | 'FUNCTION' | 'SEPARATOR' | 'ACCESSOR'
  | 'COMPARATOR' | 'LOGICALOP' | 'MODIFIER' | 'CLAUSE' | 'CLAUSE_CLOSE' | 'TERNARY';

interface Token {
  kind: Kind;
  value: string | number | boolean;
}

const VALUES: Kind[] = ['NUMERIC', 'BOOLEAN', 'VARIABLE', 'STRING', 'PATTERN', 'TIME'];
const AFTER_VALUE: Kind[] = ['MODIFIER', 'COMPARATOR', 'LOGICALOP', 'CLAUSE_CLOSE', 'TERNARY', 'SEPARATOR'];
const OPERAND: Kind[] = ['PREFIX', 'NUMERIC', 'BOOLEAN', 'VARIABLE', 'FUNCTION', 'ACCESSOR', 'STRING', 'TIME', 'CLAUSE'];

/** Which token may follow which (govaluate lexerState.go), and whether the text may end after it. */
const STATES: Record<Kind | 'START', { next: readonly Kind[]; eof: boolean }> = {
  START: { next: [...OPERAND, 'PATTERN'], eof: false },
  CLAUSE: { next: [...OPERAND, 'PATTERN', 'CLAUSE_CLOSE'], eof: false },
  CLAUSE_CLOSE: { next: ['COMPARATOR', 'MODIFIER', ...VALUES, 'CLAUSE', 'CLAUSE_CLOSE', 'LOGICALOP', 'TERNARY', 'SEPARATOR'], eof: true },
  NUMERIC: { next: AFTER_VALUE, eof: true },
  BOOLEAN: { next: AFTER_VALUE, eof: true },
  STRING: { next: AFTER_VALUE, eof: true },
  VARIABLE: { next: AFTER_VALUE, eof: true },
  TIME: { next: ['MODIFIER', 'COMPARATOR', 'LOGICALOP', 'CLAUSE_CLOSE', 'SEPARATOR'], eof: true },
  PATTERN: { next: ['MODIFIER', 'COMPARATOR', 'LOGICALOP', 'CLAUSE_CLOSE', 'SEPARATOR'], eof: true },
  MODIFIER: { next: ['PREFIX', 'NUMERIC', 'VARIABLE', 'FUNCTION', 'ACCESSOR', 'STRING', 'BOOLEAN', 'CLAUSE', 'CLAUSE_CLOSE'], eof: false },
  COMPARATOR: { next: [...OPERAND, 'CLAUSE_CLOSE', 'PATTERN'], eof: false },
  LOGICALOP: { next: [...OPERAND, 'CLAUSE_CLOSE'], eof: false },
  PREFIX: { next: ['NUMERIC', 'BOOLEAN', 'VARIABLE', 'FUNCTION', 'ACCESSOR', 'CLAUSE', 'CLAUSE_CLOSE'], eof: false },
  TERNARY: { next: ['PREFIX', 'NUMERIC', 'BOOLEAN', 'STRING', 'TIME', 'VARIABLE', 'FUNCTION', 'ACCESSOR', 'CLAUSE', 'SEPARATOR'], eof: false },
  FUNCTION: { next: ['CLAUSE'], eof: false },
  ACCESSOR: { next: ['CLAUSE', 'MODIFIER', 'COMPARATOR', 'LOGICALOP', 'CLAUSE_CLOSE', 'TERNARY', 'SEPARATOR'], eof: true },
  SEPARATOR: { next: ['PREFIX', 'NUMERIC', 'BOOLEAN', 'STRING', 'TIME', 'VARIABLE', 'FUNCTION', 'ACCESSOR', 'CLAUSE'], eof: false },
};

const PREFIXES = new Set(['-', '!', '~']);
const MODIFIERS = new Set(['+', '-', '*', '/', '%', '**', '&', '|', '^', '>>', '<<']);
const LOGICAL = new Set(['&&', '||']);
const COMPARATORS = new Set(['==', '!=', '>', '>=', '<', '<=', '=~', '!~', 'in']);
const TERNARIES = new Set(['?', ':', '??']);
/** The operators this model evaluates; the rest are `unsupported`. */
const EVALUATED = new Set(['==', '!=', '>', '>=', '<', '<=', '&&', '||', '!', '-']);

// Go's unicode.IsSpace: ASCII white space, U+0085, U+00A0 and the Z categories' spaces.
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;
const isNumeric = (c: string) => DIGIT.test(c) || c === '.';
const isQuote = (c: string) => c === "'" || c === '"';
const isVariableChar = (c: string) => LETTER.test(c) || DIGIT.test(c) || c === '_' || c === '.';
const isSymbolChar = (c: string) => !(DIGIT.test(c) || LETTER.test(c) || c === '(' || c === ')' || c === '[' || c === ']' || isQuote(c));

class Fail extends Error {
  constructor(public readonly outcome: WhenOutcome) {
    super(outcome.kind === 'value' ? '' : outcome.reason);
  }
}
const error = (reason: string): never => {
  throw new Fail({ kind: 'error', reason });
};

/** Evaluates a substituted `when` as Argo does. */
export function evaluateWhen(text: string): WhenOutcome {
  if (text === '') return { kind: 'value', value: true };
  try {
    const unsupported: string[] = [];
    const tokens = lex(text, unsupported);
    checkSyntax(tokens);
    // Argo turns every variable into a string literal and builds the expression again, so a
    // prefix before a bare word (`!foo`) is a syntax error the first pass did not see.
    const converted = tokens.map((t): Token => (t.kind === 'VARIABLE' ? { kind: 'STRING', value: t.value } : t));
    checkSyntax(converted);
    unsupported.push(...unsupportedShapes(converted));
    if (unsupported.length) return { kind: 'unsupported', reason: unsupported[0]! };
    const value = evaluate(converted);
    if (typeof value !== 'boolean') return { kind: 'error', reason: `Expected boolean evaluation for '${text}'. Got ${goFormat(value)}` };
    return { kind: 'value', value };
  } catch (e) {
    if (e instanceof Fail) return e.outcome;
    throw e;
  }
}

/** govaluate's lexer (parsing.go readToken), over code points as Go reads runes. */
function lex(text: string, unsupported: string[]): Token[] {
  const chars = Array.from(text);
  let pos = 0;
  const tokens: Token[] = [];
  const dates: string[] = [];
  let state: Kind | 'START' = 'START';

  /** readUntilFalse: a backslash takes the next character as-is; `breakOnSpace` ends the token at white space. */
  const readWhile = (test: (c: string) => boolean, keepSpace: boolean, breakOnSpace: boolean): { text: string; ended: boolean; escaped: boolean } => {
    let out = '';
    let escaped = false;
    while (pos < chars.length) {
      let c = chars[pos++]!;
      if (c === '\\') {
        // govaluate reads past the end here and panics; Argo reports the when as invalid.
        if (pos >= chars.length) error('a backslash at the end of the expression');
        c = chars[pos++]!;
        out += c;
        escaped = true;
        continue;
      }
      if (SPACE.test(c)) {
        if (breakOnSpace && out.length > 0) return { text: out, ended: true, escaped };
        if (!keepSpace) continue;
      }
      if (test(c)) out += c;
      else {
        pos--;
        return { text: out, ended: true, escaped };
      }
    }
    return { text: out, ended: false, escaped };
  };

  while (pos < chars.length) {
    const c = chars[pos++]!;
    if (SPACE.test(c)) continue;
    let token: Token;
    if (isNumeric(c)) {
      if (c === '0' && chars[pos] === 'x' && pos + 1 < chars.length) throw new Fail({ kind: 'unsupported', reason: 'a hexadecimal number' });
      pos--;
      const read = readWhile(isNumeric, false, true);
      if (read.escaped) unsupported.push('a backslash inside a number');
      if (!/^([0-9]+\.?[0-9]*|\.[0-9]+)$/.test(read.text)) {
        if (read.escaped) throw new Fail({ kind: 'unsupported', reason: 'a backslash inside a number' });
        error(`Unable to parse numeric value '${read.text}' to float64`);
      }
      const value = Number(read.text);
      if (!Number.isFinite(value)) error(`Unable to parse numeric value '${read.text}' to float64`);
      token = { kind: 'NUMERIC', value };
    } else if (c === ',') {
      token = { kind: 'SEPARATOR', value: ',' };
    } else if (c === '[') {
      const read = readWhile((x) => x !== ']', true, false);
      if (!read.ended) error('Unclosed parameter bracket');
      pos++;
      token = { kind: 'VARIABLE', value: read.text };
    } else if (LETTER.test(c)) {
      pos--;
      const name = readWhile(isVariableChar, false, true).text;
      token = { kind: 'VARIABLE', value: name };
      if (name === 'true' || name === 'false') token = { kind: 'BOOLEAN', value: name === 'true' };
      if (name === 'in' || name === 'IN') token = { kind: 'COMPARATOR', value: 'in' };
      const dot = name.indexOf('.');
      if (dot > 0) {
        if (name.endsWith('.')) error(`Hanging accessor on token '${name}'`);
        const parts = name.split('.');
        for (const part of parts.slice(1)) {
          const first = Array.from(part)[0] ?? '';
          if (/[^\x00-\x7f]/.test(first)) throw new Fail({ kind: 'unsupported', reason: `a non-ASCII field name in "${name}"` });
          if (first.toUpperCase() !== first) error(`Unable to access unexported field '${part}' in token '${name}'`);
        }
        token = { kind: 'ACCESSOR', value: name };
      }
    } else if (isQuote(c)) {
      const read = readWhile((x) => !isQuote(x), true, false);
      if (!read.ended) error('Unclosed string literal');
      pos++;
      // Lexing goes on the same way after a date as after a string; only the syntax rules and the value differ.
      if (mayBeTime(read.text)) dates.push(read.text);
      token = { kind: 'STRING', value: read.text };
    } else if (c === '(') {
      token = { kind: 'CLAUSE', value: '(' };
    } else if (c === ')') {
      token = { kind: 'CLAUSE_CLOSE', value: ')' };
    } else {
      pos--;
      const read = readWhile(isSymbolChar, false, true);
      if (read.escaped) throw new Fail({ kind: 'unsupported', reason: 'a backslash inside an operator' });
      const symbol = read.text;
      if (STATES[state].next.includes('PREFIX') && PREFIXES.has(symbol)) token = { kind: 'PREFIX', value: symbol };
      else if (MODIFIERS.has(symbol)) token = { kind: 'MODIFIER', value: symbol };
      else if (LOGICAL.has(symbol)) token = { kind: 'LOGICALOP', value: symbol };
      else if (COMPARATORS.has(symbol)) token = { kind: 'COMPARATOR', value: symbol };
      else if (TERNARIES.has(symbol)) token = { kind: 'TERNARY', value: symbol };
      else return error(`Invalid token: '${symbol}'`);
    }
    tokens.push(token);
    state = token.kind;
  }
  let depth = 0;
  for (const t of tokens) depth += t.kind === 'CLAUSE' ? 1 : t.kind === 'CLAUSE_CLOSE' ? -1 : 0;
  if (depth !== 0) error('Unbalanced parenthesis');
  if (dates.length) throw new Fail({ kind: 'unsupported', reason: `the date-like string "${dates[0]}" (govaluate may read it as a time)` });
  return tokens;
}

/**
 * A quoted string govaluate may read as a date (tryParseTime): ISO dates, weekday-first
 * layouts (ANSIC, UnixDate, RubyDate) and Kitchen ("3:04PM"). Wider than the layouts, so
 * nothing date-like is evaluated as a string by mistake.
 */
function mayBeTime(text: string): boolean {
  return /^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(text) || /^(mon|tue|wed|thu|fri|sat|sun)/i.test(text) || /^[0-9]{1,2}:[0-9]{2}/.test(text);
}

/** checkExpressionSyntax: each token must be allowed after the previous one, and the last may end the text. */
function checkSyntax(tokens: readonly Token[]): void {
  let state: Kind | 'START' = 'START';
  let last: Token | undefined;
  for (const t of tokens) {
    if (!STATES[state].next.includes(t.kind)) {
      if (last?.kind === 'VARIABLE' && t.kind === 'CLAUSE') error(`Undefined function ${String(last.value)}`);
      error(`Cannot transition token types from ${state === 'START' ? 'UNKNOWN' : state} [${last ? goFormat(last.value) : '<nil>'}] to ${t.kind} [${goFormat(t.value)}]`);
    }
    state = t.kind;
    last = t;
  }
  if (!STATES[state].eof) error('Unexpected end of expression');
}

/** Token shapes the model does not evaluate (operators beyond a condition's, and govaluate's parsing oddities). */
function unsupportedShapes(tokens: readonly Token[]): string[] {
  const out: string[] = [];
  tokens.forEach((t, i) => {
    const next = tokens[i + 1];
    if (['MODIFIER', 'TERNARY', 'SEPARATOR', 'COMPARATOR', 'LOGICALOP', 'PREFIX'].includes(t.kind) && !EVALUATED.has(String(t.value))) {
      out.push(`the operator "${String(t.value)}"`);
    }
    if (t.kind === 'MODIFIER') out.push(`the operator "${String(t.value)}"`);
    if (t.kind === 'ACCESSOR') out.push(`the accessor "${String(t.value)}"`);
    // govaluate stops planning after ")" followed by a value or "(", and plans an operator
    // followed by ")" with a missing operand; neither is a condition anyone means.
    if (t.kind === 'CLAUSE_CLOSE' && next && (VALUES.includes(next.kind) || next.kind === 'CLAUSE')) out.push(`"${goFormat(next.value)}" right after ")"`);
    if (next?.kind === 'CLAUSE_CLOSE' && ['COMPARATOR', 'LOGICALOP', 'PREFIX', 'CLAUSE', 'MODIFIER'].includes(t.kind)) out.push(`")" right after "${String(t.value)}"`);
  });
  return out;
}

type Value = string | number | boolean;
type Node = { op: 'lit'; v: Value } | { op: 'not' | 'neg'; arg: Node } | { op: string; l: Node; r: Node };

/** Parses the supported token shapes: `||` below `&&` below comparisons (left to right) below prefixes. */
function evaluate(tokens: readonly Token[]): Value {
  let pos = 0;
  const peek = () => tokens[pos];
  const level = (ops: readonly string[], next: () => Node): Node => {
    let left = next();
    while (peek() && ops.includes(String(peek()!.value)) && (peek()!.kind === 'LOGICALOP' || peek()!.kind === 'COMPARATOR')) {
      const op = String(tokens[pos++]!.value);
      left = { op, l: left, r: next() };
    }
    return left;
  };
  const or = (): Node => level(['||'], and);
  const and = (): Node => level(['&&'], compare);
  const compare = (): Node => level(['==', '!=', '>', '>=', '<', '<='], unary);
  const unary = (): Node => {
    const t = tokens[pos++];
    if (!t) throw new Fail({ kind: 'unsupported', reason: 'an expression the model cannot parse' });
    if (t.kind === 'PREFIX') return { op: t.value === '!' ? 'not' : 'neg', arg: unary() };
    if (t.kind === 'CLAUSE') {
      const inner = or();
      if (tokens[pos++]?.kind !== 'CLAUSE_CLOSE') throw new Fail({ kind: 'unsupported', reason: 'an expression the model cannot parse' });
      return inner;
    }
    if (t.kind === 'NUMERIC' || t.kind === 'BOOLEAN' || t.kind === 'STRING') return { op: 'lit', v: t.value };
    throw new Fail({ kind: 'unsupported', reason: `the token "${goFormat(t.value)}"` });
  };
  const tree = or();
  if (pos !== tokens.length) throw new Fail({ kind: 'unsupported', reason: 'an expression the model cannot parse' });
  return run(tree);
}

function run(node: Node): Value {
  if (node.op === 'lit') return (node as { v: Value }).v;
  if (node.op === 'not' || node.op === 'neg') {
    const v = run((node as { arg: Node }).arg);
    if (node.op === 'not') return typeof v === 'boolean' ? !v : error(`Value '${goFormat(v)}' cannot be used with the prefix '!'`);
    return typeof v === 'number' ? -v : error(`Value '${goFormat(v)}' cannot be used with the prefix '-'`);
  }
  const { op, l, r } = node as { op: string; l: Node; r: Node };
  const left = run(l);
  if (op === '&&' || op === '||') {
    // Short-circuit before the type checks, as govaluate does.
    if (op === '&&' && left === false) return false;
    if (op === '||' && left === true) return true;
    const right = run(r);
    if (typeof left !== 'boolean') error(`Value '${goFormat(left)}' cannot be used with the logical operator '${op}', it is not a bool`);
    if (typeof right !== 'boolean') error(`Value '${goFormat(right)}' cannot be used with the logical operator '${op}', it is not a bool`);
    return op === '&&' ? (left as boolean) && (right as boolean) : (left as boolean) || (right as boolean);
  }
  const right = run(r);
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  const bothNumbers = typeof left === 'number' && typeof right === 'number';
  const bothStrings = typeof left === 'string' && typeof right === 'string';
  if (!bothNumbers && !bothStrings) error(`Value '${goFormat(left)}' cannot be used with the comparator '${op}', it is not a number`);
  // Go compares strings byte-wise (UTF-8), not by UTF-16 code unit.
  const order = bothStrings ? Buffer.compare(Buffer.from(left as string), Buffer.from(right as string)) : Math.sign((left as number) - (right as number));
  return op === '<' ? order < 0 : op === '<=' ? order <= 0 : op === '>' ? order > 0 : order >= 0;
}

/** Go's %v of a value, for messages. */
function goFormat(v: Value): string {
  return String(v);
}
