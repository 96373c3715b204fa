import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, parse, parseDocument, type Node } from 'yaml';

/**
 * The keys a chart's values.yaml documents: its actual values, plus the commented-out
 * examples charts put right under an empty map (e.g. argo-workflows `controller.persistence: {}`
 * followed by `# postgresql: ...`), which are the only documentation of those shapes.
 */
export function documentedValues(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const values = (parse(text) ?? {}) as Record<string, unknown>;
  const doc = parseDocument(text);
  const visit = (node: Node | null | undefined, path: string[]) => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      const value = pair.value as Node | null;
      if ((isMap(value) || isSeq(value)) && value.items.length === 0 && value.range) {
        const example = commentedExample(text, value.range[1]);
        if (example && isMap(value)) setAt(values, [...path, key], example);
      } else visit(value, [...path, key]);
    }
  };
  visit(doc.contents as Node, []);
  return values;
}

function commentedExample(text: string, offset: number): Record<string, unknown> | undefined {
  const rest = text.slice(offset).split('\n').slice(1);
  const lines: string[] = [];
  for (const line of rest) {
    const m = /^\s*# ?(.*)$/.exec(line);
    if (!m) break;
    lines.push(m[1]);
  }
  if (lines.length === 0) return undefined;
  try {
    const parsed = parse(lines.join('\n'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function setAt(root: Record<string, unknown>, path: string[], value: Record<string, unknown>): void {
  let node = root;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]] = value;
}

/**
 * Kubernetes-shaped fields whose keys are user data (label names, resource names...):
 * anything below them is accepted. `workflowDefaults` is a Workflow spec, validated against
 * the Argo Workflows schema by the Argo tests instead.
 */
export const FREE_FORM = new Set(['nodeSelector', 'affinity', 'resources', 'annotations', 'labels', 'podAnnotations', 'podLabels', 'workflowDefaults']);

/** Dotted paths of `values` that the documented values do not have. */
export function undocumentedPaths(values: unknown, documented: unknown, path: string[] = []): string[] {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) return [];
  if (path.length > 0 && FREE_FORM.has(path[path.length - 1])) return [];
  if (documented === null || typeof documented !== 'object' || Array.isArray(documented)) {
    return [`${path.join('.')} (documented as ${JSON.stringify(documented)}, not a map)`];
  }
  const out: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (!(key in (documented as Record<string, unknown>))) {
      out.push([...path, key].join('.'));
      continue;
    }
    out.push(...undocumentedPaths(value, (documented as Record<string, unknown>)[key], [...path, key]));
  }
  return out;
}
