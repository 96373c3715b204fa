import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { vi } from 'vitest';
import { parse } from 'yaml';
import { secretReferences } from '../../../infra/manifest-secrets';
import { PLATFORM_SECRETS } from '../../../infra/platform';
import { ResourceRecorder, valueOf, type Registered } from './pulumi-mocks';

export const STACKS_DIR = join(__dirname, '..', '..', '..', 'stacks');

/** A stack's config as `pulumi up` hands it to the program: `<ns>:<key>` -> string (objects as JSON). */
export function stackConfig(stack: string): Record<string, string> {
  const file = parse(readFileSync(join(STACKS_DIR, `Pulumi.${stack}.yaml`), 'utf8')) as { config: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(file.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

/**
 * The Secrets the manifests reference that a real stack holds as encrypted config
 * (`pulumi config set --secret --path 'workloadSecrets.<name>.<key>'`), with test values:
 * every one dist/ references and the stack does not create, read from dist/ so that a
 * workflow's new Secret (a callback's auth, a task's env) needs no edit of the infra tests.
 */
export const TEST_WORKLOAD_SECRETS = {
  'swoop-platform:workloadSecrets': JSON.stringify(testWorkloadSecrets(join(__dirname, '..', '..', '..', 'dist'))),
};

function testWorkloadSecrets(dist: string): Record<string, Record<string, string>> {
  const secrets: Record<string, Record<string, string>> = {};
  for (const ref of secretReferences(dist)) {
    if (ref.name in PLATFORM_SECRETS) continue;
    (secrets[ref.name] ??= {})[ref.key ?? 'value'] = `test-${ref.name}-${ref.key ?? 'value'}`;
  }
  return secrets;
}

export interface StackRun {
  readonly resources: Registered[];
  readonly outputs: Record<string, unknown>;
  readonly recorder: ResourceRecorder;
}

/**
 * Runs stacks/index.ts under mocks with the stack's own config file (plus the workload
 * Secrets and `extra`, for secrets a real stack holds encrypted) and returns every resource
 * it declared.
 */
export async function runStack(stack: string, extra: Record<string, string> = {}, recorder = new ResourceRecorder()): Promise<StackRun> {
  await recorder.install(stack);
  pulumi.runtime.setAllConfig({ ...stackConfig(stack), ...TEST_WORKLOAD_SECRETS, ...extra });
  vi.resetModules();
  const program = (await import('../../../stacks/index')) as Record<string, pulumi.Output<unknown>>;
  const outputs: Record<string, unknown> = {};
  // Every export of the program is a stack output.
  for (const [name, value] of Object.entries(program)) outputs[name] = await valueOf(value);
  await recorder.settle();
  return { resources: [...recorder.resources], outputs, recorder };
}
