import type { LintContext } from './context';
import { describeTemplate } from './context';
import { obj, objects, str, strings, type Json } from './json';
import { variableRefs, type VariableRef } from './references';
import { children, taskDependencies, templateType, type Call, type TemplateSite, type WorkflowUnit } from './workflow-model';

/**
 * Every `{{inputs...}}`, `{{tasks...}}`, `{{steps...}}` and `{{workflow.parameters...}}`
 * names something that exists. Workflow parameters are those of the workflow that *runs*
 * the template, so a task-library template reached through `templateRef` is checked
 * against each workflow that calls it.
 */
export function checkVariables(ctx: LintContext): void {
  const globals = new Map<TemplateSite, { ref: VariableRef; path: string }[]>();
  for (const unit of ctx.workflows.units) {
    for (const site of unit.sites) {
      const found: { ref: VariableRef; path: string }[] = [];
      for (const [text, path] of strings(site.template, site.path, INLINE)) {
        for (const ref of variableRefs(text)) {
          if (ref.root === 'workflow') found.push({ ref, path });
          else if (ref.root === 'inputs') checkInput(ctx, site, ref, path);
          else if (ref.root === 'tasks') checkTask(ctx, site, ref, path);
          else checkStep(ctx, site, ref, path);
        }
      }
      globals.set(site, found);
    }
  }
  checkWorkflowParameters(ctx, globals);
}

const INLINE = new Set(['inline']);

function checkInput(ctx: LintContext, site: TemplateSite, ref: VariableRef, path: string): void {
  const [kind, name] = ref.segments;
  if ((kind !== 'parameters' && kind !== 'artifacts') || name === undefined) return;
  if (!declares(obj(site.template.inputs), kind, name)) {
    ctx.report(site.unit.doc, path, 'inputs', `{{${ref.text}}}: template "${site.name}" declares no input ${kind === 'parameters' ? 'parameter' : 'artifact'} "${name}" (add it to inputs.${kind})`);
  }
}

function checkTask(ctx: LintContext, site: TemplateSite, ref: VariableRef, path: string): void {
  if (site.template.dag === undefined) {
    ctx.report(site.unit.doc, path, 'task-outputs', `{{${ref.text}}}: tasks.* is only defined inside a DAG template; "${site.name}" is not one`);
    return;
  }
  const [name] = ref.segments;
  const tasks = children(site);
  const task = tasks.find((c) => str(c.node.name) === name);
  if (!task) {
    ctx.report(site.unit.doc, path, 'task-outputs', `{{${ref.text}}}: DAG template "${site.name}" has no task "${name}"`);
    return;
  }
  const from = tasks.find((c) => path === c.path || path.startsWith(`${c.path}.`));
  if (from && !path.startsWith(`${task.path}.hooks`) && ref.segments[1] === 'outputs' && !waitsFor(tasks, str(from.node.name) ?? '', name)) {
    ctx.report(site.unit.doc, path, 'task-outputs', `{{${ref.text}}}: task "${str(from.node.name)}" uses outputs of "${name}" without depending on it (add "${name}" to depends)`);
    return;
  }
  checkOutputs(ctx, site, task.node, ref, path, 'task-outputs');
}

function checkStep(ctx: LintContext, site: TemplateSite, ref: VariableRef, path: string): void {
  if (site.template.steps === undefined) {
    ctx.report(site.unit.doc, path, 'step-outputs', `{{${ref.text}}}: steps.* is only defined inside a steps template; "${site.name}" is not one`);
    return;
  }
  const [name] = ref.segments;
  const all = children(site);
  const step = all.find((c) => str(c.node.name) === name);
  if (!step) {
    ctx.report(site.unit.doc, path, 'step-outputs', `{{${ref.text}}}: steps template "${site.name}" has no step "${name}"`);
    return;
  }
  const from = all.find((c) => path === c.path || path.startsWith(`${c.path}.`));
  if (from && !path.startsWith(`${step.path}.hooks`) && step.group !== undefined && from.group !== undefined && step.group >= from.group) {
    ctx.report(site.unit.doc, path, 'step-outputs', `{{${ref.text}}}: step "${name}" runs in group ${step.group}, not before this one (group ${from.group}); only earlier steps can be referenced`);
    return;
  }
  checkOutputs(ctx, site, step.node, ref, path, 'step-outputs');
}

/** Whether task `from` runs after task `target`, directly or through other tasks. */
function waitsFor(tasks: { node: Json }[], from: string, target: string): boolean {
  const deps = new Map(tasks.map((t) => [str(t.node.name) ?? '', taskDependencies(t.node)]));
  const seen = new Set<string>();
  const queue = [...(deps.get(from) ?? [])];
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (next === target) return true;
    if (!seen.has(next)) {
      seen.add(next);
      queue.push(...(deps.get(next) ?? []));
    }
  }
  return false;
}

const RESULT_TYPES = new Set(['container', 'script', 'containerSet', 'http', 'data', 'plugin']);

function checkOutputs(ctx: LintContext, site: TemplateSite, node: Json, ref: VariableRef, path: string, rule: 'task-outputs' | 'step-outputs'): void {
  const [name, section, kind, output] = ref.segments;
  if (section !== 'outputs' || kind === undefined) return;
  const resolved = ctx.workflows.resolve(site.unit, node);
  if (!('site' in resolved)) return; // reported by the template check
  const target = resolved.site;
  const what = describeTemplate(target, site.unit);
  const type = templateType(target.template);
  if (kind === 'result' && type && !RESULT_TYPES.has(type)) {
    ctx.report(site.unit.doc, path, rule, `{{${ref.text}}}: "${name}" runs ${what}, a ${type} template, which has no outputs.result`);
  } else if ((kind === 'parameters' || kind === 'artifacts') && output !== undefined && !declares(obj(target.template.outputs), kind, output)) {
    ctx.report(site.unit.doc, path, rule, `{{${ref.text}}}: "${name}" runs ${what}, which declares no output ${kind === 'parameters' ? 'parameter' : 'artifact'} "${output}"`);
  }
}

function declares(section: Json, kind: 'parameters' | 'artifacts', name: string): boolean {
  return objects(section[kind]).some((p) => p.name === name);
}

type Found = Map<TemplateSite, { ref: VariableRef; path: string }[]>;

function checkWorkflowParameters(ctx: LintContext, found: Found): void {
  const missing = new Map<string, { unit: WorkflowUnit; path: string; ref: VariableRef; runners: string[] }>();
  const note = (unit: WorkflowUnit, path: string, ref: VariableRef, runner: WorkflowUnit): void => {
    const key = `${unit.doc.file}|${unit.doc.name}|${path}|${ref.text}`;
    const entry = missing.get(key) ?? { unit, path, ref, runners: [] };
    const name = runner.label;
    if (!entry.runners.includes(name)) entry.runners.push(name);
    missing.set(key, entry);
  };
  const reached = new Set<TemplateSite>();
  const checkSite = (site: TemplateSite, runner: WorkflowUnit, declared: Set<string>): void => {
    for (const { ref, path } of found.get(site) ?? []) {
      const [section, name] = ref.segments;
      if (section === 'parameters' && name !== undefined && !declared.has(name)) note(site.unit, path, ref, runner);
    }
  };
  const checkSpec = (unit: WorkflowUnit, declared: Set<string>): void => {
    for (const [text, path] of strings({ ...unit.spec, templates: undefined }, unit.specPath)) {
      for (const ref of variableRefs(text)) {
        if (ref.root === 'workflow' && ref.segments[0] === 'parameters' && ref.segments[1] && !declared.has(ref.segments[1])) note(unit, path, ref, unit);
      }
    }
  };
  for (const root of ctx.workflows.units.filter((u) => ctx.workflows.isRunnable(u))) {
    const declared = ctx.workflows.parametersOf(root);
    checkSpec(root, declared);
    // A run of a runnable WorkflowTemplate's entrypoint is checked on that template: a
    // submitter can only add parameters the template declares (see the trigger check).
    if (!root.spec.entrypoint && root.base && ctx.workflows.isRunnable(root.base)) continue;
    for (const site of reachable(ctx, root)) {
      reached.add(site);
      checkSite(site, root, declared);
    }
  }
  for (const unit of ctx.workflows.units) {
    if (!ctx.workflows.isRunnable(unit)) checkSpec(unit, ctx.workflows.parametersOf(unit));
    for (const site of unit.sites) if (!reached.has(site)) checkSite(site, unit, ctx.workflows.parametersOf(unit));
  }
  for (const { unit, path, ref, runners } of missing.values()) {
    const [first, ...rest] = runners;
    const by = first === unit.label && rest.length === 0 ? 'this workflow' : `${first}${rest.length ? ` (and ${rest.length} more)` : ''}, which runs it,`;
    ctx.report(unit.doc, path, 'workflow-parameters', `{{${ref.text}}}: ${by} declares no parameter "${ref.segments[1]}" in spec.arguments.parameters`);
  }
}

/** Templates a run of `root` can execute, following template, templateRef, inline and hooks. */
function reachable(ctx: LintContext, root: WorkflowUnit): Set<TemplateSite> {
  const seen = new Set<TemplateSite>();
  const queue: { unit: WorkflowUnit; call: Call }[] = ctx.workflows.unitCalls(root).map((call) => ({ unit: root, call }));
  const entry = ctx.workflows.entrypointOf(root);
  if (!root.spec.entrypoint && entry) queue.push({ unit: root, call: { node: { template: entry }, path: '', via: 'entrypoint' } });
  while (queue.length > 0) {
    const { unit, call } = queue.pop()!;
    const resolved = ctx.workflows.resolve(unit, call.node);
    if (!('site' in resolved) || seen.has(resolved.site)) continue;
    seen.add(resolved.site);
    for (const next of ctx.workflows.templateCalls(resolved.site)) queue.push({ unit: resolved.site.unit, call: next });
  }
  return seen;
}
