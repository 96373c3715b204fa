/**
 * The `when` model (constructs/expressions/govaluate.ts) held against the real thing:
 * tools/argo-when-oracle runs Argo's shouldExecute steps with github.com/Knetic/govaluate
 * (Debian's package). Over hand-picked and 3000 random substituted `when` texts (conditions, and
 * the other operators: regex, in-lists, arithmetic, ternary, coalesce): whatever the
 * model evaluates, Argo evaluates to the same boolean; whatever it calls an error, Argo
 * refuses; what it calls unsupported it makes no claim about (and synth refuses).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateWhen } from '../../constructs/expressions/govaluate';
import { buildGoProgram, haveGo } from '../support/go';
import { HAND_PICKED, randomWhens } from './when/corpus';

const SOURCE = join(__dirname, '..', '..', 'tools', 'argo-when-oracle', 'main.go');
const HAVE_GO = haveGo(['github.com/Knetic/govaluate']);
const MISSING_GO = 'needs Go and govaluate: apt-get install golang-go golang-github-knetic-govaluate-dev (.ci/run installs them)';
if (!HAVE_GO && process.env.CI) throw new Error(MISSING_GO);

interface Argo {
  ok: boolean;
  value: boolean;
  error?: string;
}

describe('the when model', () => {
  it('reads what Argo reads, without Go', () => {
    const kinds = (texts: string[]) => texts.map((t) => { const o = evaluateWhen(t); return o.kind === 'value' ? o.value : o.kind; });
    // Bare words are strings; an empty when runs the step.
    expect(kinds(['', 'heads == heads', 'heads != heads', '"heads" == heads', '5 == "5"', '"10" < "9"', 'false && x', 'x && true'])).toEqual([true, true, false, true, false, true, false, 'error']);
    // A substituted URL, JSON or empty value breaks a bare comparison; quoted, it does not.
    expect(kinds(['s3://b/k.json == x', '{"a":1} == x', ' == x', '"s3://b/k.json" == x', '"" == ""'])).toEqual(['error', 'error', 'error', false, true]);
    // A prefix before a bare word is an error after Argo turns it into a string; a result must be a boolean.
    expect(kinds(['!heads', '!true', 'heads', '5'])).toEqual(['error', false, 'error', 'error']);
    // govaluate's other operators: regex (an invalid pattern fails the parse), in-lists, arithmetic, ternary, coalesce.
    expect(kinds(['a =~ "^a"', 'a !~ "^a"', 'a =~ "["', '1 =~ "1"', 'a in (a, b)', 'c in (a, b)', 'a in (a)'])).toEqual([true, false, 'error', 'error', true, false, 'error']);
    expect(kinds(['1 + 2 * 3 == 7', '10 - 2 - 3 == 5', 'a + 1 == a1', '"" + 100000000 == "1e+08"', 'true + 1 == 2', 'a - 1 == 0'])).toEqual([true, true, true, true, 'error', 'error']);
    expect(kinds(['1 > 2 ? false : true', 'true ? 1 : 2 == 1', '1 ? true : false', 'x ?? true', '(false ?? true) == false'])).toEqual([true, 'error', 'error', 'error', true]);
    // Dates, accessors, bitwise operators, regex syntax RE2 and JavaScript read differently, govaluate's oddities: not guessed.
    expect(kinds(['"2024-01-01" == x', 'a.B == c', '1 & 1 == 1', 'a =~ "(?i)A"', 'a =~ "a{2}"', '(a) b'])).toEqual(Array(6).fill('unsupported'));
  });
});

describe.skipIf(!HAVE_GO)('the when model against govaluate', () => {
  it(HAVE_GO ? 'agrees on every text it decides' : `skipped: ${MISSING_GO}`, () => {
    const whens = [...HAND_PICKED, ...randomWhens(3000, 20261206)];
    const run = spawnSync(buildGoProgram(SOURCE, 'argo-when-oracle'), [], { input: JSON.stringify(whens), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(run.status, run.stderr).toBe(0);
    const argo = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Argo);
    expect(argo).toHaveLength(whens.length);
    const counts = { value: 0, error: 0, unsupported: 0 };
    const disagreements: string[] = [];
    whens.forEach((when, i) => {
      const model = evaluateWhen(when);
      const a = argo[i]!;
      counts[model.kind]++;
      const agrees = model.kind === 'unsupported' || (model.kind === 'value' ? a.ok && a.value === model.value : !a.ok);
      if (!agrees) disagreements.push(`${JSON.stringify(when)}: model ${JSON.stringify(model)}, Argo ${JSON.stringify(a)}`);
    });
    expect(disagreements).toEqual([]);
    // The corpus has teeth: many texts decided each way, few left undecided.
    expect(counts.value).toBeGreaterThan(300);
    expect(counts.error).toBeGreaterThan(1000);
    expect(counts.unsupported / whens.length).toBeLessThan(0.25);
    // Each of govaluate's other operators is decided (evaluated, or refused as Argo refuses it) in many texts, both ways.
    for (const op of ['=~', '!~', ' in ', '+', '-', '*', '/', '%', '**', '?', ':', '??', ',']) {
      const decided = whens.map((w, i) => ({ w, m: evaluateWhen(w), a: argo[i]! })).filter(({ w, m }) => w.includes(op) && m.kind !== 'unsupported');
      expect(decided.filter(({ m }) => m.kind === 'value').length, `texts with ${op} evaluated`).toBeGreaterThan(5);
      expect(decided.filter(({ m }) => m.kind === 'error').length, `texts with ${op} refused`).toBeGreaterThan(5);
    }
  });
});
