/**
 * The stack settings that reach the synthesized manifests: read here, with no Pulumi SDK, so
 * `npm run synth` can render `dist/<stack>/` from the committed `stacks/Pulumi.<stack>.yaml`
 * and `pulumi up` (stacks/config.ts) validates the same keys the same way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const STACKS_DIR = join(__dirname);
export const PROJECT_FILE = join(__dirname, '..', 'Pulumi.yaml');

/** ConfigMap `swoop-platform` keys the Platform component always writes (docs/contracts.md). */
export const BUILT_IN_VALUE_KEYS = ['payload-store', 'state-url', 'lifecycle-url'] as const;

/** SQS process queue and its dead-letter queue of a cluster (docs/contracts.md). */
export const processQueueName = (clusterName: string): string => `${clusterName}-process`;
export const deadLetterQueueName = (clusterName: string): string => `${clusterName}-process-dlq`;
export const defaultClusterName = (stack: string): string => `swoop-${stack}`;

/** What the config keys below accept, shown in errors (merged into stacks/config.ts CONFIG_KEYS). */
export const ENVIRONMENT_KEYS = {
  stateServiceImage: 'the state service image by digest, "<registry>/<repository>@sha256:<64 hex>" (built by .github/workflows/state-image.yml)',
  workflowValues: 'an object of ConfigMap swoop-platform keys (letters, digits, "-", "_", ".") to strings that workflows read with env.value(key); payload-store, state-url and lifecycle-url are the platform\'s own',
} as const;

const IMAGE_BY_DIGEST = /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\.[a-z0-9-]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)+@sha256:[0-9a-f]{64}$/;
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/** A problem with `stateServiceImage`, or undefined when it is an image reference by digest. */
export function stateServiceImageProblem(value: unknown): string | undefined {
  if (typeof value === 'string' && IMAGE_BY_DIGEST.test(value)) return undefined;
  return `must be ${ENVIRONMENT_KEYS.stateServiceImage} (got ${JSON.stringify(value ?? null)})`;
}

/**
 * Whether `image` carries an example digest: 64 times the same hex digit, like the
 * `sha256:000…` the stack files are committed with. No real build has one, so deploying it
 * would leave the state service in ImagePullBackOff.
 */
export function isExampleDigest(image: string): boolean {
  return /@sha256:([0-9a-f])\1{63}$/.test(image);
}

/** Problems with `workflowValues`, one per bad key or value. */
export function workflowValuesProblems(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`must be ${ENVIRONMENT_KEYS.workflowValues} (got ${JSON.stringify(value)})`];
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (!CONFIGMAP_KEY.test(key)) problems.push(`.${key} is not a ConfigMap key: use letters, digits, "-", "_" and "."`);
    else if ((BUILT_IN_VALUE_KEYS as readonly string[]).includes(key)) problems.push(`.${key} is set by the platform itself; remove it`);
    else if (typeof v !== 'string' || v === '') problems.push(`.${key} must be a non-empty string (got ${JSON.stringify(v)})`);
  }
  return problems;
}

/** What one stack's settings put into its manifests. */
export interface Environment {
  /** The Pulumi stack name: `dist/<stack>/` and `stacks/Pulumi.<stack>.yaml`. */
  readonly stack: string;
  readonly region: string;
  readonly clusterName: string;
  /** The SQS process queue the ingress EventSource reads. */
  readonly queueName: string;
  readonly stateServiceImage: string;
  /** ConfigMap swoop-platform keys besides the built-in ones, with their values. */
  readonly workflowValues: Readonly<Record<string, string>>;
  /** Every key ConfigMap swoop-platform holds in this stack. */
  readonly valueKeys: readonly string[];
}

/** One-line errors naming the stack file and key. */
export class EnvironmentError extends Error {}

/** The Pulumi project name (`name` in Pulumi.yaml): the namespace of the stack settings. */
export function projectName(file = PROJECT_FILE): string {
  return String((parse(readFileSync(file, 'utf8')) as { name: string }).name);
}

/** The stacks that have a settings file in `dir`, sorted. */
export function stackNames(dir = STACKS_DIR): string[] {
  return readdirSync(dir).map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();
}

/** Reads and checks the settings of `stack` that its manifests depend on. */
export function loadEnvironment(stack: string, dir = STACKS_DIR, project = projectName()): Environment {
  const file = `stacks/Pulumi.${stack}.yaml`;
  const config = ((parse(readFileSync(join(dir, `Pulumi.${stack}.yaml`), 'utf8')) as { config?: Record<string, unknown> } | null)?.config) ?? {};
  const errors: string[] = [];
  const region = config['aws:region'];
  if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) errors.push(`aws:region must be an AWS region such as us-west-2 (got ${JSON.stringify(region ?? null)})`);
  const clusterName = (config[`${project}:clusterName`] as string | undefined) ?? defaultClusterName(stack);
  const image = config[`${project}:stateServiceImage`];
  const imageProblem = stateServiceImageProblem(image);
  if (imageProblem) errors.push(`${project}:stateServiceImage ${imageProblem}; set it with \`pulumi config set stateServiceImage <image@sha256:...> -s ${stack}\``);
  const values = config[`${project}:workflowValues`];
  errors.push(...workflowValuesProblems(values).map((p) => `${project}:workflowValues${p.startsWith('.') ? p : ` ${p}`}`));
  if (errors.length > 0) throw new EnvironmentError(`${file}: ${errors.join('; ')}`);
  const workflowValues = Object.fromEntries(Object.entries((values ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    stack,
    region: region as string,
    clusterName,
    queueName: processQueueName(clusterName),
    stateServiceImage: image as string,
    workflowValues,
    valueKeys: [...BUILT_IN_VALUE_KEYS, ...Object.keys(workflowValues)],
  };
}

/** Every stack of `dir` with its environment. */
export function loadEnvironments(dir = STACKS_DIR): Environment[] {
  const project = projectName();
  return stackNames(dir).map((stack) => loadEnvironment(stack, dir, project));
}
