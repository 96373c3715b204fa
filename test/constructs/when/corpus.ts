/**
 * `when` texts as Argo's govaluate sees them after substitution: hand-picked cases (what
 * users write, the official examples' forms, values that break bare words) and random ones
 * built from the same pieces, with random damage, from a seeded PRNG.
 */
import { prng } from '../../support/prng';

/** Cases any `when` checker must get right. */
export const HAND_PICKED: readonly string[] = [
  '', ' ', 'true', 'false', 'heads == heads', 'heads == tails', 'heads != tails', 'Succeeded == Succeeded',
  '"heads" == heads', "'heads' == \"heads\"", '5 > 3', '5 < 3', '5 == 5.0', '5 == "5"', '"b" > "a"', '"10" < "9"', '10 < "9"',
  'true && false', 'true || x', 'false && x', 'x && true', '!true', '!(1 > 2)', '!heads', '-1 < 0', '- 1 < 0', '--1 < 0',
  '(true)', '((1 == 1))', '(a) b', '(true) false', '(a ==)', '()', 'a b', '1 2', 'true true',
  's3://bucket/run/step/output.json == x', '"s3://bucket/run/step/output.json" == "s3://bucket/run/step/output.json"',
  '{"a": 1} == x', '"{\\"a\\": 1}" == "{\\"a\\": 1}"', '["a","b"] == x', '"it\'s" == x', "'it\"s' == x",
  'a.B == c', 'a.b == c', 'sentinel-2-l2a == sentinel-2-l2a', 'v1.2 == v1.2', '1.2.3 == 1.2.3', '.5 < 1', '1. == 1', '. == .',
  '0x1F == 31', '0x == 0', '"2024-01-01" == "2024-01-01"', '"3:04PM" == x', '"Mon Jan 2" == x', 'a =~ "^a"', 'a in (a, b)',
  'true ? true : false', 'x ?? true', '1 + 1 == 2', 'a + b == ab', '[my var] == "my var"', '[unclosed == x', '"unclosed == x',
  'a\\ b == "a b"', 'a == b\\', '\\', 'é == é', 'Straße == Straße', '１ == 1', 'a\t==\ta', '1==1', 'a==-1', 'a<-1', 'a == !b',
  '1 == 1 == true', '1 < 2 == true', 'true == 1 < 2', 'a || b && c', 'true || false && x', 'false && x || true',
  '10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 > 1',
  // govaluate's other operators, as Argo users write them: regex, in-lists, arithmetic, ternary, coalesce.
  's3://b/x.tif =~ "\\.tif$"', '"s3://b/x.tif" =~ "\\.tif$"', 'x.tif =~ ".tif$"', 'sentinel-2-l2a =~ "^sentinel-2"', 'landsat !~ "^sentinel"',
  'a =~ "^(a|b)$"', 'A =~ "[a-z]"', 'a =~ "["', 'a =~ "("', 'a =~ "a**"', 'a =~ "*a"', 'a =~ "a)"', 'a !~ "["', '1 =~ "1"', 'a =~ 1', 'a =~ b',
  'a =~ "\\d+"', '"12" =~ "^\\d+$"', '"a b" =~ "a\\sb"', '"a\\nb" =~ "a.b"', 'a =~ "(?i)A"', 'a =~ "a{2}"', 'a =~ ""',
  'a in (a, b)', 'c in (a, b)', 'a in (a)', '1 in (1, 2)', '"1" in (1, 2)', 'true in (true)', 'a in (b, (a, c))', 'Succeeded in (Succeeded, Skipped)', '(a, b) in (a, b)', 'a in ()',
  '1 + 2 == 3', '2 * 3 == 6', '7 / 2 == 3.5', '7 % 4 == 3', '2 ** 10 == 1024', '10 - 2 - 3 == 5', '12 / 3 / 2 == 2', '1 + 2 * 3 == 7', '(1 + 2) * 3 == 9',
  'a + 1 == a1', '1 + a == "1a"', '"x" + 1.5 == "x1.5"', '"" + 100000000 == "1e+08"', '"" + 1234567 == "1.234567e+06"', '"" + 0.00001 == "1e-05"', '"" + 123456 == "123456"',
  'true + 1 == 2', 'a - 1 == 0', 'a * 2 == aa', '1 / 0 > 1', '5 % 0 == 0', '-2 ** 0.5 == 1', '2 ** -1 == 0.5', '- 3 + 5 == 2', '!a + b',
  'true ? true : false', 'false ? true : false', '1 > 2 ? false : true', 'a == a ? b == b : false', 'true ? 1 : 2 == 1', '(true ? 1 : 2) == 1', '1 ? true : false',
  'false ? true', 'true ? true', 'a ? b : c', 'true ? false : x', 'false ? x : true', 'true ? (false ? 1 : true) : false',
  'x ?? true', 'true ?? false', '(false ?? true) == false', '(a ?? b) == a', 'a, b', '(a, b) == (a, b)', 'a ~ b', '~1 == -2', '1 & 1 == 1', '1 << 2 == 4',
];

const WORDS = ['heads', 'tails', 'Succeeded', 'Failed', 'true', 'false', 'x', 'A', 'in', 'IN', 'ab', 'a_b', 'é', 'Zz9'];
const NUMBERS = ['0', '1', '5', '1.5', '.5', '1.', '007', '1.2.3', '10', '2'];
const STRINGS = [
  '"heads"', "'heads'", '""', "''", '"a b"', '"s3://b/k.json"', '"{\\"a\\": 1}"', '"it\'s"', '"2024-01-01"', '"3:04PM"', '"Monday"',
  '"x\\\\y"', '"tab\\there"', '"10"', '"9"', '"é"',
];
/** What a bare `{{...}}` becomes after substitution: anything a step can output. */
const SUBSTITUTED = ['s3://b/run/x/output.json', '{"a":1}', '["a"]', '', 'a b', 'a.b', 'A.B', 'v1.2', 'sentinel-2-l2a', '42', '-1', 'it\'s', 'null'];
const BINARY = ['==', '!=', '<', '<=', '>', '>=', '&&', '||', '&&', '||', '==', '!=', '=~', '!~', 'in', '+', '-', '*', '/', '%', '**', '?', ':', '??', ','];
/** Patterns after `=~` / `!~`: valid, invalid, and ones RE2 and JavaScript read differently. */
const PATTERNS = ['"^s3://"', '"\\.json$"', '"[a-z]+"', '"^(a|b)$"', '"("', '"["', '"a**"', '"\\d+"', '"x?"', '"(?i)a"', '"a{2}"', '"."', '""', '"heads|tails"'];
const COMPARE = ['==', '!=', '<', '<=', '>', '>='];
const DAMAGE = ['(', ')', '"', "'", '!', '=', '&', '|', ' ', '\\', '[', ']', ':', '-', '.'];

/** `count` random `when` texts from `seed`. */
export function randomWhens(count: number, seed: number): string[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const space = () => (random() < 0.8 ? ' ' : '');
  const operand = (depth: number): string => {
    const r = random();
    if (depth < 3 && r < 0.25) return `(${space()}${expression(depth + 1)}${space()})`;
    if (r < 0.3) return `${pick(['!', '-'])}${space()}${operand(depth + 1)}`;
    if (r < 0.5) return pick(WORDS);
    if (r < 0.65) return pick(NUMBERS);
    if (r < 0.85) return pick(STRINGS);
    return pick(SUBSTITUTED);
  };
  const simple = (): string => {
    const r = random();
    return r < 0.4 ? pick(WORDS) : r < 0.6 ? pick(NUMBERS) : r < 0.9 ? pick(STRINGS) : pick(SUBSTITUTED);
  };
  const comparison = (depth: number): string =>
    random() < 0.7 ? `${simple()}${space()}${pick(COMPARE)}${space()}${simple()}` : `${operand(depth + 1)}${space()}${pick(COMPARE)}${space()}${operand(depth + 1)}`;
  /** The other operators' usual shapes: a regex match, an in-list, arithmetic compared, a ternary. */
  const shaped = (depth: number): string => {
    const r = random();
    if (r < 0.3) return `${simple()}${space()}${pick(['=~', '!~'])}${space()}${random() < 0.8 ? pick(PATTERNS) : simple()}`;
    if (r < 0.5) return `${simple()} in (${Array.from({ length: 1 + Math.floor(random() * 3) }, simple).join(`,${space()}`)})`;
    const number = () => (random() < 0.6 ? pick(NUMBERS) : simple());
    if (r < 0.75) return `${number()}${space()}${pick(['+', '-', '*', '/', '%', '**'])}${space()}${number()}${space()}${pick(COMPARE)}${space()}${number()}`;
    if (r < 0.85) return `${random() < 0.7 ? comparison(depth) : operand(depth + 1)}${space()}??${space()}${operand(depth + 1)}`;
    return `${comparison(depth)}${space()}?${space()}${random() < 0.7 ? pick(['true', 'false']) : operand(depth + 1)}${space()}:${space()}${random() < 0.7 ? pick(['true', 'false']) : operand(depth + 1)}`;
  };
  const expression = (depth: number): string => {
    if (random() < 0.2) return shaped(depth);
    if (random() < 0.5) {
      // Condition-shaped: comparisons joined by && / ||, what a `when` usually is.
      let out = random() < 0.2 ? `!(${comparison(depth)})` : comparison(depth);
      while (random() < 0.4) out += `${space()}${pick(['&&', '||'])}${space()}${random() < 0.3 ? `(${comparison(depth)})` : comparison(depth)}`;
      return out;
    }
    let out = operand(depth);
    const terms = depth < 3 ? Math.floor(random() * 3) : 0;
    for (let i = 0; i < terms; i++) out += `${space()}${pick(BINARY)}${space()}${operand(depth + 1)}`;
    return out;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = expression(0);
    if (random() < 0.15) {
      const at = Math.floor(random() * (text.length + 1));
      text = random() < 0.5 ? text.slice(0, at) + pick(DAMAGE) + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
    }
    out.push(text);
  }
  return out;
}
