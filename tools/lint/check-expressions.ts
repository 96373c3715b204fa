import { templateTagProblems } from '../../constructs/expressions/template-tags';
import { whenProblems } from '../../constructs/expressions/when-checks';
import type { LintContext } from './context';
import { strings } from './json';

/**
 * Argo template tags are well formed in every workflow spec: no `{{...}}` nested inside a
 * `{{=...}}` expression (Argo ends the expression at the first `}}`), no unclosed tag, and
 * every expression parses as expr-lang. The same check synth runs on the constructs
 * (constructs/expressions/template-tags.ts), here for hand-written YAML. A step's or DAG
 * task's `when` must also be a condition govaluate evaluates once its tags are substituted
 * (constructs/expressions/when-checks.ts), with unknown values taken as one plain word.
 */
export function checkExpressions(ctx: LintContext): void {
  for (const unit of ctx.workflows.units) {
    for (const [text, path] of strings({ ...unit.spec, templates: undefined }, unit.specPath)) report(ctx, unit.doc, text, path);
    for (const site of unit.sites) {
      for (const [text, path] of strings(site.template, site.path, INLINE)) report(ctx, unit.doc, text, path);
    }
  }
}

const INLINE = new Set(['inline']);

function report(ctx: LintContext, doc: Parameters<LintContext['report']>[0], text: string, path: string): void {
  const tagProblems = text.includes('{{') ? templateTagProblems(text) : [];
  for (const problem of tagProblems) ctx.report(doc, path, 'expressions', problem);
  if (tagProblems.length === 0 && /\]\.when$/.test(path)) {
    for (const problem of whenProblems(text, () => undefined, { unknownSamples: ['value'], reportUnsupported: false })) ctx.report(doc, path, 'expressions', problem);
  }
}
