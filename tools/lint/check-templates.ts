import type { LintContext } from './context';
import { describeTemplate } from './context';
import { obj, objects, str, type Json } from './json';
import type { Call, TemplateSite, WorkflowUnit } from './workflow-model';

/**
 * Every `template`, `templateRef`, `entrypoint`, `onExit` and hook resolves, and every
 * call passes each input its template requires (a parameter without `value`, `default`
 * or `valueFrom`, an artifact without a source, `from` or `optional`). Tasks and steps
 * may not pass arguments the template does not declare: that is a misspelt name.
 */
export function checkTemplates(ctx: LintContext): void {
  for (const unit of ctx.workflows.units) {
    const ref = str(obj(unit.spec.workflowTemplateRef).name);
    // A Sensor's Workflow naming a missing template is reported once, by the trigger check.
    if (ref && !unit.base && unit.doc.kind !== 'Sensor') {
      const kind = obj(unit.spec.workflowTemplateRef).clusterScope === true ? 'ClusterWorkflowTemplate' : 'WorkflowTemplate';
      ctx.report(unit.doc, `${unit.specPath}.workflowTemplateRef`, 'template-ref', `workflowTemplateRef names ${kind}/${ref}, which is not in the set`);
    }
    checkDuplicateTemplates(ctx, unit);
    for (const call of entryCalls(ctx, unit)) checkCall(ctx, unit, call);
    for (const site of unit.sites) {
      for (const call of ctx.workflows.templateCalls(site)) checkCall(ctx, unit, call);
    }
  }
}

function entryCalls(ctx: LintContext, unit: WorkflowUnit): Call[] {
  const calls = ctx.workflows.unitCalls(unit);
  if (ref(unit) && !unit.base) return calls;
  // An entrypoint inherited through workflowTemplateRef is checked on the WorkflowTemplate,
  // whose declared parameters the trigger check then holds every submitter to.
  if (!unit.spec.entrypoint && !ctx.workflows.entrypointOf(unit) && ctx.workflows.isRunnable(unit)) {
    ctx.report(unit.doc, `${unit.specPath}.entrypoint`, 'entrypoint', 'a Workflow needs spec.entrypoint (or a workflowTemplateRef whose template has one)');
  }
  return calls;
}

function ref(unit: WorkflowUnit): string | undefined {
  return str(obj(unit.spec.workflowTemplateRef).name);
}

function checkDuplicateTemplates(ctx: LintContext, unit: WorkflowUnit): void {
  const seen = new Set<string>();
  for (const site of unit.sites) {
    if (site.name.endsWith('(inline)')) continue;
    if (seen.has(site.name)) ctx.report(unit.doc, site.path, 'duplicate-name', `template name "${site.name}" is used twice in ${unit.specPath}.templates`);
    seen.add(site.name);
  }
}

function checkCall(ctx: LintContext, unit: WorkflowUnit, call: Call): void {
  const resolved = ctx.workflows.resolve(unit, call.node);
  if ('error' in resolved) {
    ctx.report(unit.doc, call.path, resolved.rule, resolved.error);
    return;
  }
  if ('none' in resolved) {
    if (call.via === 'task' || call.via === 'step' || call.via === 'hook') {
      ctx.report(unit.doc, call.path, 'template', `${call.via} names no template (set template, templateRef or inline)`);
    }
    return;
  }
  if (call.args) checkArguments(ctx, unit, call, resolved.site, mergedArguments(unit, call));
}

/** A Workflow's own arguments add to its WorkflowTemplate's; both reach the entrypoint. */
function mergedArguments(unit: WorkflowUnit, call: Call): Json {
  if ((call.via !== 'entrypoint' && call.via !== 'onExit') || !unit.base) return call.args ?? {};
  const base = obj(unit.base.spec.arguments);
  const own = call.args ?? {};
  return {
    parameters: [...objects(base.parameters), ...objects(own.parameters)],
    artifacts: [...objects(base.artifacts), ...objects(own.artifacts)],
  };
}

const ARTIFACT_SOURCES = ['s3', 'gcs', 'oss', 'hdfs', 'http', 'git', 'raw', 'artifactory', 'azure', 'plugin', 'huggingFace'];

function checkArguments(ctx: LintContext, unit: WorkflowUnit, call: Call, target: TemplateSite, args: Json): void {
  const inputs = obj(target.template.inputs);
  const what = describeTemplate(target, unit);
  const caller = call.via === 'entrypoint' || call.via === 'onExit' ? `the workflow (spec.arguments, used by ${call.via})` : call.via;
  const passed = names(args.parameters);
  for (const p of objects(inputs.parameters)) {
    const name = str(p.name);
    if (name && !passed.has(name) && p.value === undefined && p.default === undefined && p.valueFrom === undefined) {
      ctx.report(unit.doc, call.path, 'required-input', `${caller} does not pass input parameter "${name}" that ${what} requires (add it to arguments.parameters)`);
    }
  }
  const passedArtifacts = names(args.artifacts);
  for (const a of objects(inputs.artifacts)) {
    const name = str(a.name);
    const sourced = a.from !== undefined || a.fromExpression !== undefined || a.optional === true || ARTIFACT_SOURCES.some((s) => a[s] !== undefined);
    if (name && !passedArtifacts.has(name) && !sourced) {
      ctx.report(unit.doc, call.path, 'required-input', `${caller} does not pass input artifact "${name}" that ${what} requires (add it to arguments.artifacts)`);
    }
  }
  if (call.via !== 'task' && call.via !== 'step') return;
  const declared = names(inputs.parameters);
  for (const name of passed) {
    if (!declared.has(name)) ctx.report(unit.doc, call.path, 'undeclared-argument', `passes parameter "${name}", which ${what} does not declare in inputs.parameters`);
  }
  const declaredArtifacts = names(inputs.artifacts);
  for (const name of passedArtifacts) {
    if (!declaredArtifacts.has(name)) ctx.report(unit.doc, call.path, 'undeclared-argument', `passes artifact "${name}", which ${what} does not declare in inputs.artifacts`);
  }
}

function names(value: unknown): Set<string> {
  return new Set(objects(value).map((p) => str(p.name)).filter((n): n is string => n !== undefined));
}
