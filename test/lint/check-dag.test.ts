/**
 * The DAG check at its edges, on minimal hand-written WorkflowTemplates: cycle texts that
 * start where the cycle does, separate cycles reported separately, steps and containerSets
 * held to their own rules.
 */
import { describe, expect, it } from 'vitest';
import { lintObjects } from '../../tools/lint/index';

type Doc = Record<string, any>;

const leaf = { name: 'work', container: { image: 'ghcr.io/example/tool:1.0.0', resources: { requests: { cpu: '100m', memory: '64Mi' } } } };

function dag(tasks: Doc[]): Doc {
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'wf', namespace: 'swoop' }, spec: { entrypoint: 'main', templates: [{ name: 'main', dag: { tasks } }, leaf] } };
}

const task = (name: string | undefined, depends?: string): Doc => ({ ...(name === undefined ? {} : { name }), template: 'work', ...(depends ? { depends } : {}) });

/** The DAG rules' problems only, as `path: message`. */
function dagProblems(doc: Doc): string[] {
  return lintObjects([doc]).filter((p) => ['dag-cycle', 'depends', 'duplicate-name'].includes(p.rule)).map((p) => `${p.path}: ${p.message}`);
}

const CYCLE = 'spec.templates[main].dag: tasks form a cycle (each waits for the next):';

describe('DAG cycles', () => {
  it('names a cycle from where it starts, not from the first task visited', () => {
    // x is visited first and waits for the cycle without being part of it.
    expect(dagProblems(dag([task('x', 'b'), task('b', 'c'), task('c', 'b')]))).toEqual([`${CYCLE} b -> c -> b`]);
  });

  it('does not count tasks visited on another branch as part of a cycle', () => {
    // a waits for b and c; c and a wait for each other: the cycle is a -> c -> a, whatever b did.
    expect(dagProblems(dag([task('a', 'b && c'), task('b'), task('c', 'a')]))).toEqual([`${CYCLE} a -> c -> a`]);
  });

  it('reports two separate cycles separately, even when their names run together', () => {
    expect(dagProblems(dag([task('ab', 'c'), task('c', 'ab'), task('a', 'bc'), task('bc', 'a')]))).toEqual([`${CYCLE} ab -> c -> ab`, `${CYCLE} a -> bc -> a`]);
  });

  it('reports a self-dependency', () => {
    expect(dagProblems(dag([task('a', 'a')]))).toEqual([`${CYCLE} a -> a`]);
  });
});

describe('names and dependencies', () => {
  it('reports a repeated task name, and not tasks without a name', () => {
    expect(dagProblems(dag([task('a'), task('a'), task(undefined), task(undefined)]))).toEqual([
      'spec.templates[main].dag.tasks[a]: task name "a" is used twice in template "main"',
    ]);
  });

  it('reports a dependency on a task that does not exist', () => {
    expect(dagProblems(dag([task('a', 'ghost.Succeeded')]))).toEqual(['spec.templates[main].dag.tasks[a]: depends on task "ghost", which template "main" does not have']);
  });

  it('holds steps templates to unique names only (steps have no depends)', () => {
    const doc = dag([]);
    doc.spec.templates[0] = { name: 'main', steps: [[{ name: 's', template: 'work' }], [{ name: 's', template: 'work', depends: 'x.Bogus' }]] };
    expect(dagProblems(doc)).toEqual(['spec.templates[main].steps[1][s]: step name "s" is used twice in template "main"']);
  });

  it('reads only string container dependencies in a containerSet', () => {
    const doc = dag([task('a')]);
    doc.spec.templates[1] = {
      name: 'work',
      containerSet: { containers: [{ name: 'one', image: 'ghcr.io/example/tool:1.0.0' }, { name: 'two', image: 'ghcr.io/example/tool:1.0.0', dependencies: ['one', 7, 'nope'] }] },
    };
    expect(dagProblems(doc)).toEqual(['spec.templates[work].containerSet.containers[two]: depends on container "nope", which template "work" does not have']);
  });
});
