/**
 * Argo's template tags as its controller reads them (util/template, valyala/fasttemplate):
 * a tag starts at `{{` and ends at the *first* `}}` after it, so tags do not nest. In
 * `{{=a + '{{inputs.parameters.x}}'}}` the expression Argo sees is `a + '{{inputs.parameters.x`,
 * which cannot be evaluated. `{{=...}}` tags are expr-lang (JSON-escaped quotes `\"` are
 * unescaped first, as Argo does); other tags are variable names.
 */
import { exprSyntaxProblem } from './expr-lang';

export interface TemplateTag {
  /** Offset of `{{` in the text. */
  readonly at: number;
  /** What is between `{{` and the first `}}` (for an expression, starting with `=`). */
  readonly body: string;
  /** Whether a `}}` closes it. */
  readonly closed: boolean;
}

/** Every tag of `text`, in order, read the way fasttemplate reads them. */
export function templateTags(text: string): TemplateTag[] {
  const tags: TemplateTag[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf('{{', from);
    if (at < 0) return tags;
    const end = text.indexOf('}}', at + 2);
    if (end < 0) {
      tags.push({ at, body: text.slice(at + 2), closed: false });
      return tags;
    }
    tags.push({ at, body: text.slice(at + 2, end), closed: true });
    from = end + 2;
  }
}

/**
 * The expression form of a simple tag's variable, for use inside `{{=...}}`:
 * `tasks.split-assets.outputs.parameters.assets` -> `tasks['split-assets'].outputs.parameters['assets']`.
 */
export function expressionFormOf(variable: string): string {
  const parts = variable.trim().split('.');
  let out = parts[0] ?? '';
  for (let i = 1; i < parts.length; i++) {
    const previous = parts[i - 1];
    const named = previous === 'tasks' || previous === 'steps' || previous === 'parameters' || previous === 'artifacts' || (parts[0] === 'item' && i === 1);
    out += named || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(parts[i]!) ? `['${parts[i]!.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']` : `.${parts[i]}`;
  }
  return out;
}

/**
 * Problems with the template tags of one string: a `{{` inside a `{{=...}}` expression, an
 * unclosed tag, or an expression that is not valid expr-lang. Each says where (column) and
 * what to write instead.
 */
export function templateTagProblems(text: string): string[] {
  const problems: string[] = [];
  for (const tag of templateTags(text)) {
    if (!tag.body.startsWith('=')) {
      if (!tag.closed) problems.push(`"{{" at column ${tag.at + 1} has no closing "}}"; close the tag or remove the braces`);
      continue;
    }
    const nested = tag.body.indexOf('{{');
    if (nested >= 0) {
      const inner = /^\{\{([^{}]*)/.exec(tag.body.slice(nested))?.[1] ?? '';
      const variable = inner.replace(/^=/, '').trim();
      const fix = variable && !inner.startsWith('=')
        ? `write the reference in expression form, ${expressionFormOf(variable)}, instead of {{${variable}}}`
        : 'write the nested part as plain expression syntax, without {{ }}';
      problems.push(`the expression at column ${tag.at + 1} contains a "{{" tag at column ${tag.at + 3 + nested}, which Argo cannot evaluate (tags do not nest: the expression would end at the first "}}"); ${fix}`);
      continue;
    }
    if (!tag.closed) {
      problems.push(`the expression at column ${tag.at + 1} has no closing "}}"; close it`);
      continue;
    }
    const problem = exprSyntaxProblem(tag.body.slice(1).replace(/\\"/g, '"'));
    if (problem) problems.push(`the expression at column ${tag.at + 1} is not valid expr-lang: ${problem} of the expression; fix its syntax (https://expr-lang.org/docs/language-definition)`);
  }
  return problems;
}
