/**
 * Finds Argo variable references in a string: simple tags such as
 * `{{tasks.a.outputs.parameters.x}}` (names may contain `-`) and the identifiers used
 * inside expression tags such as `{{=inputs.parameters['my-param']}}`.
 */

export type RefRoot = 'inputs' | 'workflow' | 'tasks' | 'steps';

export interface VariableRef {
  readonly root: RefRoot;
  /** Path after the root, e.g. ['parameters', 'x'] for `inputs.parameters.x`. */
  readonly segments: readonly string[];
  /** The reference as written, for messages. */
  readonly text: string;
}

const TAG = /\{\{([\s\S]*?)\}\}/g;
const ROOTS = new Set<string>(['inputs', 'workflow', 'tasks', 'steps']);
// An identifier path inside an expression: root then `.name` or `['name']` segments.
const EXPR_PATH = /(?<![\w.'"\]])(inputs|workflow|tasks|steps)((?:\s*\.\s*[A-Za-z_]\w*|\s*\[\s*(?:'[^']*'|"[^"]*")\s*\])+)/g;
const EXPR_SEGMENT = /\.\s*([A-Za-z_]\w*)|\[\s*(?:'([^']*)'|"([^"]*)")\s*\]/g;

export function variableRefs(text: string): VariableRef[] {
  if (!text.includes('{{')) return [];
  const refs: VariableRef[] = [];
  for (const tag of text.matchAll(TAG)) {
    const content = tag[1].trim();
    if (content.startsWith('=')) refs.push(...expressionRefs(content.slice(1)));
    else {
      const [root, ...segments] = content.split('.');
      if (ROOTS.has(root)) refs.push({ root: root as RefRoot, segments, text: content });
    }
  }
  return refs;
}

/** References in a bare expression (no braces), as in `{{=...}}` or a hook's `expression`. */
export function expressionRefs(expression: string): VariableRef[] {
  const refs: VariableRef[] = [];
  for (const match of withoutStringLiterals(expression).matchAll(EXPR_PATH)) {
    const text = expression.slice(match.index, match.index + match[0].length);
    const segments = [...text.slice(match[1].length).matchAll(EXPR_SEGMENT)].map((s) => s[1] ?? s[2] ?? s[3]);
    refs.push({ root: match[1] as RefRoot, segments, text: text.replace(/\s+/g, '') });
  }
  return refs;
}

/**
 * Blanks out string literals that are not subscripts, keeping offsets, so
 * `"inputs.parameters.x"` inside a string is not taken for a reference.
 */
function withoutStringLiterals(expression: string): string {
  let out = '';
  let i = 0;
  while (i < expression.length) {
    const quote = expression[i];
    if (quote !== "'" && quote !== '"') {
      out += quote;
      i++;
      continue;
    }
    const end = expression.indexOf(quote, i + 1);
    const close = end < 0 ? expression.length - 1 : end;
    const literal = expression.slice(i, close + 1);
    const closing = end < 0 ? '' : quote;
    out += out.trimEnd().endsWith('[') ? literal : quote + ' '.repeat(literal.length - 1 - closing.length) + closing;
    i = close + 1;
  }
  return out;
}
