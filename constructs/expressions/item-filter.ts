/**
 * Item filters as cirrus applies them: `chain_filter` (and SWOOP's `feature_filter`) is the
 * condition of a JSONPath filter that cirrus evaluates with jsonpath-ng's extended parser as
 * `$.features[?(<filter>)]` (cirrus-geo `ProcessPayload.next_payloads`). This parser accepts
 * a subset of that grammar, with jsonpath-ng's lexing quirks, and nothing jsonpath-ng would
 * refuse (test/constructs/jsonpath-filter.test.ts runs the same corpus, and random strings,
 * through the real jsonpath-ng):
 *
 *     filter     := conjunction
 *     conjunction:= unit ('&' unit)*
 *     unit       := '(' conjunction ')' | path [op value]
 *     path       := '@' step*            (the item)
 *     step       := '.' name | '..' name | '.*' | '[' quoted (',' quoted)* ']' | '[*]'
 *     op         := == | = | != | < | <= | > | >= | =~
 *     value      := 'quoted' | "quoted" | integer | decimal | true | false | bare-word
 *
 * Refused although jsonpath-ng parses them, because they do not do what they seem to: a
 * `$`-rooted path (in a filter `$` is the item, and `$[?(...)]` filters the item's values),
 * an index (jsonpath-ng raises on items where the value is not a list), arithmetic.
 */

export interface FilterProblem {
  /** 1-based column in the filter. */
  readonly column: number;
  readonly what: string;
  readonly fix: string;
}

type Kind = 'name' | 'quoted' | 'number' | 'bool' | 'op' | 'punct' | 'eof';
interface Token {
  readonly kind: Kind;
  readonly text: string;
  readonly at: number;
}

const EXAMPLE = "conditions on the item such as @.properties.'eo:cloud_cover' < 50 or @.collection == 'sentinel-2-l2a', joined by &";
const NAME = /^@?[a-zA-Z_][a-zA-Z0-9_@-]*/;
const OPS = ['=~', '==', '<=', '>=', '!=', '=', '<', '>'];
const RESERVED = new Set(['where', 'wherenot']);

class Fail extends Error {
  constructor(readonly problem: FilterProblem) {
    super(problem.what);
  }
}

function fail(at: number, what: string, fix: string = `write ${EXAMPLE}`): never {
  throw new Fail({ column: at + 1, what, fix });
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    const rest = src.slice(i);
    // jsonpath-ng tries `true|false` before names, so `trueColor` lexes as true + Color.
    const bool = /^(true|false)/.exec(rest);
    if (bool) {
      const after = rest.slice(bool[0].length);
      if (/^[a-zA-Z0-9_@-]/.test(after)) {
        fail(i, `"${NAME.exec(rest)![0]}" starts with "${bool[0]}", which jsonpath-ng reads as a boolean`, `quote the name: '${NAME.exec(rest)![0]}'`);
      }
      out.push({ kind: 'bool', text: bool[0], at: i });
      i += bool[0].length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      out.push({ kind: 'name', text: name[0], at: i });
      i += name[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(rest);
    if (number) {
      if (/^[a-zA-Z_.]/.test(rest.slice(number[0].length))) fail(i, `"${rest.slice(0, number[0].length + 1)}" is not a number jsonpath-ng reads`, 'write an integer (50) or a decimal with digits on both sides of the point (0.5)');
      out.push({ kind: 'number', text: number[0], at: i });
      i += number[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          text += src[j + 1];
          j += 2;
        } else text += src[j++];
      }
      if (j >= src.length) fail(i, `the string starting at column ${i + 1} is not closed`, `close it with ${c}`);
      out.push({ kind: 'quoted', text, at: i });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ kind: 'op', text: op, at: i });
      i += op.length;
      continue;
    }
    if (src.startsWith('..', i)) {
      out.push({ kind: 'punct', text: '..', at: i });
      i += 2;
      continue;
    }
    if ('@.[]()&*,$?'.includes(c)) {
      out.push({ kind: 'punct', text: c, at: i });
      i++;
      continue;
    }
    if (c === '|') fail(i, '"|" (or) is not supported in jsonpath-ng filters', 'use only & (and); to route items either way, chain to two workflows with one filter each');
    if (c === '!') fail(i, 'negation "!" is not supported in jsonpath-ng filters', 'compare with != or use the opposite comparison');
    if (c === ':') fail(i, '":" cannot appear in an unquoted name (jsonpath-ng reads it as a slice)', "quote the name, e.g. @.properties.'eo:cloud_cover'");
    fail(i, `unexpected character "${c}"`);
  }
  out.push({ kind: 'eof', text: '', at: src.length });
  return out;
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  parse(): void {
    if (this.peek().kind === 'eof') fail(0, 'the filter is empty');
    this.conjunction();
    const t = this.peek();
    if (t.kind !== 'eof') this.unexpected(t);
  }

  private peek(offset = 0): Token {
    return this.toks[Math.min(this.pos + offset, this.toks.length - 1)]!;
  }

  private next(): Token {
    return this.toks[this.pos++]!;
  }

  private is(text: string, kind: Kind = 'punct'): boolean {
    const t = this.peek();
    return t.kind === kind && t.text === text;
  }

  private unexpected(t: Token): never {
    if (t.kind === 'eof') fail(t.at, 'the filter ends too early');
    if (t.kind === 'op') fail(t.at, `unexpected "${t.text}": a condition compares one path with one value`, `write e.g. @.properties.gsd ${t.text} 10`);
    fail(t.at, `unexpected ${t.kind === 'quoted' ? `'${t.text}'` : `"${t.text}"`}`);
  }

  /** Returns whether the conjunction is one bare path (an existence test). */
  private conjunction(): boolean {
    let start = this.peek();
    let bare = this.unit();
    let units = 1;
    while (this.is('&')) {
      const and = this.next();
      if (this.is('&')) fail(and.at, '"&&" is not jsonpath-ng syntax', 'join conditions with a single &');
      // jsonpath-ng reads `@.a & ...` as the intersection of two paths, which it cannot evaluate.
      if (bare) fail(start.at, 'an existence test (a path without a comparison) followed by & is read by jsonpath-ng as an intersection of paths, which it cannot evaluate', "put existence tests last, or compare the value (@.x != '')");
      start = this.peek();
      bare = this.unit();
      units++;
    }
    return units === 1 && bare;
  }

  /** Returns whether the unit is a bare path (possibly in parentheses). */
  private unit(): boolean {
    if (this.is('(')) {
      this.next();
      const bare = this.conjunction();
      if (!this.is(')')) {
        const t = this.peek();
        if (t.kind === 'eof') fail(t.at, 'a "(" is not closed', 'add the missing ")"');
        this.unexpected(t);
      }
      this.next();
      return bare;
    }
    this.path();
    if (this.peek().kind === 'op') {
      this.next();
      this.value();
      return false;
    }
    return true;
  }

  private path(): void {
    const t = this.next();
    if (t.kind === 'punct' && t.text === '$') fail(t.at, '"$" in a filter is the item, not the payload, and reads as a whole JSONPath', 'write @ for the item');
    if (t.kind === 'name' && t.text.startsWith('@')) fail(t.at, `"${t.text}" is not a path`, `write @.${t.text.slice(1)}`);
    if (!(t.kind === 'punct' && t.text === '@')) {
      if (t.kind === 'eof') fail(t.at, 'the filter ends too early', 'end it with a condition such as @.collection == \'x\'');
      fail(t.at, `a condition must start with @ (the item), found ${t.kind === 'quoted' ? `'${t.text}'` : `"${t.text}"`}`);
    }
    for (;;) {
      if (this.is('.') || this.is('..')) {
        this.next();
        const name = this.next();
        if (name.kind === 'name' && !name.text.startsWith('@')) {
          if (RESERVED.has(name.text)) fail(name.at, `"${name.text}" is a jsonpath-ng keyword`, `quote it: '${name.text}'`);
          continue;
        }
        if (name.kind === 'quoted' || (name.kind === 'punct' && name.text === '*')) continue;
        if (name.kind === 'bool') fail(name.at, `"${name.text}" is read as a boolean by jsonpath-ng`, `quote the name: '${name.text}'`);
        if (name.kind === 'number') fail(name.at, `"${name.text}" after "." is not supported`, `quote it: '${name.text}'`);
        fail(name.at, 'a name must follow "."', "write @.name or @.'quoted name'");
      } else if (this.is('[')) {
        const open = this.next();
        const first = this.next();
        if (first.kind === 'punct' && first.text === '*') {
          if (!this.is(']')) this.unexpected(this.peek());
          this.next();
          continue;
        }
        if (first.kind === 'number') fail(first.at, 'an index is not supported in a filter', 'jsonpath-ng raises on items where that value is not a list; compare a field instead');
        if (first.kind === 'punct' && first.text === '?') fail(first.at, 'a nested filter is not supported');
        if (first.kind !== 'quoted') fail(first.at, `"[" at column ${open.at + 1} must hold a quoted name, e.g. ['eo:cloud_cover']`, "write ['name']");
        while (this.is(',')) {
          this.next();
          if (this.next().kind !== 'quoted') fail(this.toks[this.pos - 1]!.at, 'a quoted name must follow ","', "write ['a', 'b']");
        }
        if (!this.is(']')) {
          const t = this.peek();
          if (t.kind === 'eof') fail(t.at, `"[" at column ${open.at + 1} is not closed`, 'add the missing "]"');
          this.unexpected(t);
        }
        this.next();
      } else return;
    }
  }

  private value(): void {
    const t = this.next();
    if (t.kind === 'quoted' || t.kind === 'number' || t.kind === 'bool') return;
    if (t.kind === 'name') {
      if (RESERVED.has(t.text)) fail(t.at, `"${t.text}" is a jsonpath-ng keyword`, `quote it: '${t.text}'`);
      if (t.text.startsWith('@')) fail(t.at, `"${t.text}" is read as a string, not a path`, "compare with a literal value; quote strings: 'x'");
      return;
    }
    if (t.kind === 'punct' && t.text === '@') fail(t.at, 'jsonpath-ng compares a path only with a literal value, not with another path', "compare with a literal: @.a == 'x'");
    if (t.kind === 'eof') fail(t.at, 'the filter ends before the value of the comparison', "add a value, e.g. 50 or 'x'");
    if (t.kind === 'op') {
      const prev = this.toks[this.pos - 2]!;
      fail(prev.at, `"${prev.text}${t.text}" is not a comparison jsonpath-ng knows`, 'use ==, !=, <, <=, >, >= or =~ (regular expression)');
    }
    fail(t.at, `"${t.text}" is not a value`, "compare with a quoted string ('x'), a number (50), true or false");
  }
}

/** What is wrong with a cirrus item filter (jsonpath-ng dialect), or undefined when it is valid. */
export function itemFilterProblem(filter: string): FilterProblem | undefined {
  try {
    if (/^\s*\$/.test(filter)) {
      const at = filter.indexOf('$');
      fail(at, 'the filter is a whole JSONPath; cirrus applies it as $.features[?(<filter>)], so it must be the condition alone', "drop the $[?( )] around it and write conditions on @, e.g. @.collection == 'x'");
    }
    new Parser(tokenize(filter)).parse();
    return undefined;
  } catch (e) {
    if (e instanceof Fail) return e.problem;
    throw e;
  }
}

/** One-line description of an item filter problem: `<what> at column N; <fix>`. */
export function describeFilterProblem(field: string, filter: string, problem: FilterProblem): string {
  return `${field} ${JSON.stringify(filter)} is not a filter cirrus (jsonpath-ng) can apply: ${problem.what} at column ${problem.column}; ${problem.fix}`;
}
