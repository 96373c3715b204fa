import { type App } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ContainerTask, synthesize, Workflow } from '../../constructs';
import { lintObjects } from '../../tools/lint/index';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';
import { fixture, problemsOf } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const NOT_FAILED = "!(tasks['fetch'].status in ['Failed', 'Error'])";

function docs(app: App): Json[] {
  return [...synthesize(app).values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as Json));
}
const dagOf = (all: Json[], wf: string) => all.find((d) => d.metadata?.name === wf && d.kind === 'WorkflowTemplate')!.spec.templates.find((t: Json) => t.name === 'main').dag.tasks as Json[];
const taskOf = (all: Json[], wf: string, name: string) => dagOf(all, wf).find((t) => t.name === name)!;

/** fetch -> convert -> merge, with two catchers on fetch: not-found, then any other failure. */
function caught(style: 'onFailure' | 'catch') {
  const f = fixture();
  const fetchTask = new ContainerTask(f.lib, 'fetch', { image: 'ghcr.io/example/stac-tools:2.1.0', errors: { 'not-found': 44, throttled: 75 } });
  const wf = new Workflow(f.app, 'wf');
  const missing = style === 'catch' ? wf.addStep('report-missing', f.tasks.small) : undefined;
  const other = style === 'catch' ? wf.addStep('report-other', f.tasks.stack) : undefined;
  const fetch = wf.addStep('fetch', fetchTask, style === 'catch' ? { catch: [{ on: ['not-found'], then: missing! }, { then: other! }] } : {});
  const convert = wf.addStep('convert', f.tasks.convert, { input: fetch.output, parameters: { asset: 'B04' } });
  wf.addStep('merge', f.tasks.merge, { input: convert.output, parameters: { parts: '[]' } });
  if (style === 'onFailure') {
    fetch.onFailure(wf.addStep('report-missing', f.tasks.small), { on: ['not-found'] });
    fetch.onFailure(wf.addStep('report-other', f.tasks.stack));
  }
  return { f, wf };
}

describe('catch', () => {
  it('renders handlers on the caught step\'s failure, first match wins, and gates the steps after it', () => {
    const all = docs(caught('onFailure').f.app);
    const t = (n: string) => taskOf(all, 'wf', n);
    expect(t('report-missing')).toMatchObject({ depends: '(fetch.Failed || fetch.Errored)', when: `{{=(tasks['fetch'].exitCode ?? '') in ['44']}}` });
    expect(t('report-other')).toMatchObject({ depends: '(fetch.Failed || fetch.Errored)', when: `{{=!((tasks['fetch'].exitCode ?? '') in ['44'])}}` });
    expect(t('convert')).toMatchObject({
      depends: '(fetch.Succeeded || fetch.Skipped || fetch.Daemoned || report-missing.Succeeded || report-other.Succeeded)',
      when: `{{=${NOT_FAILED}}}`,
    });
    expect(t('merge')).toMatchObject({ depends: 'convert', when: `{{=${NOT_FAILED}}}` });
    expect(t('fetch').depends).toBeUndefined();
    expect(t('fetch').when).toBeUndefined();
  });

  it('`catch` on addStep renders exactly as onFailure()', () => {
    expect(dagOf(docs(caught('catch').f.app), 'wf').sort((a, b) => (a.name < b.name ? -1 : 1)))
      .toEqual(dagOf(docs(caught('onFailure').f.app), 'wf').sort((a, b) => (a.name < b.name ? -1 : 1)));
  });

  it('keeps the run output on the step after the caught one, reported only when no caught failure is in workflow.failures', () => {
    const { wf } = caught('onFailure');
    expect(wf.outputNode?.name).toBe('merge');
    const all = docs(wf.node.root as App);
    const completed = all.find((d) => d.metadata?.name === 'wf')!.spec.templates.find((t: Json) => t.name === 'swoop-completed');
    expect(completed.http.body).toContain(`'output': workflow.status == 'Succeeded' ? (!(fromJSON(workflow.failures ?? '""') contains '"displayName":"fetch",') ? `);
  });

  it('gives exit steps wf.failures.json and wf.failures.any', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    wf.addStep('first', f.tasks.small);
    wf.addExitStep('notify', f.tasks.merge, { parameters: { parts: wf.failures.json }, when: wf.failures.any });
    const exit = docs(f.app).find((d) => d.metadata?.name === 'wf')!.spec.templates.find((t: Json) => t.name === 'swoop-exit').dag.tasks.find((t: Json) => t.name === 'notify');
    expect(exit.arguments.parameters.find((p: Json) => p.name === 'parts').value).toBe(`{{=fromJSON(workflow.failures ?? '"null"')}}`);
    expect(exit.when).toBe(`{{=fromJSON(workflow.failures ?? '"null"') != 'null'}}`);
  });

  it.skipIf(!HAVE_REFERENCE)('validates against the upstream Argo Workflows v4.0.6 schema and lints clean', () => {
    const all = docs(caught('onFailure').f.app);
    for (const d of all) expect(validateArgoDocument(d), `${d.kind}/${d.metadata?.name}`).toEqual([]);
    expect(lintObjects(all).map((p) => `${p.path}: ${p.message}`)).toEqual([]);
  });

  const invalid: [string, () => App, string][] = [
    ['an undeclared error name', () => {
      const { f, wf } = caught('onFailure');
      const fetch = wf.nodes.find((n) => n.name === 'fetch')!;
      fetch.onFailure(wf.addStep('h', f.tasks.small), { on: ['gone'] });
      return f.app;
    }, 'wf/fetch: catch 3 names error "gone", which task of step "fetch" does not declare (declared: not-found, throttled); declare it in the task\'s errors or fix the name'],
    ['a step as its own handler', () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const a = wf.addStep('a', f.tasks.small);
      a.onFailure(a);
      return f.app;
    }, 'wf/a: catch 1 names the step itself as its handler; name another step'],
    ['a class Argo does not expose to a catch', () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('p', f.tasks.publish).onFailure(wf.addStep('h', f.tasks.small), { on: ['transient'] });
      return f.app;
    }, 'wf/p: catch 1 names class "transient", which Argo does not expose to a catch (only Failed and Error); match Failed, Error or a declared error'],
    ['a handler reading from after the caught step', () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const a = wf.addStep('a', f.tasks.small);
      const b = wf.addStep('b', f.tasks.small, { input: a.output });
      a.onFailure(wf.addStep('h', f.tasks.small, { input: b.output }));
      return f.app;
    }, 'wf/a: catch 1: handler "h" reads from steps after "a", which do not run when it fails; the handler may only read what ran before'],
    ['catch with continueOnFailure', () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('a', f.tasks.small, { continueOnFailure: true }).onFailure(wf.addStep('h', f.tasks.split));
      return f.app;
    }, 'wf/a: has catch and continueOnFailure; continueOnFailure lets the next steps run after a failure, so the catch would not apply; drop one'],
    ['wf.failures outside the exit handler', () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('m', f.tasks.merge, { parameters: { parts: wf.failures.json } });
      return f.app;
    }, 'wf/m: reads wf.failures, which Argo sets only in the exit handler; read it in an exit step (a catch handler runs because its caught step failed)'],
    ['one handler for two catches', () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const h = wf.addStep('h', f.tasks.split);
      wf.addStep('a', f.tasks.small).onFailure(h);
      wf.addStep('b', f.tasks.stack).onFailure(h);
      return f.app;
    }, 'wf/b: catch 1: step "h" already handles a failure of step "a"; give each catch its own handler step'],
  ];
  it.each(invalid)('refuses %s at synth, naming the step', (_name, build, message) => {
    expect(problemsOf(build)).toContain(message);
  });
});
