import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A Secret (and key, when the reference names one) a synthesized manifest reads. */
export interface SecretReference {
  readonly namespace: string;
  readonly name: string;
  /** Undefined for whole-Secret references (envFrom, volumes, image pull secrets). */
  readonly key?: string;
  /** File under the manifests folder. */
  readonly file: string;
}

/** Fields holding a Kubernetes SecretKeySelector `{name, key}` under another name (Argo Events: authSecret, accessKey...). */
const SELECTOR_FIELD = /secret|token|credential|password|accesskey|sessiontoken/i;

/**
 * Every Secret the YAML manifests under `dir` reference: `secretKeyRef` and the Argo Events
 * selectors (`authSecret`, `accessKey`...), `envFrom[].secretRef`, volume `secretName`, and
 * `imagePullSecrets`. The namespace is the referencing object's (default `swoop`).
 */
export function secretReferences(dir: string, defaultNamespace = 'swoop'): SecretReference[] {
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.ya?ml$/.test(f)).sort();
  const refs: SecretReference[] = [];
  for (const file of files) {
    const path = join(dir, file);
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      const obj = doc.toJSON() as Record<string, any> | null;
      if (!obj || typeof obj !== 'object') continue;
      const namespace: string = obj.metadata?.namespace ?? defaultNamespace;
      const add = (name: unknown, key?: unknown) => {
        if (typeof name === 'string') refs.push({ namespace, name, ...(typeof key === 'string' ? { key } : {}), file: relative(dir, path) });
      };
      const visit = (node: unknown): void => {
        if (Array.isArray(node)) return node.forEach(visit);
        if (!node || typeof node !== 'object') return;
        for (const [field, value] of Object.entries(node as Record<string, any>)) {
          if (field === 'secretRef' && value && typeof value === 'object') add(value.name);
          else if (field === 'secretName' && typeof value === 'string') add(value);
          else if (field === 'imagePullSecrets' && Array.isArray(value)) value.forEach((v) => add(v?.name));
          else if (SELECTOR_FIELD.test(field) && value && typeof value === 'object' && !Array.isArray(value) && typeof value.name === 'string' && typeof value.key === 'string') add(value.name, value.key);
          else visit(value);
        }
      };
      visit(obj);
    }
  }
  return refs;
}

/**
 * What is missing for the manifests' Secret references: each referenced Secret (key) that
 * is neither among the Secrets the stack creates (`created`: name -> keys) nor declared as
 * a stack input (`declared`: name -> key -> value), one line per Secret, naming the config
 * path that provides it. Empty when everything is there.
 */
export function missingSecretInputs(
  refs: readonly SecretReference[],
  created: Readonly<Record<string, readonly string[]>>,
  declared: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
  configKey = 'swoop-platform:workloadSecrets',
): string[] {
  const missing = new Map<string, { keys: Set<string>; files: Set<string> }>();
  for (const ref of refs) {
    const have = created[ref.name] ?? (declared[ref.name] ? Object.keys(declared[ref.name]) : undefined);
    if (have && (ref.key === undefined || have.includes(ref.key))) continue;
    const entry = missing.get(ref.name) ?? { keys: new Set(), files: new Set() };
    if (ref.key !== undefined) entry.keys.add(ref.key);
    entry.files.add(ref.file);
    missing.set(ref.name, entry);
  }
  const problems = [...missing].map(([name, { keys, files }]) => {
    const owned = name in created ? ` (the stack creates ${name} but not key(s) ${[...keys].join(', ')}: fix the manifest)` : '';
    const paths = [...keys].map((k) => `'${configKey.split(':')[1]}.${name}.${k}'`).join(', ');
    return `${configKey}.${name} is required: Secret ${name}${keys.size ? ` (keys ${[...keys].join(', ')})` : ''} is referenced by ${[...files].join(', ')}${owned || `; set it with pulumi config set --secret --path ${paths || `'${configKey.split(':')[1]}.${name}.<key>'`} <value>`}`;
  });
  for (const name of Object.keys(declared)) {
    if (name in created) problems.push(`${configKey}.${name} names a Secret the stack creates itself; remove it from ${configKey}`);
  }
  return problems;
}
