import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject, list, obj, str, type Json } from './json';
import type { LintProblem } from './problem';

/** One manifest of the set being checked, with where it came from. */
export interface LintDocument {
  readonly file: string;
  readonly kind: string;
  readonly name: string;
  /** `metadata.namespace`; undefined means "wherever it is applied" and matches any. */
  readonly namespace?: string;
  /** Named by `generateName` only: every apply creates a new object, so it never collides. */
  readonly generated: boolean;
  readonly body: Json;
}

export function toDocument(file: string, body: Json): LintDocument {
  const meta = obj(body.metadata);
  return {
    file,
    kind: str(body.kind) ?? NO_KIND,
    name: str(meta.name) ?? str(meta.generateName) ?? NO_NAME,
    namespace: str(meta.namespace),
    generated: str(meta.name) === undefined && str(meta.generateName) !== undefined,
    body,
  };
}

export const NO_KIND = '<no kind>';
export const NO_NAME = '<no name>';

/** `Kind/name`, the resource part of a problem line. */
export function resourceOf(doc: Pick<LintDocument, 'kind' | 'name'>): string {
  return `${doc.kind}/${doc.name}`;
}

/** Documents from in-memory objects (e.g. `app.synth()` output); a `List` is expanded. */
export function documentsFrom(bodies: readonly unknown[], file = '<memory>'): LintDocument[] {
  const out: LintDocument[] = [];
  for (const body of bodies) {
    if (!isObject(body)) continue;
    if (body.kind === 'List') out.push(...documentsFrom(list(body.items), file));
    else out.push(toDocument(file, body));
  }
  return out;
}

/**
 * YAML files under the given files or directories (recursively, skipping hidden folders and
 * node_modules), sorted for stable output.
 */
export function yamlFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const visit = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        const child = join(path, entry);
        if (statSync(child).isDirectory() ? !entry.startsWith('.') && entry !== 'node_modules' : /\.ya?ml$/.test(entry)) visit(child);
      }
    } else {
      files.push(path);
    }
  };
  paths.forEach(visit);
  return files;
}

export interface LoadResult {
  readonly documents: LintDocument[];
  /** YAML syntax errors, reported like any other problem. */
  readonly problems: LintProblem[];
}

export function loadFiles(files: readonly string[]): LoadResult {
  const documents: LintDocument[] = [];
  const problems: LintProblem[] = [];
  for (const file of files) {
    parseAllDocuments(readFileSync(file, 'utf8')).forEach((parsed, i) => {
      if (parsed.errors.length > 0) {
        for (const error of parsed.errors) {
          problems.push({ file, resource: `document ${i + 1}`, path: '', rule: 'parse', message: error.message.split('\n')[0] });
        }
        return;
      }
      documents.push(...documentsFrom([parsed.toJS()], file));
    });
  }
  return { documents, problems };
}
