/**
 * The one shape every check reports. A problem names where it is (file, document, field
 * path) and what to do, so a reviewer can fix it without opening the checker.
 */

/** Identifiers of the checks, stable so they can be filtered and documented. */
export const RULES = [
  'parse',
  'schema',
  'metadata',
  'duplicate-name',
  'entrypoint',
  'template',
  'template-ref',
  'required-input',
  'undeclared-argument',
  'inputs',
  'workflow-parameters',
  'task-outputs',
  'step-outputs',
  'expressions',
  'depends',
  'dag-cycle',
  'container-requests',
  'image-pinning',
  'scheduling',
  'retry-strategy',
  'payload-projection',
  'sensor-dependency',
  'trigger-conditions',
  'trigger-parameters',
  'trigger-workflow-template',
  'event-bus',
] as const;

export type Rule = (typeof RULES)[number];

export interface LintProblem {
  /** File the document came from (as given to the loader). */
  readonly file: string;
  /** `Kind/name` of the document (`generateName` when it has no name). */
  readonly resource: string;
  /** Field path inside the document, e.g. `spec.templates[main].dag.tasks[cog]`. */
  readonly path: string;
  readonly rule: Rule;
  readonly message: string;
}

export function formatProblem(p: LintProblem): string {
  return `${p.file}: ${p.resource}: ${p.path}: ${p.message} [${p.rule}]`;
}

export function isRule(name: string): name is Rule {
  return (RULES as readonly string[]).includes(name);
}
