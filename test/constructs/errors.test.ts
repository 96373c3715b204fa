import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConstructPathError, problemLines, ValidationError } from '../../constructs';
import { appSource, fixtureDir, ROOT, runTs } from './cli-fixture';

/** Synth, lint and simulate report every failure as one line per problem, exit 1, no stack trace unless --debug. */
const fixture = fixtureDir();
afterAll(() => fixture.remove());
let n = 0;

function synth(body: string, args: string[] = []) {
  const file = fixture.write(`main-${n++}.ts`, appSource(body));
  const run = runTs(file, args);
  return { ...run, file: relative(ROOT, file), wroteNothing: !existsSync(join(fixture.dir, 'dist')) };
}

const STACK_FRAME = /^\s+at /m;

describe('npm run synth: one line per problem', () => {
  it('a duplicate task id names the task, not the constructs library', () => {
    const run = synth(`new ContainerTask(t.lib, 'split', { image: 'python:3.12.7' });`);
    expect(run.lines).toEqual(['lib/split: the task library already has a task with the id "split"; give each task its own id']);
    expect(run.status).toBe(1);
    expect(run.wroteNothing).toBe(true);
  }, 30_000);

  it('a duplicate step id is the message alone', () => {
    const run = synth(`const wf = new Workflow(app, 'wf'); wf.addStep('a', t.split); wf.addStep('a', t.split);`);
    expect(run.lines).toEqual(['wf/a: duplicate step name "a" (already used by wf/a); every step of a workflow needs its own name']);
    expect(run.status).toBe(1);
  }, 30_000);

  it('a duplicate workflow id names the workflow', () => {
    const run = synth(`new Workflow(app, 'wf').addStep('a', t.split); new Workflow(app, 'wf');`);
    expect(run.lines).toEqual(['wf: the app already has a construct with the id "wf"; give each workflow its own id']);
  }, 30_000);

  it('a wrong-typed timeout names the prop, not "toSeconds is not a function"', () => {
    const run = synth(`new ContainerTask(t.lib, 'slow', { image: 'python:3.12.7', timeout: 3600 as never });\n    new Workflow(app, 'wf').addStep('a', t.split);`);
    expect(run.lines).toEqual(['lib/slow: timeout is the number 3600, not a Duration; use Duration.seconds(3600) (Duration from cdk8s)']);
    expect(run.status).toBe(1);
    expect(run.wroteNothing).toBe(true);
  }, 30_000);

  it('validation errors: one line each, every one of them', () => {
    const run = synth(`new Workflow(app, 'empty'); new ContainerTask(t.lib, 'bad', { image: 'python' });`);
    expect(run.lines).toEqual([
      'lib/bad: image "python" has no tag and would float to :latest; pin a version tag (e.g. python:1.2.3) or a digest (python@sha256:<64 hex digits>)',
      'empty: the workflow has no steps; add one with addStep()',
    ]);
    expect(run.status).toBe(1);
    expect(run.wroteNothing).toBe(true);
  }, 30_000);

  it('an exception from user code: one line with where it was thrown; --debug keeps the stack trace', () => {
    const body = `if (app) throw new Error('no bucket configured\\nsee the wiki');`;
    const run = synth(body);
    const line = appSource(body).split('\n').findIndex((l) => l.includes('no bucket configured')) + 1;
    expect(run.lines).toEqual([`${run.file}:${line}: no bucket configured see the wiki; run with --debug for the stack trace`]);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(run.status).toBe(1);
    const debug = synth(body, ['--debug']);
    expect(debug.stderr).toMatch(STACK_FRAME);
    expect(debug.status).toBe(1);
  }, 30_000);

  it('a good app writes its files and exits 0', () => {
    const run = synth(`new Workflow(app, 'wf').addStep('a', t.split);`);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('wrote 2 files');
    // The pods-per-run table (README): one row per workflow, from podsPerRun: the step's pod plus the
    // agent pod of the 2 HTTP steps (running, completed; the claim is the state service's), against one pod per step (3).
    expect(run.stdout).toMatch(/^wf +2 +3 +33% +2 +0 +10$/m);
    expect(run.status).toBe(0);
  }, 30_000);
});

describe('npm run lint and npm run simulate: one line, exit 1, --debug for the stack', () => {
  it('lint: an unreadable file (a dangling symlink)', () => {
    mkdirSync(join(fixture.dir, 'manifests'));
    symlinkSync('nowhere.yaml', join(fixture.dir, 'manifests', 'a.yaml'));
    const run = runTs('tools/lint.ts', ['--no-schema', join(fixture.dir, 'manifests')]);
    expect(run.lines).toEqual([expect.stringMatching(/^tools\/lint\/\S+\.ts:\d+: ENOENT: no such file or directory, stat '.*a\.yaml'; run with --debug for the stack trace$/)]);
    expect(run.status).toBe(1);
    const debug = runTs('tools/lint.ts', ['--no-schema', '--debug', join(fixture.dir, 'manifests')]);
    expect(debug.stderr).toMatch(STACK_FRAME);
    expect(debug.status).toBe(1);
  }, 30_000);

  it('simulate: manifests without the events chart', () => {
    mkdirSync(join(fixture.dir, 'no-events'));
    writeFileSync(join(fixture.dir, 'no-events', 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
    const payload = fixture.write('payload.json', '{}');
    const run = runTs('tools/simulate.ts', [payload, '--manifests', join(fixture.dir, 'no-events')]);
    expect(run.lines).toEqual([expect.stringMatching(/no EventSource defines swoop-ingress\/payload .*; is the events chart part of `npm run synth`\? see workflows\/app.ts; run with --debug for the stack trace$/)]);
    expect(run.status).toBe(1);
  }, 30_000);
});

describe('problemLines', () => {
  it('prints a ValidationError as one line per construct error and a ConstructPathError as its message', () => {
    const e = new ValidationError([{ path: 'a/b', message: 'x is wrong;\n  fix x' }, { path: 'c', message: 'y; z' }]);
    expect(problemLines(e)).toEqual(['a/b: x is wrong; fix x', 'c: y; z']);
    expect(problemLines(new ConstructPathError('wf/s', 'p; q'))).toEqual(['wf/s: p; q']);
  });

  it('rewrites the constructs library duplicate-id error to the construct path', () => {
    expect(problemLines(new Error("There is already a Construct with name 'a' in Workflow [wf]"))).toEqual([
      'wf/a: another construct in Workflow wf already has the id "a"; give each one its own id',
    ]);
  });
});
