import { checkDags } from './check-dag';
import { checkEvents } from './check-events';
import { checkExpressions } from './check-expressions';
import { checkImages } from './check-images';
import { checkPayloadProjections } from './check-payload';
import { checkPods } from './check-pods';
import { checkRetry } from './check-retry';
import { checkTemplates } from './check-templates';
import { checkTriggers } from './check-triggers';
import { checkVariables } from './check-variables';
import type { Check, LintContext } from './context';
import { documentsFrom, NO_KIND, NO_NAME, resourceOf, type LintDocument } from './documents';
import { Inventory } from './inventory';
import { at, isObject, type Json } from './json';
import type { LintProblem, Rule } from './problem';
import { WorkflowModel } from './workflow-model';

export { documentsFrom, loadFiles, yamlFiles, type LintDocument } from './documents';
export { formatProblem, RULES, isRule, type LintProblem, type Rule } from './problem';

export interface LintOptions {
  /** Rules not to report. Default: none. */
  readonly disable?: readonly Rule[];
  /** Extra per-document validation (the CLI passes the strict upstream schema). Default: none. */
  readonly validate?: (doc: Json) => string[];
}

const CHECKS: Check[] = [checkTemplates, checkVariables, checkExpressions, checkDags, checkPods, checkImages, checkRetry, checkPayloadProjections, checkEvents, checkTriggers];

/** Checks a set of manifests as a whole; problems come in document order. */
export function lint(documents: readonly LintDocument[], options: LintOptions = {}): LintProblem[] {
  const disabled = new Set(options.disable ?? []);
  const problems: { problem: LintProblem; order: number }[] = [];
  const order = new Map(documents.map((d, i) => [d, i]));
  const inventory = new Inventory(documents);
  const ctx: LintContext = {
    inventory,
    workflows: new WorkflowModel(inventory),
    report(doc, path, rule, message) {
      if (!disabled.has(rule)) problems.push({ problem: { file: doc.file, resource: resourceOf(doc), path, rule, message }, order: order.get(doc) ?? -1 });
    },
  };
  for (const doc of documents) {
    if (doc.kind === NO_KIND) ctx.report(doc, 'kind', 'metadata', 'the document has no kind');
    if (doc.name === NO_NAME) ctx.report(doc, 'metadata', 'metadata', 'the document has neither metadata.name nor metadata.generateName (check the indentation of metadata)');
  }
  for (const group of inventory.duplicates()) {
    for (const doc of group.slice(1)) ctx.report(doc, 'metadata.name', 'duplicate-name', `${resourceOf(doc)} is also defined in ${group[0].file}; one would overwrite the other`);
  }
  if (options.validate) {
    for (const doc of documents) {
      for (const error of options.validate(doc.body)) {
        const [pointer, ...message] = error.split(' ');
        ctx.report(doc, pointerToPath(pointer, doc.body), 'schema', message.join(' '));
      }
    }
  }
  CHECKS.forEach((check) => check(ctx));
  return problems.sort((a, b) => a.order - b.order).map((p) => p.problem);
}

/** `/spec/templates/0/name` as `spec.templates[main].name`, naming list elements as the checks do. */
function pointerToPath(pointer: string, body: unknown): string {
  let node = body;
  let path = '';
  for (const raw of pointer.split('/').filter(Boolean)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(part)) {
      path = at(path, node[Number(part)], Number(part));
    } else {
      path = path ? `${path}.${part}` : part;
    }
    node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[part] : undefined;
  }
  return path;
}

/** Lints in-memory manifests, e.g. `Testing.synth(chart)` or `app.synth()` output. */
export function lintObjects(objects: readonly unknown[], options: LintOptions = {}): LintProblem[] {
  return lint(documentsFrom(objects), options);
}
