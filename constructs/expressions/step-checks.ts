/**
 * Expression checks of one rendered DAG task, run by the step's validation so each problem
 * names the step's construct path: the `when` condition is one expr-lang expression, and
 * every string Argo templates (arguments, overrides) has well-formed tags.
 */
import { exprSyntaxProblem } from './expr-lang';
import { expressionFormOf, templateTagProblems } from './template-tags';
import { conditionResultProblem, whenProblems, type KnownValues } from './when-checks';

/** Problems of a `when` condition's expression (written without `{{= }}`; the step adds them). */
export function conditionProblems(expression: string): string[] {
  const nested = /\{\{\s*([^{}]*?)\s*\}\}/.exec(expression);
  if (nested || expression.includes('{{')) {
    const variable = nested?.[1]?.replace(/^=/, '').trim();
    const fix = variable ? `use ${expressionFormOf(variable)} instead of {{${variable}}} (or a Ref's .equals()/.isNotEmpty())` : 'write references in expression form, without {{ }}';
    return [`when condition "${expression}" contains a "{{" tag, which Argo cannot evaluate inside the {{=...}} the condition is rendered into; ${fix}`];
  }
  const problem = exprSyntaxProblem(expression);
  if (problem) return [`when condition "${expression}" is not a valid Argo expression (expr-lang): ${problem}; fix its syntax`];
  const result = conditionResultProblem(expression);
  return result ? [result] : [];
}

/**
 * Problems of every templated string of a rendered DAG task; `when` is left out when it was
 * rendered from a Condition (conditionProblems names the user's own text instead). With
 * `known` (what synth knows of a variable's values), the whole `when` is also checked as
 * Argo evaluates it after substitution.
 */
export function renderedTaskProblems(task: Record<string, unknown>, whenFromCondition: boolean, known?: KnownValues): string[] {
  const problems: string[] = [];
  for (const [text, path] of stringsOf(whenFromCondition ? { ...task, when: undefined } : task, '')) {
    for (const p of templateTagProblems(text)) problems.push(`${path}: ${p}`);
  }
  // The whole when as Argo evaluates it after substitution (govaluate), also when rendered from conditions.
  if (known && typeof task.when === 'string' && problems.length === 0) problems.push(...whenProblems(task.when, known));
  return problems;
}

function* stringsOf(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') {
    yield [value, path];
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const name = v !== null && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string' ? (v as { name: string }).name : String(i);
      yield* stringsOf(v, `${path}[${name}]`);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* stringsOf(v, path ? `${path}.${k}` : k);
  }
}
