/**
 * What Argo Workflows does with a step's `when` once its `{{...}}` tags are substituted
 * (workflow/controller shouldExecute): github.com/Knetic/govaluate parses the text, every
 * variable token becomes a string literal (so `foo != bar` compares two words), the
 * expression is evaluated without parameters, and anything but a boolean result is an error.
 *
 * This is a model of that, for synth and lint checks: the lexer, the token-transition rules
 * and the two syntax passes follow govaluate's, so syntax errors are reported as Argo would
 * report them; the regex compilation at parse time (optimizeTokens), the stage planner
 * (planPrecedenceLevel, reorderStages) and the evaluation (short circuits, type checks,
 * operators) are ported from govaluate, so numbers, strings, bare words, booleans,
 * parentheses, comparisons, `&& ||`, prefix `! -`, `=~ !~`, `in (...)`, `+ - * / % **`,
 * `?:`, `??` and `,` are evaluated. What would need a guess is reported as `unsupported`:
 * dates, accessors, bitwise operators, hexadecimal numbers, NaN and infinities, and regular
 * expressions outside the syntax RE2 and JavaScript read alike (compileRegex).
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
  /** A PATTERN's compiled form (govaluate compiles the string after `=~` / `!~` at parse time). */
  pattern?: RegExp;
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
    const value = evaluate(compilePatterns(converted));
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

/** Token shapes the model does not evaluate (bitwise operators, accessors, and govaluate's parsing oddities). */
function unsupportedShapes(tokens: readonly Token[]): string[] {
  const out: string[] = [];
  tokens.forEach((t, i) => {
    const next = tokens[i + 1];
    if ((t.kind === 'MODIFIER' && BITWISE.has(String(t.value))) || (t.kind === 'PREFIX' && t.value === '~')) out.push(`the bitwise operator "${String(t.value)}"`);
    if (t.kind === 'ACCESSOR') out.push(`the accessor "${String(t.value)}"`);
    // govaluate stops planning after ")" followed by a value or "(", and plans an operator
    // followed by ")" with a missing operand; neither is a condition anyone means.
    if (t.kind === 'CLAUSE_CLOSE' && next && (VALUES.includes(next.kind) || next.kind === 'CLAUSE')) out.push(`"${goFormat(next.value as Value)}" right after ")"`);
    if (next?.kind === 'CLAUSE_CLOSE' && ['COMPARATOR', 'LOGICALOP', 'PREFIX', 'CLAUSE', 'MODIFIER', 'TERNARY', 'SEPARATOR'].includes(t.kind)) out.push(`")" right after "${String(t.value)}"`);
  });
  return out;
}

/**
 * govaluate's optimizeTokens: a string right after `=~` / `!~` is compiled as a regular
 * expression when the expression is parsed, so an invalid pattern fails the parse.
 */
function compilePatterns(tokens: Token[]): Token[] {
  return tokens.map((t, i) => {
    const before = tokens[i - 1];
    if (t.kind !== 'STRING' || before?.kind !== 'COMPARATOR' || (before.value !== '=~' && before.value !== '!~')) return t;
    return { kind: 'PATTERN', value: String(t.value), pattern: compileRegex(String(t.value)) };
  });
}

/**
 * A Go (RE2) pattern as a JavaScript RegExp, for the part of the syntax where both read the
 * same: printable ASCII; escapes of syntax characters and \d \w \s \b (and their negations);
 * classes without a leading "]", nested "[" or POSIX names; no braces, no "(?" but "(?:", no
 * quantifier on an anchor or an empty operand. `.` and `\s` are rewritten to Go's meaning
 * (Go's `.` excludes only "\n"; its `\s` is [\t\n\f\r ]). Anything else is unsupported.
 */
function compileRegex(pattern: string): RegExp {
  const unsupported = (why: string): never => {
    throw new Fail({ kind: 'unsupported', reason: `the regular expression "${pattern}" (${why}; Go's RE2 and JavaScript may read it differently)` });
  };
  if (!/^[\x20-\x7e]*$/.test(pattern)) unsupported('a character outside printable ASCII');
  const SYNTAX = '^$\\.*+?()[]{}|/';
  let out = '';
  let inClass = false;
  let previous = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) return error(`error parsing regexp: trailing backslash at end of expression: \`\``);
      i++;
      if (e === 's') out += inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]';
      else if (e === 'S') out += inClass ? unsupported('\\S inside a class') : '[^\\t\\n\\f\\r ]';
      else if ('dDwW'.includes(e) || (!inClass && 'bB'.includes(e)) || SYNTAX.includes(e)) out += `\\${e}`;
      else unsupported(`the escape \\${e}`);
      previous = `\\${e}`;
      continue;
    }
    if (inClass) {
      if (c === '[') unsupported('"[" inside a class');
      if (c === ']') inClass = false;
      out += c;
      previous = c;
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') unsupported('a class starting with "]"');
      inClass = true;
      out += pattern.slice(i, j);
      i = j - 1;
      previous = '[';
      continue;
    }
    if (c === '{' || c === '}' || c === ']') unsupported(`"${c}" outside a class`);
    if (c === '(' && pattern[i + 1] === '?' && pattern[i + 2] !== ':') unsupported('a group flag');
    if ('*+?'.includes(c) && (previous === '' || previous === '(' || previous === '|' || previous === '^' || previous === '$' || previous === '\\b' || previous === '\\B')) {
      unsupported('a quantifier with nothing or an anchor before it');
    }
    if ('*+'.includes(c) && '*+'.includes(previous)) unsupported('a repeated quantifier');
    if (c === '?' && previous === '?' && pattern[i - 2] !== undefined && '*+?'.includes(pattern[i - 2]!)) unsupported('a repeated quantifier');
    out += c === '.' ? '[^\\n]' : c;
    previous = c;
  }
  try {
    return new RegExp(out, 'u');
  } catch (e) {
    return error(`Unable to compile regexp pattern '${pattern}': ${(e as Error).message}`);
  }
}

/** A value at evaluation: govaluate's float64, string, bool, nil, []interface{} (from `,`), and compiled pattern. */
type Value = string | number | boolean | null | Value[] | RegExp;

/** govaluate's operator symbols that this model plans (stagePlanner.go); the names of OperatorSymbol.String(). */
type SymbolName =
  | 'NOOP' | 'LITERAL' | 'EQ' | 'NEQ' | 'GT' | 'LT' | 'GTE' | 'LTE' | 'REQ' | 'NREQ' | 'IN' | 'AND' | 'OR'
  | 'PLUS' | 'MINUS' | 'MULTIPLY' | 'DIVIDE' | 'MODULUS' | 'EXPONENT' | 'NEGATE' | 'INVERT'
  | 'TERNARY_TRUE' | 'TERNARY_FALSE' | 'COALESCE' | 'SEPARATE';

interface Stage {
  symbol: SymbolName;
  /** A literal's value (travels with the symbol when stages swap, as govaluate's operator closure does). */
  literal?: Value;
  left?: Stage;
  right?: Stage;
}

const COMPARATOR_SYMBOLS: Record<string, SymbolName> = { '==': 'EQ', '!=': 'NEQ', '>': 'GT', '>=': 'GTE', '<': 'LT', '<=': 'LTE', '=~': 'REQ', '!~': 'NREQ', in: 'IN' };
const BITWISE = new Set(['&', '|', '^', '>>', '<<']);

function precedence(symbol: SymbolName): number {
  switch (symbol) {
    case 'NOOP': return 0;
    case 'EQ': case 'NEQ': case 'GT': case 'LT': case 'GTE': case 'LTE': case 'REQ': case 'NREQ': case 'IN': return 9;
    case 'AND': return 11;
    case 'OR': return 12;
    case 'PLUS': case 'MINUS': return 5;
    case 'MULTIPLY': case 'DIVIDE': case 'MODULUS': return 8;
    case 'EXPONENT': return 4;
    case 'NEGATE': case 'INVERT': return 3;
    case 'COALESCE': case 'TERNARY_TRUE': case 'TERNARY_FALSE': return 10;
    case 'SEPARATE': return 13;
    default: return 1; // LITERAL: valuePrecedence
  }
}

/**
 * govaluate's stage planner (stagePlanner.go), step for step: each precedence level parses its
 * left side with the next level and its right side with itself (so chains come out
 * right-nested, and reorderStages mirrors them afterwards), and the token stream is rewound
 * one token after a level that found no operator, also at the end of the stream.
 */
function plan(tokens: readonly Token[]): Stage | undefined {
  let index = 0;
  const hasNext = () => index < tokens.length;
  const next = () => tokens[index++]!;
  const rewind = () => void index--;
  type Precedent = () => Stage | undefined;

  const level = (kinds: readonly Kind[], symbols: Record<string, SymbolName>, left: Precedent | undefined, right: () => Precedent): Precedent => {
    const self: Precedent = () => {
      const leftStage = left ? left() : undefined;
      while (hasNext()) {
        const token = next();
        if (!kinds.includes(token.kind) || typeof token.value !== 'string') break;
        const symbol = symbols[token.value];
        if (!symbol) break;
        const rightStage = right()();
        return { symbol, left: leftStage, right: rightStage };
      }
      rewind();
      return leftStage;
    };
    return self;
  };
  const value: Precedent = () => {
    if (!hasNext()) return undefined;
    const token = next();
    switch (token.kind) {
      case 'CLAUSE': {
        const inner = separator();
        next(); // the CLAUSE_CLOSE (balance was checked)
        return { symbol: 'NOOP', right: inner };
      }
      case 'CLAUSE_CLOSE':
        rewind();
        return undefined;
      case 'NUMERIC':
      case 'STRING':
      case 'BOOLEAN':
        return { symbol: 'LITERAL', literal: token.value };
      case 'PATTERN':
        return { symbol: 'LITERAL', literal: token.pattern! };
      case 'PREFIX':
        rewind();
        return prefix();
      default:
        throw new Fail({ kind: 'unsupported', reason: `the token "${goFormat(token.value)}"` });
    }
  };
  // planFunction and planAccessor: no functions are defined, and accessors are unsupported.
  const prefix: Precedent = level(['PREFIX'], { '-': 'NEGATE', '!': 'INVERT' }, undefined, () => value);
  const exponential = level(['MODIFIER'], { '**': 'EXPONENT' }, value, () => exponential);
  const multiplicative = level(['MODIFIER'], { '*': 'MULTIPLY', '/': 'DIVIDE', '%': 'MODULUS' }, exponential, () => multiplicative);
  const additive = level(['MODIFIER'], { '+': 'PLUS', '-': 'MINUS' }, multiplicative, () => additive);
  // Bitwise and shift levels are unsupported (unsupportedShapes), so they plan nothing.
  const comparator = level(['COMPARATOR'], COMPARATOR_SYMBOLS, additive, () => comparator);
  const and = level(['LOGICALOP'], { '&&': 'AND' }, comparator, () => and);
  const or = level(['LOGICALOP'], { '||': 'OR' }, and, () => or);
  const ternary = level(['TERNARY'], { '?': 'TERNARY_TRUE', ':': 'TERNARY_FALSE', '??': 'COALESCE' }, or, () => ternary);
  const separator: Precedent = level(['SEPARATOR'], { ',': 'SEPARATE' }, ternary, () => separator);

  if (tokens.length === 0) return undefined;
  const root = separator();
  if (root) reorder(root);
  return root;
}

/** reorderStages: chains of one precedence along right children are mirrored into left-to-right order. */
function reorder(root: Stage): void {
  let same: Stage[] = [];
  let next: Stage | undefined = root;
  let current = precedence(root.symbol);
  while (next) {
    const stage: Stage = next;
    next = stage.right;
    if (stage.left) reorder(stage.left);
    const p = precedence(stage.symbol);
    if (p === current) {
      same.push(stage);
      continue;
    }
    if (same.length > 1) mirror(same);
    same = [stage];
    current = p;
  }
  if (same.length > 1) mirror(same);
}

/** mirrorStageSubtree, including swapWith (which swaps the operator, not the children). */
function mirror(stages: Stage[]): void {
  const n = stages.length;
  for (const front of stages) [front.left, front.right] = [front.right, front.left];
  const root = stages[0]!;
  const last = stages[n - 1]!;
  const carry = last.left;
  last.left = root.right;
  root.right = carry;
  for (let i = 0; i < Math.floor((n - 2) / 2) + 1; i++) {
    const front = stages[i + 1]!;
    const inverse = stages[n - i - 1]!;
    [front.right, inverse.right] = [inverse.right, front.right];
  }
  for (let i = 0; i < Math.floor(n / 2); i++) {
    const front = stages[i]!;
    const inverse = stages[n - i - 1]!;
    [front.symbol, inverse.symbol] = [inverse.symbol, front.symbol];
    [front.literal, inverse.literal] = [inverse.literal, front.literal];
  }
}

/** Parses the supported token shapes and evaluates them as govaluate does (nil parameters). */
function evaluate(tokens: readonly Token[]): Value {
  const root = plan(tokens);
  return root ? run(root) : null;
}

const isNumber = (v: Value | undefined): v is number => typeof v === 'number';
const isString = (v: Value | undefined): v is string => typeof v === 'string';
const isBool = (v: Value | undefined): v is boolean => typeof v === 'boolean';
const SKIPPED = Symbol('short-circuited');

const FORMATS: Partial<Record<SymbolName, string>> = {
  AND: 'logical operator', OR: 'logical operator', PLUS: 'modifier', MINUS: 'modifier', MULTIPLY: 'modifier', DIVIDE: 'modifier', MODULUS: 'modifier', EXPONENT: 'modifier',
  TERNARY_TRUE: 'ternary operator',
};

/** evaluateStage: children first (with govaluate's short circuits), then the type checks, then the operator. */
function run(stage: Stage): Value {
  if (stage.symbol === 'LITERAL') return stage.literal!;
  const left = stage.left ? run(stage.left) : null;
  let right: Value | typeof SKIPPED = null;
  if (stage.symbol === 'AND' && left === false) return false;
  if (stage.symbol === 'OR' && left === true) return true;
  if (stage.symbol === 'COALESCE' && left !== null) return left;
  if (stage.symbol === 'TERNARY_TRUE' && left === false) right = SKIPPED;
  if (stage.symbol === 'TERNARY_FALSE' && left !== null) right = SKIPPED;
  if (right !== SKIPPED && stage.right) right = run(stage.right);
  const r = right === SKIPPED ? null : right;
  const bad = (v: Value, what = FORMATS[stage.symbol] ?? 'comparator', suffix = 'it is not a number'): never =>
    error(`Value '${goFormat(v)}' cannot be used with the ${what} '${stage.symbol}', ${suffix}`);
  switch (stage.symbol) {
    case 'NOOP':
      return r;
    case 'EQ':
      return deepEqual(left, r);
    case 'NEQ':
      return !deepEqual(left, r);
    case 'GT': case 'LT': case 'GTE': case 'LTE': {
      if (!((isNumber(left) && isNumber(r)) || (isString(left) && isString(r)))) return bad(left);
      // Go compares strings byte-wise (UTF-8), not by UTF-16 code unit.
      const order = isString(left) ? Buffer.compare(Buffer.from(left), Buffer.from(r as string)) : Math.sign(left as number - (r as number));
      return stage.symbol === 'LT' ? order < 0 : stage.symbol === 'LTE' ? order <= 0 : stage.symbol === 'GT' ? order > 0 : order >= 0;
    }
    case 'REQ': case 'NREQ': {
      if (!isString(left)) return bad(left);
      if (!isString(r) && !(r instanceof RegExp)) return bad(r);
      const matched = (r instanceof RegExp ? r : compileRegex(r)).test(left);
      return stage.symbol === 'REQ' ? matched : !matched;
    }
    case 'IN': {
      if (!Array.isArray(r)) return bad(r);
      // Go compares interfaces with ==: a list or a pattern on either side is a runtime panic or pointer identity.
      if (Array.isArray(left) || left instanceof RegExp || r.some((v) => Array.isArray(v) || v instanceof RegExp)) {
        throw new Fail({ kind: 'unsupported', reason: 'a list or pattern compared with "in"' });
      }
      return r.some((v) => v === left);
    }
    case 'AND': case 'OR':
      if (!isBool(left)) return bad(left, undefined, 'it is not a bool');
      if (!isBool(r)) return bad(r, undefined, 'it is not a bool');
      return stage.symbol === 'AND' ? left && r : left || r;
    case 'PLUS':
      if (isNumber(left) && isNumber(r)) return finite(left + r);
      if (!isString(left) && !isString(r)) return bad(left);
      return goFormat(left) + goFormat(r);
    case 'MINUS': case 'MULTIPLY': case 'DIVIDE': case 'MODULUS': case 'EXPONENT': {
      if (!isNumber(left)) return bad(left);
      if (!isNumber(r)) return bad(r);
      const ops = { MINUS: left - r, MULTIPLY: left * r, DIVIDE: left / r, MODULUS: left % r, EXPONENT: left ** r };
      return finite(ops[stage.symbol]);
    }
    case 'NEGATE':
      return isNumber(r) ? -r : error(`Value '${goFormat(r)}' cannot be used with the prefix '-'`);
    case 'INVERT':
      return isBool(r) ? !r : error(`Value '${goFormat(r)}' cannot be used with the prefix '!'`);
    case 'TERNARY_TRUE':
      if (!isBool(left)) return bad(left, undefined, 'it is not a bool');
      return left ? r : null;
    case 'TERNARY_FALSE':
    case 'COALESCE':
      return left !== null ? left : r;
    case 'SEPARATE':
      return Array.isArray(left) ? [...left, r] : [left, r];
  }
  throw new Fail({ kind: 'unsupported', reason: `the operator ${stage.symbol}` });
}

/** Go's reflect.DeepEqual over these values. */
function deepEqual(a: Value, b: Value): boolean {
  if (a instanceof RegExp || b instanceof RegExp) throw new Fail({ kind: 'unsupported', reason: 'a pattern compared with "=="' });
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]!));
  return a === b;
}

/** A float64 result the model formats and compares as Go does; NaN and infinities are not modelled. */
function finite(n: number): number {
  if (!Number.isFinite(n)) throw new Fail({ kind: 'unsupported', reason: `arithmetic that gives ${n}` });
  return n === 0 ? 0 : n; // Go prints -0 as "-0"; the model keeps it out of reach
}

/** Go's %v of a value, for messages and string concatenation. */
function goFormat(v: Value | undefined): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'number') return goFloat(v);
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (v instanceof RegExp) throw new Fail({ kind: 'unsupported', reason: 'a pattern used as a value' });
  return String(v);
}

/** fmt's %v of a float64 (%g, shortest digits): exponent form when the exponent is < -4 or >= 6 (held against govaluate). */
function goFloat(v: number): string {
  const [mantissa, exp] = v.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(v);
}
