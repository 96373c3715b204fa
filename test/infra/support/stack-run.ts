import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** A digest no example uses: what CI's build would have pushed (see `built`). */
export const TEST_BUILD_DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

/** A stack's config with a built image in place of the committed example (see `built`). */
export function builtStackConfig(stack: string): Record<string, string> {
  const config = stackConfig(stack);
  const key = 'swoop-platform:stateServiceImage';
  return { ...config, [key]: `${config[key].split('@')[0]}@${TEST_BUILD_DIGEST}` };
}

/**
 * The stack as it stands after the runbook's step 3: the committed files carry an example
 * digest, which the program refuses (stacks/config.ts); a built stack has its image's digest
 * in both `stacks/Pulumi.<stack>.yaml` and `dist/<stack>/`. Returns that config and a copy of
 * the repository's dist/ with the digest swapped, in a directory standing in for the checkout.
 */
function built(stack: string, config: Record<string, string>): { config: Record<string, string>; root: string } {
  const key = 'swoop-platform:stateServiceImage';
  const example = config[key];
  const image = `${example.split('@')[0]}@${TEST_BUILD_DIGEST}`;
  const root = join(tmpdir(), `swoop-stack-run-${process.pid}`, stack);
  const dist = join(__dirname, '..', '..', '..', 'dist');
  mkdirSync(root, { recursive: true });
  cpSync(dist, join(root, 'dist'), { recursive: true });
  for (const file of readdirSync(join(root, 'dist', stack), { recursive: true }).map(String).filter((f) => f.endsWith('.yaml'))) {
    const path = join(root, 'dist', stack, file);
    writeFileSync(path, readFileSync(path, 'utf8').split(example).join(image));
  }
  return { config: { ...config, [key]: image }, root };
}

/**
 * Runs stacks/index.ts under mocks with the stack's own config file (plus the workload
 * Secrets and `extra`, for secrets a real stack holds encrypted) and returns every resource
 * it declared. Unless `extra` sets `stateServiceImage` or `deployManifests`, the stack runs as
 * built (`built`): the program reads `dist/<stack>/` relative to the working directory, which
 * points at the built copy while it runs.
 */
export async function runStack(stack: string, extra: Record<string, string> = {}, recorder = new ResourceRecorder()): Promise<StackRun> {
  await recorder.install(stack);
  const asCommitted = 'swoop-platform:stateServiceImage' in extra || 'swoop-platform:deployManifests' in extra;
  const { config, root } = asCommitted ? { config: stackConfig(stack), root: undefined } : built(stack, stackConfig(stack));
  pulumi.runtime.setAllConfig({ ...config, ...TEST_WORKLOAD_SECRETS, ...extra });
  vi.resetModules();
  const cwd = root ? vi.spyOn(process, 'cwd').mockReturnValue(root) : undefined;
  try {
    const program = (await import('../../../stacks/index')) as Record<string, pulumi.Output<unknown>>;
    const outputs: Record<string, unknown> = {};
    // Every export of the program is a stack output.
    for (const [name, value] of Object.entries(program)) outputs[name] = await valueOf(value);
    await recorder.settle();
    return { resources: [...recorder.resources], outputs, recorder };
  } finally {
    cwd?.mockRestore();
  }
}
