import { type App, Duration } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ContainerTask, ServiceTask, synthesize, TRANSIENT_MESSAGES, Workflow } from '../../constructs';
import { lintObjects } from '../../tools/lint/index';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';
import { fixture, problemsOf } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function docs(app: ReturnType<typeof fixture>['app']): Json[] {
  return [...synthesize(app).values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as Json));
}
const strategyOf = (all: Json[], task: string) => all.find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === task)!.spec.templates[0].retryStrategy;

/** A task with named errors and three rules, as a cirrus task with Step Functions retriers ports. */
function withRules() {
  const f = fixture();
  const fetch = new ContainerTask(f.lib, 'fetch', {
    image: 'ghcr.io/example/stac-tools:2.1.0',
    errors: { throttled: 75, 'not-found': 44 },
    retry: {
      rules: [
        { on: ['throttled'], limit: 5 },
        { on: ['Failed'], message: /(?:SlowDown|503)/i, limit: 3 },
        { on: ['transient', 'Error'], limit: 2 },
      ],
      backoff: { delay: Duration.seconds(10), factor: 2, cap: Duration.minutes(1), maxDuration: Duration.minutes(30) },
    },
  });
  new Workflow(f.app, 'wf').addStep('fetch', fetch);
  return f;
}

describe('retry rules', () => {
  it('combine into one retryStrategy: first matching rule decides, limit is the largest rule limit', () => {
    const s = strategyOf(docs(withRules().app), 'fetch');
    expect(s.limit).toBe(5);
    expect(s.retryPolicy).toBe('Always');
    expect(s.backoff).toEqual({ duration: '10s', factor: 2, cap: '60s', maxDuration: '1800s' });
    expect(s.expression).toBe(
      "(lastRetry.exitCode in ['75']) ? asInt(retries) < 5 : " +
        "((lastRetry.status == 'Failed' && lastRetry.message matches '(?i)(?:SlowDown|503)') ? asInt(retries) < 3 : " +
        "(lastRetry.message matches '" + TRANSIENT_MESSAGES.join('|') + "' || lastRetry.status == 'Error') && asInt(retries) < 2)",
    );
  });

  it('take the shorthand `retry: [rules]` with the default backoff', () => {
    const f = fixture();
    const t = new ContainerTask(f.lib, 'quick', { image: 'ghcr.io/example/stac-tools:2.1.0', errors: { throttled: 75 }, retry: [{ on: ['throttled'], limit: 4 }] });
    new Workflow(f.app, 'wf').addStep('quick', t);
    expect(strategyOf(docs(f.app), 'quick')).toEqual({
      limit: 4, retryPolicy: 'Always', expression: "(lastRetry.exitCode in ['75']) && asInt(retries) < 4",
      backoff: { duration: '10s', factor: 2, maxDuration: '600s' },
    });
  });

  it('match exit codes, classes and messages together (all given criteria must hold)', () => {
    const f = fixture();
    const t = new ContainerTask(f.lib, 'codes', {
      image: 'ghcr.io/example/stac-tools:2.1.0',
      errors: { throttled: 75 },
      retry: [{ on: ['throttled'], exitCodes: [70, 71], message: 'quota', limit: 2 }, { limit: 1 }],
    });
    new Workflow(f.app, 'wf').addStep('codes', t);
    expect(strategyOf(docs(f.app), 'codes').expression).toBe(
      "(lastRetry.exitCode in ['70', '71', '75'] && lastRetry.message contains 'quota') ? asInt(retries) < 2 : asInt(retries) < 1",
    );
  });

  it.skipIf(!HAVE_REFERENCE)('validate against the upstream Argo Workflows v4.0.6 schema and lint clean', () => {
    const all = docs(withRules().app);
    for (const d of all) expect(validateArgoDocument(d), `${d.kind}/${d.metadata?.name}`).toEqual([]);
    expect(lintObjects(all).map((p) => `${p.path}: ${p.message}`)).toEqual([]);
  });

  const invalid: [string, () => App, string][] = [
    ['an unknown error name', () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', errors: { throttled: 75 }, retry: [{ on: ['throttle'], limit: 5 }] });
      return f.app;
    }, 'lib/bad: retry rule 1 names error "throttle", which the task does not declare (declared: throttled; classes: Failed, Error, transient); declare it in the task\'s errors or fix the name'],
    ['a catch-all rule before others', () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', retry: [{ limit: 1 }, { on: ['Error'], limit: 3 }] });
      return f.app;
    }, 'lib/bad: retry rule 1 matches every failure, so rules after it never apply; make it the last rule or narrow it'],
    ['policy beside rules', () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', retry: { policy: 'OnError', rules: [{ on: ['Error'], limit: 3 }] } });
      return f.app;
    }, 'lib/bad: retry has both policy and rules; the rules decide, so name the classes in their on (Failed, Error, transient) and drop policy'],
    ['a fractional backoff factor', () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', retry: { limit: 2, backoff: { delay: Duration.seconds(5), factor: 1.5 } } });
      return f.app;
    }, 'lib/bad: backoff factor must be a whole number >= 1 (Argo reads it as an integer); got 1.5'],
    ['a lookahead in a message pattern', () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', retry: [{ message: /Slow(?!ly)/, limit: 2 }] });
      return f.app;
    }, 'lib/bad: retry rule 1: message pattern /Slow(?!ly)/ uses a lookaround, which Go regular expressions (RE2) do not support; rewrite it without one'],
    ['an error declared with exit code 0', () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', errors: { done: 0 } });
      return f.app;
    }, 'lib/bad: error "done" has exit code 0; a failed container exits with 1-255'],
    ['two errors with one exit code', () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', errors: { throttled: 75, slow: 75 } });
      return f.app;
    }, 'lib/bad: errors "throttled" and "slow" share exit code 75; a rule could not tell them apart'],
    ['an exit code rule on a service task', () => {
      const f = fixture();
      new ServiceTask(f.lib, 'bad', { image: 'ghcr.io/example/publisher:1.0.4', retry: [{ exitCodes: [75], limit: 2 }] });
      return f.app;
    }, 'lib/bad: retry rule 1 matches exit codes, but an HTTP step has none; match a class or a message instead'],
  ];
  it.each(invalid)('refuse %s at synth, naming the task', (_name, build, message) => {
    expect(problemsOf(build)).toContain(message);
  });
});
