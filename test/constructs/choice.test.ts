/**
 * Choice on the payload (constructs/payload.ts) and the typed join of branches (wf.firstOf):
 * what they render, that the rendering is valid for the upstream schema and the lint, that
 * the typed conditions mean what they say when Argo's expression language evaluates them
 * (the e2e renderer's evaluator), and the one-line errors of misuse.
 */
import { type App } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Condition, synthesize, Workflow } from '../../constructs';
import { PlatformEvents } from '../../constructs/events';
import { PAYLOAD_PROJECTION_ANNOTATION, projectPayload } from '../../constructs/payload';
import { lintObjects } from '../../tools/lint/index';
import { evaluate } from '../e2e/support/expr';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';
import { fixture, problemsOf } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function docs(app: App): Json[] {
  return [...synthesize(app).values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as Json)).filter(Boolean);
}

/** split -> (convert-batch | convert-single) -> merge, branching on the payload. */
function choice(options: { events?: boolean } = {}) {
  const f = fixture();
  const wf = new Workflow(f.app, 'wf');
  const split = wf.addStep('split', f.tasks.split);
  const batch = wf.payload.task('convert').param('batch');
  const a = wf.addStep('convert-batch', f.tasks.convert, { input: split.output, parameters: { asset: 'B04' }, when: batch.isTrue() });
  const b = wf.addStep('convert-single', f.tasks.convert, { input: split.output, parameters: { asset: 'B04' }, when: batch.isTrue().not() });
  wf.addStep('merge', f.tasks.merge, {
    input: wf.firstOf(a.output, b.output),
    parameters: { parts: '[]' },
    when: wf.payload.collections.includes('sentinel-2-l2a').and(wf.payload.itemCount.atMost(100)),
  });
  if (options.events) new PlatformEvents(f.app, 'events', { workflows: [wf] });
  return { f, wf };
}

const template = (all: Json[]) => all.find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === 'wf')!;
const task = (all: Json[], name: string) => template(all).spec.templates.find((t: Json) => t.name === 'main').dag.tasks.find((t: Json) => t.name === name);

describe('payload projections and firstOf', () => {
  it('declares each projection read as a workflow parameter (default \'\') and in the annotation, sorted', () => {
    const all = docs(choice().f.app);
    const wf = template(all);
    expect(JSON.parse(wf.metadata.annotations[PAYLOAD_PROJECTION_ANNOTATION])).toEqual({
      'payload-collections': 'collections', 'payload-convert-batch': 'process.tasks.convert.batch', 'payload-item-count': 'item-count',
    });
    expect(Object.keys(JSON.parse(wf.metadata.annotations[PAYLOAD_PROJECTION_ANNOTATION]))).toEqual(['payload-collections', 'payload-convert-batch', 'payload-item-count']);
    const params = (wf.spec.arguments.parameters as Json[]).slice(-3);
    expect(params.map((p) => [p.name, p.value])).toEqual([['payload-collections', ''], ['payload-convert-batch', ''], ['payload-item-count', '']]);
    expect(task(all, 'convert-batch').when).toBe(`{{=workflow.parameters['payload-convert-batch'] == 'true'}}`);
  });

  it('a workflow without projections has no annotation and no extra parameter', () => {
    const f = fixture();
    new Workflow(f.app, 'wf').addStep('split', f.tasks.split);
    const wf = template(docs(f.app));
    expect(wf.metadata.annotations).toBeUndefined();
    expect((wf.spec.arguments.parameters as Json[]).some((p) => p.name.startsWith('payload-') && !['payload-id', 'payload-store'].includes(p.name))).toBe(false);
  });

  it('firstOf renders a join over the branches\' statuses and makes the reader wait for every branch', () => {
    const all = docs(choice().f.app);
    const merge = task(all, 'merge');
    expect(merge.depends).toBe('convert-batch && convert-single');
    const url = (s: string) => `workflow.parameters['payload-store'] + '/' + workflow.name + '/${s}/output.json'`;
    expect(merge.arguments.parameters.find((p: Json) => p.name === 'input').value).toBe(
      `{{=(tasks['convert-batch'].status == 'Succeeded' ? ${url('convert-batch')} : (tasks['convert-single'].status == 'Succeeded' ? ${url('convert-single')} : ''))}}`,
    );
  });

  it.skipIf(!HAVE_REFERENCE)('validates against the upstream Argo schemas and lints clean with the sensors that fill the projections', () => {
    const all = docs(choice({ events: true }).f.app);
    for (const d of all) expect(validateArgoDocument(d), `${d.kind}/${d.metadata?.name}`).toEqual([]);
    expect(lintObjects(all).map((p) => `${p.path}: ${p.message}`)).toEqual([]);
  });

  it('the lint refuses a declaration a submitter cannot apply', () => {
    const lintOf = (mutate: (wf: Json) => void) => {
      const all = docs(choice().f.app);
      mutate(template(all));
      return lintObjects(all).filter((p) => p.rule === 'payload-projection').map((p) => p.message);
    };
    expect(lintOf(() => {})).toEqual([]);
    expect(lintOf((wf) => { wf.metadata.annotations[PAYLOAD_PROJECTION_ANNOTATION] = '{"a":'; })).toEqual([expect.stringMatching(/^is not JSON/)]);
    expect(lintOf((wf) => { wf.metadata.annotations[PAYLOAD_PROJECTION_ANNOTATION] = '{"payload-item-count":"features.length"}'; })).toEqual([
      expect.stringContaining('"features.length" is not one of process.tasks.<task>.<key>, collections, item-count'),
    ]);
    expect(lintOf((wf) => { wf.metadata.annotations[PAYLOAD_PROJECTION_ANNOTATION] = '{"nope":"collections"}'; })).toEqual([
      'projects "nope", which is not a workflow parameter of the template; declare it in spec.arguments.parameters with value ""',
    ]);
    expect(lintOf((wf) => { delete wf.spec.arguments.parameters.find((p: Json) => p.name === 'payload-collections').value; })).toEqual([
      expect.stringContaining('projects "payload-collections", whose workflow parameter has no value'),
    ]);
  });

  describe('typed conditions evaluate as Argo would (expr-lang)', () => {
    const wf = choice().wf;
    const env = (params: Record<string, string>) => ({ workflow: { parameters: params } });
    const holds = (c: Condition, params: Record<string, string>) => evaluate(c.expression, env(params));
    const batch = wf.payload.task('convert').param('batch');
    const p = 'payload-convert-batch';

    it.each([
      ['isTrue', batch.isTrue(), 'true', true], ['isTrue', batch.isTrue(), 'false', false], ['isTrue', batch.isTrue(), '', false],
      ['equals(5)', batch.equals(5), '5', true], ['equals(false)', batch.equals(false), 'false', true], ['equals("x")', batch.equals('x'), 'y', false],
      ['notEquals("x")', batch.notEquals('x'), '', true], ['isSet', batch.isSet(), '', false], ['isSet', batch.isSet(), '0', true],
      ['isOneOf', batch.isOneOf(['a', 2, true]), '2', true], ['isOneOf', batch.isOneOf(['a', 2, true]), 'b', false],
    ] as [string, Condition, string, boolean][])('%s on %j', (_n, c, value, expected) => {
      expect(holds(c, { [p]: value })).toBe(expected);
    });

    it('withDefault: the payload\'s setting, else the workflow parameter or literal; a step output is refused', () => {
      const f = fixture();
      const w = new Workflow(f.app, 'd', { parameters: { compression: { default: 'DEFLATE' } } });
      const v = w.payload.task('convert').param('compression');
      const e = v.withDefault(w.params.compression).expression;
      expect(evaluate(e, { workflow: { parameters: { 'payload-convert-compression': 'ZSTD', compression: 'DEFLATE' } } })).toBe('ZSTD');
      expect(evaluate(e, { workflow: { parameters: { 'payload-convert-compression': '', compression: 'DEFLATE' } } })).toBe('DEFLATE');
      expect(evaluate(v.withDefault('LZW').expression, { workflow: { parameters: { 'payload-convert-compression': '' } } })).toBe('LZW');
      const split = w.addStep('split', f.tasks.split);
      expect(() => v.withDefault(split.output)).toThrow(/takes a literal or a workflow parameter/);
    });

    it('item count compares as a number, and an unknown count fails instead of choosing', () => {
      const n = wf.payload.itemCount;
      const at = (c: Condition, v: string) => holds(c, { 'payload-item-count': v });
      expect([at(n.greaterThan(1), '2'), at(n.greaterThan(1), '1'), at(n.atLeast(10), '10'), at(n.lessThan(10), '9'), at(n.atMost(1), '2'), at(n.is(3), '3')])
        .toEqual([true, false, true, true, false, true]);
      expect(at(n.greaterThan(9), '10')).toBe(true); // not a string comparison
      expect(() => at(n.greaterThan(1), '')).toThrow(/asInt/);
      expect(() => n.greaterThan(1.5)).toThrow(/whole number/);
    });

    it('collections test membership of the JSON list the submitter fills', () => {
      const c = wf.payload.collections.includes('sentinel-2-l2a');
      expect(holds(c, { 'payload-collections': '["landsat-c2-l2","sentinel-2-l2a"]' })).toBe(true);
      expect(holds(c, { 'payload-collections': '["landsat-c2-l2"]' })).toBe(false);
      expect(holds(c, { 'payload-collections': '[]' })).toBe(false);
    });

    it('the join picks the first branch that succeeded, \'\' when none did', () => {
      const f = fixture();
      const w = new Workflow(f.app, 'j');
      const a = w.addStep('a', f.tasks.split);
      const b = w.addStep('b', f.tasks.split);
      const join = w.firstOf(a.output, b.outputs.parameters.assets);
      const scope = (sa: string, sb: string) => ({
        workflow: { name: 'run-1', parameters: { 'payload-store': 's3://p' } },
        tasks: { a: { status: sa }, b: { status: sb, outputs: { parameters: { assets: '["x"]' } } } },
      });
      expect(evaluate(join.expression, scope('Succeeded', 'Skipped'))).toBe('s3://p/run-1/a/output.json');
      expect(evaluate(join.expression, scope('Skipped', 'Succeeded'))).toBe('["x"]');
      expect(evaluate(join.expression, scope('Skipped', 'Failed'))).toBe('');
    });
  });

  it('projectPayload computes what the state service fills: object and array process forms, a parallel group\'s member, JSON text of non-strings, \'\' when absent', () => {
    const declaration = { b: 'process.tasks.convert.batch', o: 'process.tasks.convert.opts', c: 'collections', n: 'item-count' };
    const features = [{ collection: 'a' }, { collection: 'b' }, { id: 'no-collection' }, { collection: 'a' }];
    expect(projectPayload({ features, process: { tasks: { convert: { batch: true, opts: { x: [1] } } } } }, declaration, 'wf'))
      .toEqual({ b: 'true', o: '{"x":[1]}', c: '["a","b","a"]', n: '4' });
    expect(projectPayload({ features: [], process: [{ tasks: { convert: { batch: 'yes' } } }, { tasks: { convert: { batch: 'next' } } }] }, declaration, 'wf'))
      .toEqual({ b: 'yes', o: '', c: '[]', n: '0' });
    // A parallel first link: each member's run reads its own tasks; a workflow not in the group reads none.
    const group = { features, process: [[{ workflow: 'cog', tasks: { convert: { batch: 1 } } }, { workflow: 'thumbs', tasks: { convert: { batch: 2 } } }], { workflow: 'publish' }] };
    expect(projectPayload(group, declaration, 'thumbs')).toEqual({ b: '2', o: '', c: '["a","b","a"]', n: '4' });
    expect(projectPayload(group, declaration, 'cog')).toMatchObject({ b: '1' });
    expect(projectPayload(group, declaration, 'publish')).toMatchObject({ b: '' });
    // A reference carries process but no items.
    expect(projectPayload({ url: 's3://b/k.json', process: [{ tasks: { convert: { batch: 1 } } }] }, declaration, 'wf')).toEqual({ b: '1', o: '', c: '', n: '' });
    expect(projectPayload('not an object', { n: 'item-count' }, 'wf')).toEqual({ n: '' });
    expect(() => projectPayload({}, { x: 'features.0.id' }, 'wf')).toThrow(/is not one of/);
  });

  it('misuse is one line naming the construct and the fix', () => {
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('split', f.tasks.split, { when: wf.payload.task('my.task').param('batch').isTrue() });
      return f.app;
    })).toEqual(['wf: payload projection task "my.task" is not a plain name; use letters, digits, \'-\' and \'_\' (starting with a letter or digit)']);
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const a = wf.addStep('split', f.tasks.split);
      wf.addStep('merge', f.tasks.merge, { parameters: { parts: wf.firstOf(a.output) } });
      return f.app;
    })).toEqual(['wf: firstOf() joins two or more branches, got 1; pass each branch\'s output']);
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const a = wf.addStep('split', f.tasks.split);
      wf.addStep('merge', f.tasks.merge, { parameters: { parts: wf.firstOf(a.output, wf.params.input) } });
      return f.app;
    })).toEqual(['wf: firstOf() argument 2 is not a step\'s output (step.output or step.outputs.parameters.x); join the outputs of the branches\' steps']);
    // Argo's validation refuses a task argument artifact with fromExpression and no from: an artifact join is not expressible.
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const a = wf.addStep('stack-a', f.tasks.stack);
      const b = wf.addStep('stack-b', f.tasks.stack);
      // @ts-expect-error firstOf joins values (Ref), not artifacts: a type error before synth, a one-line error at synth.
      wf.addStep('mask', f.tasks.mask, { artifacts: { stack: wf.firstOf(a.outputs.artifacts.stack, b.outputs.artifacts.stack) } });
      return f.app;
    })).toEqual(['wf: firstOf() argument 1 is output artifact "stack" of step "stack-a", and Argo cannot join artifacts in a step\'s arguments; join the branches\' payloads (step.output) and read the artifact\'s data from the payload']);
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf', { parameters: { 'payload-item-count': { default: '1' } } });
      wf.addStep('split', f.tasks.split, { when: wf.payload.itemCount.greaterThan(1) });
      return f.app;
    })).toContain('wf: parameter "payload-item-count" is also the name of a payload projection; rename the parameter');
    expect(problemsOf(() => {
      const { f, wf } = choice({ events: true });
      wf.addStep('late', f.tasks.small, { when: wf.payload.task('late').param('x').isSet() });
      return f.app;
    })).toEqual(['events/Ingress: wf.payload was read after the events layer was created, so the sensors do not send that projection; create PlatformEvents after building the workflows']);
    expect(problemsOf(() => {
      const { f, wf } = choice();
      const up = new Workflow(f.app, 'up');
      up.addStep('split', f.tasks.split);
      up.then(wf, { filter: '@.id' });
      new PlatformEvents(f.app, 'events', { workflows: [up, wf] });
      return f.app;
    })).toEqual(['events/Chains: up.then() chains to workflow wf with a filter, but wf branches on the payload\'s items (wf.payload.collections / itemCount), which the filter changes after submission; drop the filter or branch on process.tasks']);
  });

  it('every trigger submitting a run sends the declaration as `projection` (static paths), never values: the state service fills them', () => {
    const { f, wf } = choice();
    const up = new Workflow(f.app, 'up');
    up.addStep('split', f.tasks.split);
    up.then(wf);
    new PlatformEvents(f.app, 'events', { workflows: [up, wf] });
    const all = docs(f.app);
    const declaration = JSON.parse(template(all).metadata.annotations[PAYLOAD_PROJECTION_ANNOTATION]);
    const triggers = all.filter((d) => d.kind === 'Sensor').flatMap((s) => s.spec.triggers as Json[])
      .filter((t) => (t.template.http?.payload as Json[] | undefined)?.some((p) => p.dest === 'workflow' && p.src.value === 'wf'));
    // Ingress (webhook, sqs), the payload-driven chain and the then() link.
    expect(triggers.length).toBeGreaterThanOrEqual(3);
    for (const t of triggers) {
      const payload = t.template.http.payload as Json[];
      expect(Object.fromEntries(payload.filter((p) => p.dest.startsWith('projection.')).map((p) => [p.dest.slice('projection.'.length), p.src]))).toEqual(
        Object.fromEntries(Object.entries(declaration).map(([name, path]) => [name, { dependencyName: payload[0]!.src.dependencyName, value: path }])),
      );
      expect(payload.filter((p) => p.dest.startsWith('arguments.payload-') && p.dest !== 'arguments.payload-id')).toEqual([]);
    }
  });
});
