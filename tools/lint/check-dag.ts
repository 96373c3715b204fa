import type { LintContext } from './context';
import { at, list, obj, objects, str } from './json';
import { children, parseDepends, taskDependencies, type TemplateSite } from './workflow-model';

/**
 * DAG wiring: task (and containerSet container) names are unique, `depends` and
 * `dependencies` name existing siblings, and the dependency graph has no cycle.
 */
export function checkDags(ctx: LintContext): void {
  for (const unit of ctx.workflows.units) {
    for (const site of unit.sites) {
      const nodes = children(site).map((c) => ({ name: str(c.node.name), path: c.path, deps: c.via === 'task' ? taskDeps(ctx, site, c.node, c.path) : [] }));
      checkGraph(ctx, site, nodes, site.template.dag !== undefined ? 'task' : 'step', `${site.path}.${site.template.dag !== undefined ? 'dag' : 'steps'}`);
      const containers = objects(obj(site.template.containerSet).containers);
      if (containers.length > 0) {
        const cnodes = containers.map((c, i) => ({ name: str(c.name), path: at(`${site.path}.containerSet.containers`, c, i), deps: list(c.dependencies).filter((d): d is string => typeof d === 'string') }));
        checkGraph(ctx, site, cnodes, 'container', `${site.path}.containerSet`);
      }
    }
  }
}

interface Node {
  readonly name?: string;
  readonly path: string;
  readonly deps: string[];
}

const RESULTS = new Set(['Succeeded', 'Failed', 'Errored', 'Skipped', 'Omitted', 'Daemoned', 'AnySucceeded', 'AllFailed']);

/** Task names a task waits for, from `dependencies` or the `depends` expression. */
function taskDeps(ctx: LintContext, site: TemplateSite, task: Record<string, unknown>, path: string): string[] {
  for (const { result, token } of parseDepends(str(task.depends) ?? '')) {
    if (result !== undefined && !RESULTS.has(result)) {
      ctx.report(site.unit.doc, `${path}.depends`, 'depends', `"${token}": unknown task result ".${result}" (use one of ${[...RESULTS].join(', ')})`);
    }
  }
  return taskDependencies(task);
}

function checkGraph(ctx: LintContext, site: TemplateSite, nodes: Node[], noun: string, graphPath: string): void {
  const byName = new Map<string, Node>();
  for (const node of nodes) {
    if (node.name === undefined) continue;
    if (byName.has(node.name)) ctx.report(site.unit.doc, node.path, 'duplicate-name', `${noun} name "${node.name}" is used twice in template "${site.name}"`);
    else byName.set(node.name, node);
  }
  if (noun === 'step') return;
  for (const node of nodes) {
    for (const dep of node.deps) {
      if (!byName.has(dep)) ctx.report(site.unit.doc, node.path, 'depends', `depends on ${noun} "${dep}", which template "${site.name}" does not have`);
    }
  }
  for (const cycle of cycles(byName)) {
    ctx.report(site.unit.doc, graphPath, 'dag-cycle', `${noun}s form a cycle (each waits for the next): ${cycle.join(' -> ')}`);
  }
}

/** Each distinct cycle once, as the names along it (first name repeated at the end). */
function cycles(byName: Map<string, Node>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found = new Map<string, string[]>();
  const visit = (name: string): void => {
    state.set(name, 'open');
    stack.push(name);
    for (const dep of byName.get(name)?.deps ?? []) {
      if (!byName.has(dep)) continue;
      if (state.get(dep) === 'open') {
        const cycle = stack.slice(stack.indexOf(dep));
        const key = [...cycle].sort().join('\0');
        if (!found.has(key)) found.set(key, [...cycle, dep]);
      } else if (!state.has(dep)) {
        visit(dep);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of byName.keys()) if (!state.has(name)) visit(name);
  return [...found.values()];
}
