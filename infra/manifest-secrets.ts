import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/**
 * Fields the upstream schemas (Kubernetes core, Argo Workflows, Argo Events) type as a
 * `SecretKeySelector` (`{name, key}`), by field name. test/infra/manifest-secrets.test.ts
 * derives the same list from the schemas under $SWOOP_REFERENCE_DIR and fails when they differ,
 * so a field a new Argo version adds shows up there (the program cannot read those schemas
 * at `pulumi up`).
 */
export const SECRET_KEY_SELECTOR_FIELDS: ReadonlySet<string> = new Set([
  'accessKey', 'accessKeySecret', 'accessSecret', 'accessToken', 'accountKeySecret', 'address', 'apiKey', 'apiToken',
  'authAthenzSecret', 'authSecret', 'authToken', 'authTokenSecret', 'caCertSecret', 'caCertificate', 'caSecret', 'certSecret',
  'clientCertSecret', 'clientIDSecret', 'clientKeySecret', 'clientSecretSecret', 'connectionString', 'credential',
  'credentialSecret', 'krbCCacheSecret', 'krbKeytabSecret', 'nkey', 'oauthToken', 'password', 'passwordSecret', 'privateKey',
  'secretKey', 'secretKeyRef', 'secretKeySecret', 'secretToken', 'serverCertSecret', 'serverKeySecret',
  'serverSideCustomerKeySecret', 'serviceAccountKeySecret', 'sessionToken', 'sessionTokenSecret', 'sharedAccessKey',
  'sharedAccessKeyName', 'signingSecret', 'slackToken', 'smtpPassword', 'sshKeySecret', 'sshPrivateKeySecret',
  'tlsTrustCertsSecret', 'token', 'tokenURLSecret', 'urlSecret', 'userSecret', 'username', 'usernameSecret', 'webhookSecret',
]);

/**
 * Fields naming a whole Secret by `{name[, namespace]}` (`SecretEnvSource`, `SecretReference`,
 * a `LocalObjectReference` whose field says secret), one object or a list; same test.
 */
export const SECRET_OBJECT_FIELDS: ReadonlySet<string> = new Set([
  'controllerExpandSecretRef', 'controllerPublishSecretRef', 'imagePullSecrets', 'nodeExpandSecretRef',
  'nodePublishSecretRef', 'nodeStageSecretRef', 'secretRef',
]);

/** `secret` is a volume's `SecretVolumeSource` (`secretName`, `items[].key`) or a projection's `SecretProjection` (`name`, `items[].key`). */
const SECRET_VOLUME_FIELD = 'secret';

/**
 * Every Secret the YAML manifests under `dir` reference, at every position the upstream
 * schemas give a Secret: the selectors of SECRET_KEY_SELECTOR_FIELDS (env `secretKeyRef`,
 * HTTP template headers, Argo Events `authSecret`...), SECRET_OBJECT_FIELDS (`envFrom`,
 * `imagePullSecrets`, CSI...), volumes and projections (`secret`), and a ServiceAccount's
 * `secrets`. The namespace is the reference's own, else the referencing object's (default `swoop`).
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
      refs.push(...objectSecretReferences(obj, namespace).map((r) => ({ ...r, file: relative(dir, path) })));
    }
  }
  return refs;
}

/** The Secret references of one Kubernetes object (see secretReferences). */
export function objectSecretReferences(obj: Record<string, any>, namespace: string): Omit<SecretReference, 'file'>[] {
  const refs: Omit<SecretReference, 'file'>[] = [];
  const add = (name: unknown, key?: unknown, ns?: unknown) => {
    if (typeof name === 'string') refs.push({ namespace: typeof ns === 'string' ? ns : namespace, name, ...(typeof key === 'string' ? { key } : {}) });
  };
  const isObject = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);
  const itemKeys = (name: unknown, items: unknown) => {
    if (Array.isArray(items) && items.length > 0) items.forEach((i) => add(name, i?.key));
    else add(name);
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isObject(node)) return;
    for (const [field, value] of Object.entries(node)) {
      if (SECRET_KEY_SELECTOR_FIELDS.has(field) && isObject(value) && typeof value.name === 'string') add(value.name, value.key);
      else if (SECRET_OBJECT_FIELDS.has(field) && (isObject(value) || Array.isArray(value))) [value].flat().forEach((v) => add(v?.name, undefined, v?.namespace));
      else if (field === SECRET_VOLUME_FIELD && isObject(value) && (typeof value.secretName === 'string' || typeof value.name === 'string')) itemKeys(value.secretName ?? value.name, value.items);
      else visit(value);
    }
  };
  visit(obj);
  // A ServiceAccount's mountable secrets (core/v1 ServiceAccount.secrets: ObjectReferences).
  if (obj.kind === 'ServiceAccount' && Array.isArray(obj.secrets)) obj.secrets.forEach((s: any) => add(s?.name, undefined, s?.namespace));
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

/**
 * The Secrets the HTTP templates of the workflow manifests under `dir` put in headers
 * (`templates[].http.headers[].valueFrom.secretKeyRef`), sorted: the Argo agent running
 * those templates reads each through the API (`executeHTTPTemplateRequest` in Argo's
 * workflow/executor/agent.go: `GetSecrets`, a get by name) as the workflow's service account.
 */
export function httpTemplateSecrets(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const names = new Set<string>();
  for (const file of (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.ya?ml$/.test(f))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const obj = doc.toJSON() as Record<string, any> | null;
      const spec = obj?.kind === 'CronWorkflow' ? obj.spec?.workflowSpec : obj?.spec;
      if (!obj || !WORKFLOW_KINDS.has(obj.kind) || !Array.isArray(spec?.templates)) continue;
      for (const t of spec.templates) {
        for (const h of t?.http?.headers ?? []) if (typeof h?.valueFrom?.secretKeyRef?.name === 'string') names.add(h.valueFrom.secretKeyRef.name);
      }
    }
  }
  return [...names].sort();
}

const WORKFLOW_KINDS = new Set(['Workflow', 'WorkflowTemplate', 'ClusterWorkflowTemplate', 'CronWorkflow']);
