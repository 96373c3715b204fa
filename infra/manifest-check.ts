import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { platformValueReads } from '../constructs/environment';

/** What the stack provides to the manifests it deploys. */
export interface ManifestExpectations {
  /** Keys of ConfigMap swoop-platform this stack writes. */
  readonly valueKeys: readonly string[];
  /** The state service image by digest (stack setting stateServiceImage). @default not checked */
  readonly stateServiceImage?: string;
}

/**
 * Checks the synthesized manifests of a stack against what the stack provides, before anything
 * is applied: every `swoop-platform` key a manifest reads exists, and the state service runs
 * the image the stack setting names (so a stale `dist/<stack>/` cannot deploy the wrong build).
 * One line per problem, naming the file, the object and the fix.
 */
export function manifestProblems(dir: string, expected: ManifestExpectations): string[] {
  if (!existsSync(dir)) return [`${dir}: no synthesized manifests; run \`npm run synth\` and commit dist/`];
  const problems: string[] = [];
  const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.yaml')).sort();
  for (const file of files) {
    const shown = relative(process.cwd(), join(dir, file)) || file;
    const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJS() as Record<string, any> | null).filter((d) => d);
    for (const doc of docs as Record<string, any>[]) {
      const what = `${doc.kind}/${doc.metadata?.name}`;
      for (const key of platformValueReads(doc)) {
        if (!expected.valueKeys.includes(key)) {
          problems.push(`${shown}: ${what} reads key "${key}" of ConfigMap swoop-platform, which this stack does not set; add it to the stack setting swoop-platform:workflowValues`);
        }
      }
      if (expected.stateServiceImage && ['Deployment', 'Job'].includes(doc.kind) && String(doc.metadata?.name).startsWith('swoop-state')) {
        for (const c of doc.spec?.template?.spec?.containers ?? []) {
          if (c.image !== expected.stateServiceImage) {
            problems.push(`${shown}: ${what} runs image ${c.image}, but the stack setting stateServiceImage is ${expected.stateServiceImage}; run \`npm run synth\` and commit dist/`);
          }
        }
      }
    }
  }
  return problems;
}
