import { PLATFORM_CONFIGMAP } from './platform';

const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/**
 * A value of the environment a workflow runs in (a bucket, a queue URL, a public URL): the
 * key of ConfigMap `swoop-platform` that each stack sets (stack setting `workflowValues`).
 * As a workflow parameter's `default` it renders `valueFrom.configMapKeyRef`, so the
 * manifests name the key, never the value; in a task's `env` it is a `configMapKeyRef` too, and
 * as `TaskTokenTarget.sqs`'s `queueUrl` the wait step's send template input reads it so.
 * `npm run synth` fails when a stack does not set a key its manifests read.
 */
export class EnvironmentValue {
  public static isEnvironmentValue(x: unknown): x is EnvironmentValue {
    return x instanceof EnvironmentValue;
  }

  /** What Argo (parameter) and Kubernetes (env) read: `{configMapKeyRef: {name, key}}`. */
  public readonly valueFrom: { readonly configMapKeyRef: { readonly name: string; readonly key: string } };

  constructor(public readonly key: string) {
    if (typeof key !== 'string' || !CONFIGMAP_KEY.test(key)) {
      throw new Error(`environment value ${JSON.stringify(key)} is not a ConfigMap key; use letters, digits, "-", "_" and "."`);
    }
    this.valueFrom = { configMapKeyRef: { name: PLATFORM_CONFIGMAP, key } };
  }

  public toString(): string {
    return `env.value(${JSON.stringify(this.key)})`;
  }
}

/**
 * Declares the environment values an app's workflows may read, each with what it means;
 * `value(key)` is typed against them, so a misspelt key does not compile.
 *
 * ```ts
 * export const env = environmentValues({ 'publish-bucket': 's3:// URL the published assets go to' });
 * new Workflow(app, 'publish', { parameters: { destination: { default: env.value('publish-bucket') } } });
 * ```
 */
export function environmentValues<K extends string>(descriptions: Record<K, string>): EnvironmentValues<K> {
  for (const key of Object.keys(descriptions)) new EnvironmentValue(key);
  return { descriptions, value: (key: K) => new EnvironmentValue(key) };
}

export interface EnvironmentValues<K extends string> {
  readonly descriptions: Readonly<Record<K, string>>;
  value(key: K): EnvironmentValue;
}

/**
 * Keys of ConfigMap swoop-platform that a manifest reads (`configMapKeyRef` anywhere in it:
 * workflow parameters, container env), sorted, each once.
 */
export function platformValueReads(manifest: unknown): string[] {
  const keys = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const ref = (node as { configMapKeyRef?: { name?: unknown; key?: unknown } }).configMapKeyRef;
      if (ref && ref.name === PLATFORM_CONFIGMAP && typeof ref.key === 'string') keys.add(ref.key);
      Object.values(node).forEach(visit);
    }
  };
  visit(manifest);
  return [...keys].sort();
}
