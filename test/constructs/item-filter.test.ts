import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Workflow } from '../../constructs';
import { CallbackTarget, PlatformEvents } from '../../constructs/events';
import { itemFilterProblem } from '../../constructs/expressions/item-filter';
import { referencePath } from '../support/reference';
import { fixture, problemsOf } from './fixtures';

/**
 * chain_filter / featureFilter are checked at synth with the dialect cirrus applies them in:
 * jsonpath-ng's extended parser, as `$.features[?(<filter>)]`. The same corpus goes through
 * the real jsonpath-ng (the Python library cirrus and stac-task use): everything the synth
 * check accepts must parse and evaluate there, and what it rejects as a syntax error must
 * fail there too.
 */

/** Runs each filter through jsonpath-ng exactly as cirrus does; evaluates on `items` (and on an empty item). */
function jsonpathNg(filters: readonly string[], items: readonly unknown[]): { parsed: boolean; error?: string; matched?: unknown[] }[] {
  const script = `
import json, sys
from jsonpath_ng.ext.parser import ExtendedJsonPathParser
# What jsonpath_ng.ext.parse() builds on each call, built once (the table takes ~100 ms).
parser = ExtendedJsonPathParser()
req = json.load(sys.stdin)
out = []
for f in req['filters']:
    try:
        expr = parser.parse(f"$.features[?({f})]")
    except Exception as e:
        out.append({'parsed': False, 'error': type(e).__name__ + ': ' + str(e)})
        continue
    try:
        matched = [m.value.get('id') for m in expr.find({'features': req['items']})]
        expr.find({'features': [{}]})
        out.append({'parsed': True, 'matched': matched})
    except Exception as e:
        out.append({'parsed': True, 'error': type(e).__name__ + ': ' + str(e)})
print(json.dumps(out))
`;
  const run = spawnSync('python3', ['-c', script], { input: JSON.stringify({ filters, items }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) {
    throw new Error(`python3 with jsonpath-ng (cirrus' filter library; pip jsonpath-ng, shipped on the node-svc machine image) failed: ${run.stderr || run.error?.message}`);
  }
  return JSON.parse(run.stdout);
}

// Items of a real cirrus payload, plus items whose properties cover the filters below.
const realItems = (JSON.parse(readFileSync(referencePath('cirrus-payloads', 'publish-sentinel.json'), 'utf8')) as { features: unknown[] }).features;
const items = [
  ...realItems,
  { id: 'clear', collection: 'sentinel-2-l2a', properties: { 'eo:cloud_cover': 10, platform: 'sentinel-2a', gsd: 10.5, 'cloud-free': true } },
  { id: 'cloudy', collection: 'sentinel-2-l2a', properties: { 'eo:cloud_cover': 80, platform: 'sentinel-2b', gsd: 20.0, 'cloud-free': false } },
  { id: 'landsat', collection: 'landsat-c2-l2', properties: { 'eo:cloud_cover': 5, platform: 'landsat-9', gsd: 30.0 } },
];

/** Valid filters and the item ids jsonpath-ng selects with them. */
const VALID: [string, string[]][] = [
  ["@.properties.'eo:cloud_cover' < 50", ['clear', 'landsat']],
  ["@.properties['eo:cloud_cover'] >= 50", ['cloudy']],
  ['@.properties."eo:cloud_cover" <= 10', ['clear', 'landsat']],
  ["@.collection == 'sentinel-2-l2a'", ['clear', 'cloudy']],
  ['@.collection == "landsat-c2-l2"', ['landsat']],
  ['@.collection = landsat-c2-l2', ['landsat']],
  ["@.collection != 'sentinel-2-l2a' & @.properties.gsd > 25.5", ['landsat']],
  ["(@.properties.'eo:cloud_cover' < 50) & (@.collection == 'sentinel-2-l2a')", ['clear']],
  ["@.properties.platform =~ '^sentinel-2[ab]$'", ['clear', 'cloudy']],
  ["@.properties.'cloud-free' == true", ['clear']],
  ['@.properties.cloud-free == false', ['cloudy']],
  ['@.properties.gsd > -1.5', ['clear', 'cloudy', 'landsat']],
  ["@.properties.'eo:cloud_cover'", ['clear', 'cloudy', 'landsat']],
  ['@..gsd < 15', ['clear']],
  ["@.properties.* == 'landsat-9'", ['landsat']],
  ["@['collection'] == 'landsat-c2-l2' & (@.id == landsat & (@.properties.gsd >= 30))", ['landsat']],
  ["@.collection == 'sentinel-2-l2a' & @.properties.'cloud-free'", ['clear', 'cloudy']],
];

/** Invalid filters: the position and message the synth check gives; jsonpath-ng refuses each too. */
const INVALID: [string, string][] = [
  ['@.properties.eo:cloud_cover < 50', `":" cannot appear in an unquoted name (jsonpath-ng reads it as a slice) at column 16; quote the name, e.g. @.properties.'eo:cloud_cover'`],
  ["@.collection == 'x' | @.collection == 'y'", '"|" (or) is not supported in jsonpath-ng filters at column 21; use only & (and); to route items either way, chain to two workflows with one filter each'],
  ["@.collection == 'x' && @.id", '"&&" is not jsonpath-ng syntax at column 21; join conditions with a single &'],
  ["!(@.collection == 'x')", 'negation "!" is not supported in jsonpath-ng filters at column 1; compare with != or use the opposite comparison'],
  ["@.collection == 'x", "the string starting at column 17 is not closed at column 17; close it with '"],
  ['@.properties.gsd <', 'the filter ends before the value of the comparison at column 19; add a value, e.g. 50 or \'x\''],
  ['@.properties.gsd < @.x', 'jsonpath-ng compares a path only with a literal value, not with another path at column 20; compare with a literal: @.a == \'x\''],
  ['@.properties.truecolor == 1', `"truecolor" starts with "true", which jsonpath-ng reads as a boolean at column 14; quote the name: 'truecolor'`],
  ['@.where == 1', `"where" is a jsonpath-ng keyword at column 3; quote it: 'where'`],
  ['@.gsd == 1e5', '"1e" is not a number jsonpath-ng reads at column 10; write an integer (50) or a decimal with digits on both sides of the point (0.5)'],
  ['', `the filter is empty at column 1; write conditions on the item such as @.properties.'eo:cloud_cover' < 50 or @.collection == 'sentinel-2-l2a', joined by &`],
  ["(@.collection == 'x'", 'a "(" is not closed at column 21; add the missing ")"'],
  ['@.gsd <> 1', '"<>" is not a comparison jsonpath-ng knows at column 7; use ==, !=, <, <=, >, >= or =~ (regular expression)'],
  ["@.collection == 'x' &", "the filter ends too early at column 22; end it with a condition such as @.collection == 'x'"],
];

/** Valid for jsonpath-ng, refused here because they do not do what they seem to. */
const REFUSED: [string, string][] = [
  ["$[?(@.collection == 'x')]", "the filter is a whole JSONPath; cirrus applies it as $.features[?(<filter>)], so it must be the condition alone at column 1; drop the $[?( )] around it and write conditions on @, e.g. @.collection == 'x'"],
  ["$.collection == 'x'", "the filter is a whole JSONPath; cirrus applies it as $.features[?(<filter>)], so it must be the condition alone at column 1; drop the $[?( )] around it and write conditions on @, e.g. @.collection == 'x'"],
  ["@.properties.instruments[0] == 'msi'", 'an index is not supported in a filter at column 26; jsonpath-ng raises on items where that value is not a list; compare a field instead'],
];

const describeProblem = (f: string) => {
  const p = itemFilterProblem(f);
  return p && `${p.what} at column ${p.column}; ${p.fix}`;
};

describe('item filters (chain_filter, featureFilter) against jsonpath-ng, the library cirrus evaluates them with', () => {
  it('accepts each valid filter, and jsonpath-ng selects the expected items with it', () => {
    expect(VALID.map(([f]) => [f, describeProblem(f)])).toEqual(VALID.map(([f]) => [f, undefined]));
    const results = jsonpathNg(VALID.map(([f]) => f), items);
    expect(results.map((r, i) => [VALID[i]![0], r.error, r.matched])).toEqual(VALID.map(([f, ids]) => [f, undefined, ids]));
  });

  it('rejects each invalid filter with its position and fix, and jsonpath-ng fails to parse each', () => {
    expect(INVALID.map(([f]) => [f, describeProblem(f)])).toEqual(INVALID);
    const results = jsonpathNg(INVALID.map(([f]) => f), items);
    expect(results.map((r, i) => [INVALID[i]![0], r.parsed])).toEqual(INVALID.map(([f]) => [f, false]));
  });

  it('refuses whole JSONPaths and indexes, which jsonpath-ng parses but which do not select what they seem to', () => {
    expect(REFUSED.map(([f]) => [f, describeProblem(f)])).toEqual(REFUSED);
    const results = jsonpathNg(REFUSED.map(([f]) => f), items);
    // `$[?(@.collection == 'x')]` filters each item's *values*; `$` is the item; an index raises on non-lists.
    expect(results.map((r) => r.parsed)).toEqual([true, true, true]);
    expect(jsonpathNg(["$[?(@.collection == 'sentinel-2-l2a')]"], items)[0]!.matched).toEqual([]);
  });

  it('refuses an existence test followed by &, which jsonpath-ng parses as an intersection it cannot evaluate', () => {
    const filter = "@.properties.gsd & @.collection == 'x'";
    expect(describeProblem(filter)).toBe("an existence test (a path without a comparison) followed by & is read by jsonpath-ng as an intersection of paths, which it cannot evaluate at column 1; put existence tests last, or compare the value (@.x != '')");
    expect(jsonpathNg([filter], items)[0]).toEqual({ parsed: true, error: 'NotImplementedError: ' });
  });

  it('accepts nothing jsonpath-ng cannot parse and evaluate: 2000 random filters from the grammar\'s pieces', () => {
    const pieces = [
      '@', '.', '..', '@.', 'properties', "'eo:cloud_cover'", '"x y"', 'eo', ':', 'cloud_cover', 'gsd', 'a-b', '@a', 'where', 'true', 'false', 'trueish',
      '<', '<=', '==', '=', '!=', '>', '>=', '=~', '<>', '50', '10.5', '-1', '-', '1.', '1e5', "'x'", 'x', '&', '&&', '|', '!', '(', ')', '[', ']', '*',
      ',', "['a']", "['a','b']", '[0]', '[*]', '$', '?', ' ', ' ', '  ', '\t', '\n',
    ];
    let seed = 11; // mulberry32: a fixed seed, so the same 2000 filters every run
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const filters = new Set<string>();
    while (filters.size < 2000) {
      // Half from a small grammar (mostly valid), half from free token soup (mostly not).
      if (random() < 0.5) {
        const cond = () => `${pick(['@', '@.', '@..'])}${pick(['properties', "'eo:cloud_cover'", 'gsd', 'a-b', '*', "['a']", "['a','b']"])}${pick(['', '.gsd', "['x']", '[*]', '.*'])}${pick(['', ` ${pick(['<', '==', '=', '!=', '>=', '=~'])} ${pick(['50', '10.5', '-1', "'x'", 'x', 'true', '"y"'])}`])}`;
        const parts = Array.from({ length: 1 + Math.floor(random() * 3) }, () => (random() < 0.3 ? `(${cond()})` : cond()));
        filters.add(parts.join(pick([' & ', '&', ' && ', ' | '])));
      } else {
        filters.add(Array.from({ length: 1 + Math.floor(random() * 7) }, () => pick(pieces)).join(''));
      }
    }
    const all = [...filters];
    const accepted = all.filter((f) => itemFilterProblem(f) === undefined);
    expect(accepted.length).toBeGreaterThan(200);
    const results = jsonpathNg(accepted, [{}]);
    const broken = accepted.map((f, i) => [f, results[i]!] as const).filter(([, r]) => !r.parsed || r.error !== undefined).map(([f, r]) => [f, r.error]);
    expect(broken).toEqual([]);
  });
});

describe('synth fails on an invalid item filter, at the construct path', () => {
  it('a chain link filter (then)', () => {
    expect(problemsOf(() => {
      const f = fixture();
      const a = new Workflow(f.app, 'a');
      a.addStep('split', f.tasks.split);
      const b = new Workflow(f.app, 'b');
      b.addStep('split', f.tasks.split);
      a.then(b, { filter: '@.properties.eo:cloud_cover < 50' });
      return f.app;
    })).toEqual([
      `a: then(b) filter "@.properties.eo:cloud_cover < 50" is not a filter cirrus (jsonpath-ng) can apply: ":" cannot appear in an unquoted name (jsonpath-ng reads it as a slice) at column 16; quote the name, e.g. @.properties.'eo:cloud_cover'`,
    ]);
  });

  it('a callback featureFilter', () => {
    const build = (featureFilter: string) => () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('split', f.tasks.split);
      const handler = new Workflow(f.app, 'handler');
      handler.addStep('split', f.tasks.split);
      const events = new PlatformEvents(f.app, 'events', {});
      events.addCallback('per-item', { workflow: wf, when: ['successful'], type: 'perFeature', featureFilter, target: CallbackTarget.workflow(handler) });
      return f.app as App;
    };
    expect(problemsOf(build("@.collection == 'x' | @.id"))).toEqual([
      `events/Callbacks/per-item: featureFilter "@.collection == 'x' | @.id" is not a filter cirrus (jsonpath-ng) can apply: "|" (or) is not supported in jsonpath-ng filters at column 21; use only & (and); to route items either way, chain to two workflows with one filter each`,
    ]);
    expect(problemsOf(build("@.properties.'eo:cloud_cover' < 10"))).toEqual([]);
  });
});
