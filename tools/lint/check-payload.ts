import { PAYLOAD_PROJECTION_ANNOTATION, projectionPathProblem } from '../../constructs/payload';
import type { LintContext } from './context';
import { obj, str, type Json } from './json';

/**
 * Payload projections (constructs/payload.ts) are workflow parameters a submitter fills from
 * the payload, declared in the annotation `swoop.dev/payload-projection` (JSON name -> path).
 * Checked: the annotation is a JSON object of strings, every path is one a submitter knows
 * how to project, and every name is a declared workflow parameter with a default, so a
 * submitter that cannot see the value (a payload passed by URL) can leave it out.
 */
export function checkPayloadProjections(ctx: LintContext): void {
  for (const unit of ctx.workflows.units) {
    if (unit.kind !== 'WorkflowTemplate' && unit.kind !== 'ClusterWorkflowTemplate') continue;
    const text = str(obj(obj(unit.doc.body.metadata).annotations)[PAYLOAD_PROJECTION_ANNOTATION]);
    if (text === undefined) continue;
    const path = `metadata.annotations[${PAYLOAD_PROJECTION_ANNOTATION}]`;
    const report = (message: string) => ctx.report(unit.doc, path, 'payload-projection', message);
    let declaration: unknown;
    try {
      declaration = JSON.parse(text);
    } catch (e) {
      report(`is not JSON (${(e as Error).message}); write {"<parameter>": "<path>"}`);
      continue;
    }
    if (declaration === null || typeof declaration !== 'object' || Array.isArray(declaration)) {
      report('is not a JSON object; write {"<parameter>": "<path>"}');
      continue;
    }
    const parameters = new Map(((obj(unit.spec.arguments).parameters ?? []) as Json[]).map((p) => [String(p.name), p]));
    for (const [name, projected] of Object.entries(declaration as Record<string, unknown>)) {
      const problem = typeof projected === 'string' ? projectionPathProblem(projected) : `the path of "${name}" is not a string`;
      if (problem) report(`${problem}; fix the path`);
      const parameter = parameters.get(name);
      if (!parameter) report(`projects "${name}", which is not a workflow parameter of the template; declare it in spec.arguments.parameters with value ""`);
      else if (parameter.value === undefined) report(`projects "${name}", whose workflow parameter has no value; give it value "" so a submitter that cannot see the payload can leave it out`);
    }
  }
}
