import type { LintContext } from './context';
import type { LintDocument } from './documents';
import { dependencyNames } from './check-events';
import { checkSubmitTrigger } from './check-submits';
import { isObject, list, obj, objects, str, type Json } from './json';
import { sensorTriggers, sensorWorkflowResources } from './workflow-model';

/**
 * Sensor triggers: `conditions` and parameter sources name declared dependencies, and a
 * trigger that submits a WorkflowTemplate names one in the set, passes only parameters it
 * declares, passes every one it requires, and sets only parameter slots that exist.
 */
export function checkTriggers(ctx: LintContext): void {
  for (const sensor of ctx.inventory.ofKind('Sensor')) {
    const deps = dependencyNames(sensor);
    const triggerNames = new Set<string>();
    for (const { trigger, path } of sensorTriggers(sensor)) {
      const template = obj(trigger.template);
      const name = str(template.name);
      if (name !== undefined && !path.includes('dlqTrigger')) {
        if (triggerNames.has(name)) ctx.report(sensor, path, 'duplicate-name', `trigger name "${name}" is used twice`);
        triggerNames.add(name);
      }
      const conditions = str(template.conditions);
      if (conditions !== undefined) {
        for (const token of conditions.replace(/&&|\|\||[!()]/g, ' ').split(/\s+/).filter(Boolean)) {
          if (!deps.has(token)) ctx.report(sensor, `${path}.template.conditions`, 'trigger-conditions', `names dependency "${token}", which spec.dependencies does not declare`);
        }
      }
      for (const { src, path: srcPath } of parameterSources(trigger, path)) {
        const dep = str(src.dependencyName);
        if (dep !== undefined && !deps.has(dep)) ctx.report(sensor, `${srcPath}.dependencyName`, 'trigger-parameters', `names dependency "${dep}", which spec.dependencies does not declare`);
      }
      checkSubmitTrigger(ctx, sensor, trigger, path);
    }
    for (const { resource, path, trigger, triggerPath } of sensorWorkflowResources(sensor)) {
      checkSubmittedTemplate(ctx, sensor, resource, path, trigger, triggerPath);
    }
  }
}

/** Every `src` of trigger parameters and payloads, without descending into the created resource. */
function parameterSources(trigger: Json, path: string): { src: Json; path: string }[] {
  const out: { src: Json; path: string }[] = [];
  const visit = (node: unknown, p: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => visit(n, `${p}[${i}]`));
    else if (isObject(node)) {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'source' || key === 'dlqTrigger') continue;
        if (key === 'src' && isObject(value)) out.push({ src: value, path: `${p}.src` });
        else visit(value, `${p}.${key}`);
      }
    }
  };
  visit(trigger, path);
  return out;
}

function checkSubmittedTemplate(ctx: LintContext, sensor: LintDocument, resource: Json, path: string, trigger: Json, triggerPath: string): void {
  const type = obj(trigger.template).argoWorkflow !== undefined ? 'argoWorkflow' : 'k8s';
  const operation = str(obj(obj(trigger.template)[type]).operation);
  if (operation !== undefined && operation !== 'submit' && operation !== 'create') return;
  const spec = obj(resource.spec);
  const ref = obj(spec.workflowTemplateRef);
  const refName = str(ref.name);
  const args = objects(obj(spec.arguments).parameters);
  checkParameterSlots(ctx, sensor, trigger, triggerPath, type, args.length);
  if (refName === undefined) return;
  const kind = ref.clusterScope === true ? 'ClusterWorkflowTemplate' : 'WorkflowTemplate';
  const namespace = str(obj(resource.metadata).namespace) ?? sensor.namespace;
  const target = ctx.inventory.find(kind, refName, namespace);
  if (!target) {
    ctx.report(sensor, `${path}.spec.workflowTemplateRef`, 'trigger-workflow-template', `submits ${kind}/${refName}, which is not in the set`);
    return;
  }
  const declared = objects(obj(obj(target.body.spec).arguments).parameters);
  const declaredNames = new Set(declared.map((p) => str(p.name)));
  const passed = new Set(args.map((p) => str(p.name)));
  args.forEach((p, i) => {
    const name = str(p.name);
    if (name !== undefined && !declaredNames.has(name)) {
      ctx.report(sensor, `${path}.spec.arguments.parameters[${name}]`, 'trigger-workflow-template', `passes parameter "${name}", which ${kind}/${refName} does not declare in spec.arguments.parameters`);
    } else if (name === undefined) {
      ctx.report(sensor, `${path}.spec.arguments.parameters[${i}]`, 'trigger-workflow-template', 'a passed parameter needs a name');
    }
  });
  for (const p of declared) {
    const name = str(p.name);
    if (name !== undefined && p.value === undefined && p.valueFrom === undefined && !passed.has(name)) {
      ctx.report(sensor, `${path}.spec.arguments`, 'trigger-workflow-template', `does not pass parameter "${name}", which ${kind}/${refName} requires (it has no value)`);
    }
  }
}

/** `dest: spec.arguments.parameters.N...` must address a parameter the resource lists. */
function checkParameterSlots(ctx: LintContext, sensor: LintDocument, trigger: Json, triggerPath: string, type: string, count: number): void {
  list(obj(obj(trigger.template)[type]).parameters).forEach((param, i) => {
    const dest = str(obj(param).dest) ?? '';
    const match = /^spec\.arguments\.parameters\.(\d+)\./.exec(dest);
    if (match && Number(match[1]) >= count) {
      ctx.report(sensor, `${triggerPath}.template.${type}.parameters[${i}].dest`, 'trigger-workflow-template', `sets "${dest}" but the resource lists only ${count} parameter(s) in spec.arguments.parameters, so the value lands in a parameter without a name`);
    }
  });
}
