/**
 * A DAG template run to its end the way the Argo Workflows v4 controller decides it
 * (workflow/controller/dag.go), given each task's outcome:
 * - `depends`: bare names expand to `(X.Succeeded || X.Skipped || X.Daemoned)`
 *   (common/ancestry.go), task names have `-` replaced by `_`, and the logic is evaluated
 *   once every dependency is fulfilled over `{Succeeded, Failed, Errored, Skipped, Omitted,
 *   Daemoned}` (evaluateDependsLogic); false -> the task is Omitted;
 * - `when`, rendered with the scope of the task's ancestors (`tasks.X.status`,
 *   `tasks.X.exitCode`, outputs; buildLocalScopeFromTask) -> false: Skipped;
 * - the DAG phase (assessDAGPhase): BFS from the roots carrying a branch phase that only a
 *   completed node (Succeeded, Failed, Error, Skipped) replaces, so an Omitted node inherits
 *   its parents' (Failed or Error preferred); the leaves' phases decide, failing fast in
 *   leaf-name order, a leaf with `continueOn` for its phase not failing the DAG.
 * Fan-out (withItems/withParam) is not modelled here (support/map.ts expands a Map's); the
 * caller's task outcomes are final phases (retries already applied, see retry.ts), given up
 * front or decided by a callback when the task runs (after its dependencies, in DAG order).
 */
import { renderTags, type Doc } from './argo';
import { evaluate } from './expr';

export type NodePhase = 'Succeeded' | 'Failed' | 'Error' | 'Skipped' | 'Omitted';

export interface TaskOutcome {
  /** Skipped: an expanded task with an empty list (dag.go: "Skipped, empty params"). */
  readonly phase: 'Succeeded' | 'Failed' | 'Error' | 'Skipped';
  /** The main container's exit code, as Argo records it in outputs.exitCode; none for e.g. a deleted pod. */
  readonly exitCode?: number;
  readonly result?: string;
  readonly parameters?: Readonly<Record<string, string>>;
}

export interface DagRun {
  readonly phases: Readonly<Record<string, NodePhase>>;
  readonly phase: 'Succeeded' | 'Failed' | 'Error';
}

const COMPLETED: readonly NodePhase[] = ['Succeeded', 'Failed', 'Error', 'Skipped'];
const failedOrError = (p: string | undefined) => p === 'Failed' || p === 'Error';

/** The task names a `depends` expression mentions. */
export function dependsNames(depends: string, taskNames: readonly string[]): string[] {
  const names = new Set<string>();
  for (const m of depends.matchAll(/[A-Za-z0-9][A-Za-z0-9-]*(?=\.[A-Za-z]+|\b)/g)) {
    if (taskNames.includes(m[0]) && !/^(Succeeded|Failed|Errored|Skipped|Omitted|Daemoned|AnySucceeded|AllFailed)$/.test(m[0])) names.add(m[0]);
  }
  return [...names];
}

function expandDepends(depends: string, taskNames: readonly string[]): string {
  return depends.replace(/[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z]+)?/g, (token, result: string | undefined) => {
    if (result || !taskNames.includes(token)) return token;
    return `(${token}.Succeeded || ${token}.Skipped || ${token}.Daemoned)`;
  });
}

/** Decides a task's outcome when it runs (its dependencies done, its `when` true). */
export type RunTask = (task: Doc) => TaskOutcome;

/**
 * Runs `tasks` (a DAG template's tasks) with `scope` (the run's global variables, plus the
 * template's inputs) and the outcome of every task that runs (default Succeeded).
 */
export function runDag(tasks: readonly Doc[], scope: Readonly<Record<string, string>>, outcomes: Readonly<Record<string, TaskOutcome>> | RunTask): DagRun {
  const names = tasks.map((t) => String(t.name));
  const deps = new Map(tasks.map((t) => [String(t.name), t.depends ? dependsNames(String(t.depends), names) : (t.dependencies as string[] | undefined) ?? []]));
  if (tasks.some((t) => t.withItems || t.withParam)) throw new Error('fan-out tasks are not modelled by runDag');
  const phases: Record<string, NodePhase> = {};
  const results: Record<string, TaskOutcome> = {};
  const ancestors = (name: string, seen = new Set<string>()): Set<string> => {
    for (const d of deps.get(name) ?? []) if (!seen.has(d)) ancestors(d, seen.add(d));
    return seen;
  };
  const pending = new Set(names);
  while (pending.size) {
    const ready = [...pending].filter((n) => deps.get(n)!.every((d) => phases[d] !== undefined));
    if (!ready.length) throw new Error(`DAG cycle or unknown dependency among ${[...pending].join(', ')}`);
    for (const name of ready) {
      pending.delete(name);
      const task = tasks.find((t) => t.name === name)!;
      if (task.depends) {
        const env = Object.fromEntries(deps.get(name)!.map((d) => [d.replace(/-/g, '_'), {
          Succeeded: phases[d] === 'Succeeded', Failed: phases[d] === 'Failed', Errored: phases[d] === 'Error',
          Skipped: phases[d] === 'Skipped', Omitted: phases[d] === 'Omitted', Daemoned: false, AnySucceeded: false, AllFailed: false,
        }]));
        const logic = expandDepends(String(task.depends), names).replace(/-/g, '_');
        if (evaluate(logic, env) !== true) {
          phases[name] = 'Omitted';
          continue;
        }
      }
      if (task.when !== undefined) {
        const local: Record<string, string> = { ...scope };
        for (const a of ancestors(name)) {
          local[`tasks.${a}.status`] = phases[a]!;
          const out = results[a];
          if (out?.exitCode !== undefined) local[`tasks.${a}.exitCode`] = String(out.exitCode);
          if (out?.result !== undefined) local[`tasks.${a}.outputs.result`] = out.result;
          for (const [p, v] of Object.entries(out?.parameters ?? {})) local[`tasks.${a}.outputs.parameters.${p}`] = v;
        }
        const rendered = renderTags(String(task.when), local, `DAG task ${name} when`);
        if (rendered !== 'true' && rendered !== 'false') throw new Error(`DAG task ${name}: when rendered to "${rendered}"`);
        if (rendered === 'false') {
          phases[name] = 'Skipped';
          continue;
        }
      }
      const outcome = typeof outcomes === 'function' ? outcomes(task) : outcomes[name] ?? { phase: 'Succeeded' };
      results[name] = outcome;
      phases[name] = outcome.phase;
    }
  }
  if (typeof outcomes !== 'function') for (const name of Object.keys(outcomes)) if (!(name in phases)) throw new Error(`no DAG task ${name}`);
  return { phases, phase: assessPhase(tasks, deps, phases) };
}

function assessPhase(tasks: readonly Doc[], deps: ReadonlyMap<string, string[]>, phases: Readonly<Record<string, NodePhase>>): DagRun['phase'] {
  const names = tasks.map((t) => String(t.name));
  const children = new Map(names.map((n) => [n, names.filter((c) => deps.get(c)!.includes(n))]));
  const leaves = names.filter((n) => children.get(n)!.length === 0).sort();
  const leafPhase = new Map<string, string>();
  const queue: [string, string][] = names.filter((n) => deps.get(n)!.length === 0).map((n) => [n, 'Succeeded']);
  const queued = new Set(queue.map(([n, p]) => `${n}/${p}`));
  while (queue.length) {
    const [name, inherited] = queue.shift()!;
    const own = phases[name]!;
    const branch = COMPLETED.includes(own) ? own : inherited;
    if (leafPhase.has(name) || leaves.includes(name)) {
      if (!failedOrError(leafPhase.get(name))) leafPhase.set(name, branch);
    }
    for (const c of children.get(name)!) {
      const key = `${c}/${branch}`;
      if (!queued.has(key)) {
        queued.add(key);
        queue.push([c, branch]);
      }
    }
  }
  for (const leaf of leaves) {
    const phase = leafPhase.get(leaf);
    if (!failedOrError(phase)) continue;
    const continueOn = tasks.find((t) => t.name === leaf)!.continueOn as { failed?: boolean; error?: boolean } | undefined;
    if ((phase === 'Failed' && continueOn?.failed) || (phase === 'Error' && continueOn?.error)) continue;
    return phase as 'Failed' | 'Error';
  }
  return 'Succeeded';
}
