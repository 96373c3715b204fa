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
];

const WORDS = ['heads', 'tails', 'Succeeded', 'Failed', 'true', 'false', 'x', 'A', 'in', 'IN', 'ab', 'a_b', 'é', 'Zz9'];
const NUMBERS = ['0', '1', '5', '1.5', '.5', '1.', '007', '1.2.3', '10', '2'];
const STRINGS = [
  '"heads"', "'heads'", '""', "''", '"a b"', '"s3://b/k.json"', '"{\\"a\\": 1}"', '"it\'s"', '"2024-01-01"', '"3:04PM"', '"Monday"',
  '"x\\\\y"', '"tab\\there"', '"10"', '"9"', '"é"',
];
/** What a bare `{{...}}` becomes after substitution: anything a step can output. */
const SUBSTITUTED = ['s3://b/run/x/output.json', '{"a":1}', '["a"]', '', 'a b', 'a.b', 'A.B', 'v1.2', 'sentinel-2-l2a', '42', '-1', 'it\'s', 'null'];
const BINARY = ['==', '!=', '<', '<=', '>', '>=', '&&', '||', '&&', '||', '==', '!=', '=~', 'in', '+', '-', '**', '?', ':', '??', ','];
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
  const expression = (depth: number): string => {
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
