import type { LintDocument } from './documents';
import type { Inventory } from './inventory';
import type { Rule } from './problem';
import type { TemplateSite, WorkflowModel } from './workflow-model';

/** What every check receives: the indexed set and a way to report. */
export interface LintContext {
  readonly inventory: Inventory;
  readonly workflows: WorkflowModel;
  report(doc: LintDocument, path: string, rule: Rule, message: string): void;
}

export type Check = (ctx: LintContext) => void;

/** How a message names a template: plain within its own spec, qualified across documents. */
export function describeTemplate(site: TemplateSite, from?: TemplateSite['unit']): string {
  if (from && site.unit === from) return `template "${site.name}"`;
  return `template "${site.name}" of ${site.unit.label}`;
}
