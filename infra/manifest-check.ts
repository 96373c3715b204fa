import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { platformValueReads } from '../constructs/environment';
import { taskTokenQueueReads } from '../constructs/wait-for-callback';

/** What the stack provides to the manifests it deploys. */
export interface ManifestExpectations {
  /** Keys of ConfigMap swoop-platform this stack writes. */
  readonly valueKeys: readonly string[];
  /** The state service image by digest (stack setting stateServiceImage). @default not checked */
  readonly stateServiceImage?: string;
  /**
   * The SQS queues the state service may send task tokens to (stack setting taskTokenQueues)
   * and the ConfigMap values known before deploying, which resolve the `env.value(key)` a
   * wait step reads its queue from. @default not checked
   */
  readonly taskTokenQueues?: { readonly queues: readonly string[]; readonly values: Readonly<Record<string, string>> };
}

/**
 * Checks the synthesized manifests of a stack against what the stack provides, before anything
 * is applied: every `swoop-platform` key a manifest reads exists, and the state service runs
 * the image the stack setting names (so a stale `dist/<stack>/` cannot deploy the wrong build),
 * and every SQS queue a wait step sends task tokens to is one the state service may send to.
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
      const queues = expected.taskTokenQueues;
      for (const read of queues ? taskTokenQueueReads(doc) : []) {
        // A key the stack does not set is reported above; one whose value is not known yet cannot be checked here.
        const url = read.key !== undefined ? queues!.values[read.key] : read.queueUrl;
        if (url !== undefined && !queues!.queues.includes(url)) {
          problems.push(`${shown}: ${what} (template ${read.template}) sends task tokens to SQS queue ${url}${read.key !== undefined ? ` (key "${read.key}")` : ''}, which the state service may not send to; add {url: ${url}} to the stack setting swoop-platform:taskTokenQueues`);
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
