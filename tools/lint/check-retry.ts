import type { LintContext } from './context';
import { obj, str, type Json } from './json';

/**
 * retryStrategy fields Argo only reads at run time (workflow/controller/operator.go
 * processNodeRetries, buildRetryStrategyLocalScope):
 * - the expression sees `retries` and `lastRetry.exitCode|status|duration|message`, all
 *   strings, so any other name is nil and a number compared with them never matches (or,
 *   for `<`, fails the step);
 * - a backoff needs `duration` ("no base duration specified" fails the step), `factor` is
 *   an int32 and every duration is whole seconds or a Go duration;
 * - an expression without `limit` retries until the expression turns false.
 */
export function checkRetry(ctx: LintContext): void {
  for (const unit of ctx.workflows.units) {
    const defaults = obj(obj(unit.spec.templateDefaults).retryStrategy);
    if (Object.keys(defaults).length) checkStrategy(ctx, unit.doc, `${unit.specPath}.templateDefaults.retryStrategy`, defaults);
    for (const site of unit.sites) {
      const strategy = obj(site.template.retryStrategy);
      if (Object.keys(strategy).length) checkStrategy(ctx, unit.doc, `${site.path}.retryStrategy`, strategy);
    }
  }
}

const LAST_RETRY_FIELDS = ['exitCode', 'status', 'duration', 'message'];
const WORDS = new Set(['in', 'matches', 'contains', 'startsWith', 'endsWith', 'and', 'or', 'not', 'true', 'false', 'nil', 'let']);
const GO_DURATION = /^(\d+|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/;

function checkStrategy(ctx: LintContext, doc: Parameters<LintContext['report']>[0], path: string, s: Json): void {
  const report = (field: string, message: string) => ctx.report(doc, `${path}${field ? `.${field}` : ''}`, 'retry-strategy', message);
  const expression = str(s.expression);
  if (expression !== undefined) {
    for (const name of expressionNames(expression)) {
      const [root, field] = name.split('.');
      if (root === 'retries' && field === undefined) continue;
      if (root === 'lastRetry' && field !== undefined && LAST_RETRY_FIELDS.includes(field) && name.split('.').length === 2) continue;
      report('expression', `reads "${name}", which a retry expression does not have (only retries and lastRetry.${LAST_RETRY_FIELDS.join('|')}); it would be nil`);
    }
    const bare = withoutStrings(expression);
    for (const m of bare.matchAll(/(^|[^\w.(])(retries|lastRetry\.exitCode|lastRetry\.duration)\s*(==|!=|<=|>=|<|>)\s*-?\d/g)) {
      report('expression', `compares ${m[2]} with a number, but Argo passes it as a string; use asInt(${m[2]}) (or quote the number for == and !=)`);
    }
    for (const m of bare.matchAll(/(^|[^\w.(])(lastRetry\.exitCode)\s+in\s+\[\s*-?\d/g)) {
      report('expression', `looks ${m[2]} up in a list of numbers, but Argo passes it as a string; quote the exit codes`);
    }
    if (s.limit === undefined) report('limit', 'an expression without limit retries until the expression is false; set limit');
  }
  const backoff = obj(s.backoff);
  if (s.backoff !== undefined) {
    if (backoff.duration === undefined) report('backoff', 'a backoff without duration fails the step ("no base duration specified for retryStrategy"); set backoff.duration');
    for (const key of ['duration', 'cap', 'maxDuration']) {
      const v = backoff[key];
      if (v !== undefined && !GO_DURATION.test(String(v))) report(`backoff.${key}`, `"${String(v)}" is neither whole seconds nor a Go duration (e.g. "30s", "2m")`);
    }
    if (backoff.factor !== undefined && !/^\d+$/.test(String(backoff.factor))) {
      report('backoff.factor', `factor "${String(backoff.factor)}" is not a whole number; Argo reads it as an integer and fails the step`);
    }
  }
}

function withoutStrings(expression: string): string {
  return expression.replace(/\{\{.*?\}\}/gs, ' ').replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, "''");
}

/** Dotted names the expression reads (not function calls, not keywords, not string contents). */
function expressionNames(expression: string): string[] {
  const bare = withoutStrings(expression);
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.$])([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)(\s*\()?/g)) {
    const name = m[1].replace(/\s+/g, '');
    if (m[2] || WORDS.has(name)) continue;
    names.add(name);
  }
  return [...names];
}
