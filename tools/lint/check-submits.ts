import type { LintContext } from './context';
import type { LintDocument } from './documents';
import { list, obj, objects, str, type Json } from './json';

/**
 * Triggers that hand a run to the state service (`POST .../submit`, docs/state.md
 * "Submissions"): the payload's literal `workflow` names a WorkflowTemplate in the set (in the
 * payload's `namespace`), every `arguments.<name>` it sets is a parameter that template
 * declares, and every parameter it requires (no value) is passed.
 */
export function checkSubmitTrigger(ctx: LintContext, sensor: LintDocument, trigger: Json, path: string): void {
  const http = obj(obj(trigger.template).http);
  if (!/\/submit$/.test(str(http.url) ?? '')) return;
  const payload = list(http.payload).map((p) => obj(p));
  const literal = (dest: string) => str(obj(payload.find((p) => str(p.dest) === dest)?.src).value);
  const refName = literal('workflow');
  const at = `${path}.template.http.payload`;
  if (refName === undefined) {
    ctx.report(sensor, at, 'trigger-workflow-template', 'submits to the state service without a literal "workflow" (the WorkflowTemplate to run)');
    return;
  }
  const target = ctx.inventory.find('WorkflowTemplate', refName, literal('namespace') ?? sensor.namespace);
  if (!target) {
    ctx.report(sensor, `${at}[workflow]`, 'trigger-workflow-template', `submits WorkflowTemplate/${refName}, which is not in the set`);
    return;
  }
  const declared = objects(obj(obj(target.body.spec).arguments).parameters);
  const declaredNames = new Set(declared.map((p) => str(p.name)));
  const passed = new Set<string>();
  for (const p of payload) {
    const match = /^arguments\.(.+)$/.exec(str(p.dest) ?? '');
    if (!match) continue;
    const name = match[1]!.replace(/\\(.)/g, '$1');
    passed.add(name);
    if (!declaredNames.has(name)) {
      ctx.report(sensor, `${at}[arguments.${name}]`, 'trigger-workflow-template', `passes parameter "${name}", which WorkflowTemplate/${refName} does not declare in spec.arguments.parameters`);
    }
  }
  for (const p of declared) {
    const name = str(p.name);
    if (name !== undefined && p.value === undefined && p.valueFrom === undefined && !passed.has(name)) {
      ctx.report(sensor, at, 'trigger-workflow-template', `does not pass parameter "${name}", which WorkflowTemplate/${refName} requires (it has no value)`);
    }
  }
}
