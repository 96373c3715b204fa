/**
 * Catch (Step Functions `Catch`): when a step fails with a matching error, a handler step
 * runs instead of the steps after it, and the run's outcome is the handler's.
 *
 * How it renders, from Argo's DAG semantics (workflow/controller/dag.go):
 * - the handler depends on `A.Failed || A.Errored` and carries `when` = its match (the
 *   caught step's `tasks.A.status` / `tasks.A.exitCode`, which Argo copies from the last
 *   attempt of a retry node) and-ed with "no earlier catcher matched" (first match wins);
 * - a step B after A depends on `(A.Succeeded || A.Skipped || A.Daemoned || H.Succeeded)`,
 *   so it waits for the handlers too, and carries `when` "A did not fail". After a caught and
 *   handled failure B is *Skipped*, which Argo counts as completed, not failed; after a
 *   failure no catcher matched (handler Skipped) or a handler that failed, B's depends is
 *   false and B is *Omitted*, which inherits A's failed phase (assessDAGPhase), so the run
 *   fails as it would without the catch;
 * - every step after A (transitively, not through its handlers) carries "A did not fail",
 *   because Argo runs a step whose upstream was skipped.
 * So Argo itself ends a caught-and-handled run Succeeded (the state service records
 * SUCCESSFUL, the failure stays in `workflow.failures`), and FAILED when the handler fails.
 */
import { Ref, quote, index, type Condition } from './refs';
import type { DagNode, Step } from './step';
import { ERROR_CLASSES, type ErrorNames } from './retry';

/** Classes a catcher can match without exit codes: how Argo ended the step. */
export type CatchClass = 'Failed' | 'Error';

/** What a catcher matches and which step handles it. */
export interface Catcher {
  /** Error names the caught step's task declares, or `Failed` / `Error`. @default any failure */
  readonly on?: readonly string[];
  /** The handler step. */
  readonly then: DagNode;
}

interface CatchEntry extends Catcher {
  readonly caught: DagNode;
  readonly index: number;
}

const catchersOf = new WeakMap<DagNode, CatchEntry[]>();
const handlerOf = new WeakMap<DagNode, CatchEntry>();

/** Registers catchers of `caught`, in order (first match wins). */
export function addCatchers(caught: DagNode, catchers: readonly Catcher[]): void {
  const list = catchersOf.get(caught) ?? [];
  for (const c of catchers) {
    const entry: CatchEntry = { ...c, caught, index: list.length };
    list.push(entry);
    if (!handlerOf.has(c.then)) handlerOf.set(c.then, entry);
    c.then.addDependency(caught);
  }
  catchersOf.set(caught, list);
}

export function catchers(node: DagNode): readonly CatchEntry[] {
  return catchersOf.get(node) ?? [];
}

/** The catcher a handler step serves, if it is one. */
export function handledBy(node: DagNode): CatchEntry | undefined {
  return handlerOf.get(node);
}

/** The task a step runs (a container group has none). */
function taskOf(node: DagNode): Step['task'] | undefined {
  return (node as unknown as Partial<Step>).task;
}

function errorsOf(node: DagNode): ErrorNames {
  return taskOf(node)?.errors ?? {};
}

/** `tasks['A'].status|exitCode` conditions a catcher matches. */
function matchExpression(entry: CatchEntry): string {
  const task = index('tasks', entry.caught.name);
  const errors = errorsOf(entry.caught);
  const codes: number[] = [];
  const alternatives: string[] = [];
  for (const name of entry.on ?? []) {
    if (name === 'Failed' || name === 'Error') alternatives.push(`${task}.status == ${quote(name)}`);
    else if (name in errors) codes.push(errors[name]);
  }
  // A step that ended without an exit code (a deleted pod) has no tasks.A.exitCode.
  if (codes.length) alternatives.unshift(`(${task}.exitCode ?? '') in [${codes.sort((a, b) => a - b).map((c) => quote(String(c))).join(', ')}]`);
  return alternatives.length ? alternatives.join(' || ') : 'true';
}

/** The DAG-task `depends` term for dependency `dep` of `node`. */
export function dependsTerm(node: DagNode, dep: DagNode): string {
  const handler = handledBy(node);
  if (handler && handler.caught === dep) return `(${dep.name}.Failed || ${dep.name}.Errored)`;
  const list = catchers(dep);
  if (list.length && !list.some((c) => c.then === node)) {
    return `(${dep.name}.Succeeded || ${dep.name}.Skipped || ${dep.name}.Daemoned || ${list.map((c) => `${c.then.name}.Succeeded`).join(' || ')})`;
  }
  return dep.name;
}

/** Handlers a node must also wait for: those of the caught steps it follows directly. */
export function handlerDependencies(node: DagNode, deps: readonly DagNode[]): DagNode[] {
  return deps.flatMap((d) => catchers(d).map((c) => c.then)).filter((h) => h !== node && !deps.includes(h));
}

/** Caught steps `node` follows through normal edges (not through a handler of theirs). */
export function caughtAncestors(node: DagNode): DagNode[] {
  const found = new Set<DagNode>();
  const seen = new Set<DagNode>();
  const visit = (n: DagNode) => {
    for (const d of n.dependencies) {
      if (handledBy(n)?.caught === d) continue; // a handler's edge to what it catches
      if (catchers(d).length) found.add(d);
      if (!seen.has(d)) {
        seen.add(d);
        visit(d);
      }
    }
  };
  visit(node);
  return [...found].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Extra `when` conditions of a node: a handler's match, and "the caught steps before it did not fail". */
export function catchConditions(node: DagNode): string[] {
  const conditions: string[] = [];
  const handler = handledBy(node);
  if (handler) {
    const earlier = catchers(handler.caught).slice(0, handler.index).map(matchExpression);
    const match = matchExpression(handler);
    const parts = [...(match === 'true' ? [] : [match]), ...earlier.map((e) => `!(${e})`)];
    if (parts.length) conditions.push(parts.length > 1 ? parts.map((p) => `(${p})`).join(' && ') : parts[0]);
  }
  for (const a of caughtAncestors(node)) conditions.push(notFailed(a));
  return conditions;
}

function notFailed(node: DagNode): string {
  return `!(${index('tasks', node.name)}.status in ['Failed', 'Error'])`;
}

/**
 * Guard for the run's output: when the output step follows a caught step (or is one), a
 * caught failure means the output step never ran, so the completed event reports no output.
 * `workflow.failures` (Go-quoted JSON, set in the exit handler) names the caught node.
 */
export function outputGuard(outputNode: DagNode | undefined): string | undefined {
  if (!outputNode) return undefined;
  const caught = [...(catchers(outputNode).length ? [outputNode] : []), ...caughtAncestors(outputNode)];
  if (!caught.length) return undefined;
  const failures = `fromJSON(workflow.failures ?? '""')`;
  return caught.map((c) => `!(${failures} contains ${quote(`"displayName":"${c.name}",`)})`).join(' && ');
}

/** Problems of the catchers of `node` (validated on the caught step), and of `wf.failures` outside exit steps. */
export function catchProblems(node: DagNode): string[] {
  const problems: string[] = [];
  const inExitHandler = node.node.scope?.node.id === 'on-exit';
  if (!inExitHandler && node.refs.some((r) => r instanceof Ref && r.kind === 'workflow-failures')) {
    problems.push('reads wf.failures, which Argo sets only in the exit handler; read it in an exit step (a catch handler runs because its caught step failed)');
  }
  const errors = errorsOf(node);
  const isContainerStep = taskOf(node)?.kind === 'container';
  catchers(node).forEach((c, i) => {
    const where = `catch ${i + 1}`;
    if (c.then === node) problems.push(`${where} names the step itself as its handler; name another step`);
    if (c.then.workflowPath !== node.workflowPath) problems.push(`${where}: handler "${c.then.name}" belongs to another workflow (${c.then.workflowPath}); add the handler to this workflow`);
    for (const name of c.on ?? []) {
      if (name === 'Failed' || name === 'Error') continue;
      if ((ERROR_CLASSES as readonly string[]).includes(name)) {
        problems.push(`${where} names class "${name}", which Argo does not expose to a catch (only Failed and Error); match Failed, Error or a declared error`);
      } else if (!(name in errors)) {
        problems.push(`${where} names error "${name}", which task of step "${node.name}" does not declare (declared: ${Object.keys(errors).join(', ') || 'none'}); declare it in the task's errors or fix the name`);
      } else if (!isContainerStep || node.fanOut) {
        problems.push(`${where} names error "${name}", an exit code, but step "${node.name}" ${node.fanOut ? 'is fanned out' : 'is not a container step'} and has no single exit code; match Failed or Error`);
      }
    }
    const other = handledBy(c.then);
    if (other && (other.caught !== node || other.index !== i)) {
      problems.push(`${where}: step "${c.then.name}" already handles a failure of step "${other.caught.name}"; give each catch its own handler step`);
    }
    if (caughtAncestors(c.then).includes(node)) {
      problems.push(`${where}: handler "${c.then.name}" reads from steps after "${node.name}", which do not run when it fails; the handler may only read what ran before`);
    }
    if (c.then.fanOut) problems.push(`${where}: handler "${c.then.name}" is fanned out; a handler runs once`);
  });
  if ((node as unknown as { options: { continueOnFailure?: boolean } }).options.continueOnFailure && catchers(node).length) {
    problems.push('has catch and continueOnFailure; continueOnFailure lets the next steps run after a failure, so the catch would not apply; drop one');
  }
  return problems;
}

/**
 * `wf.failures`: the run's failed nodes, for exit steps. Argo sets `workflow.failures` in the
 * exit handler only (and quotes it, strconv.Quote), so `.json` decodes it once: a JSON list
 * of `{displayName, message, templateName, phase, podName, finishedAt}`, or `null`.
 */
export class FailuresRef {
  /** The failed nodes as JSON text (`[{"displayName": ..., "message": ..., "templateName": ..., "phase": ..., ...}]` or `null`). */
  public readonly json: Ref;
  /** True when the run has failed nodes (retried attempts and caught failures included). */
  public readonly any: Condition;

  /** @internal */
  constructor(makeCondition: (expression: string, refs: Ref[]) => Condition) {
    const expression = `fromJSON(workflow.failures ?? '"null"')`;
    this.json = new Ref(`{{=${expression}}}`, expression, 'workflow-failures');
    this.any = makeCondition(`${expression} != 'null'`, [this.json]);
  }
}
