import { COMPUTE_CLASSES, type ComputeClassName } from '../constructs/compute-classes';
import { EKS_ADDONS, SUPPORTED_KUBERNETES_VERSIONS, type EksAddon, type KubernetesVersion } from '../infra/cluster';
import { SUPPORTED_POSTGRES_VERSIONS, type PostgresVersion } from '../infra/state-database';
import type { ArgoServerAuthMode } from '../infra/argo';
import { ssoGroupProblem } from '../infra/argo-sso-rbac';
import type { ManifestDelivery } from '../infra/platform';
import { type DashboardSso, dashboardSso, ENVIRONMENT_KEYS, isExampleDigest, readTaskTokenQueues, stateServiceImageProblem, type TaskTokenQueue, workflowValuesProblems } from './environment';

/** Retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Everything a stack may set, typed; produced only by `loadStackConfig`. */
export interface StackConfig {
  readonly environment: 'dev' | 'prod';
  readonly clusterName: string;
  readonly kubernetesVersion: KubernetesVersion;
  readonly vpcCidr: string;
  readonly natGateways: 'single' | 'perAz';
  /** Empty: private API endpoint only. */
  readonly apiAccessCidrs: string[];
  readonly adminPrincipalArns: string[];
  readonly computeClasses: ComputeClassName[];
  readonly database: {
    readonly instanceClass: string;
    readonly allocatedStorageGiB: number;
    readonly postgresVersion: PostgresVersion;
    readonly backupRetentionDays: number;
    readonly multiAz: boolean;
    readonly deletionProtection: boolean;
  };
  readonly artifacts: { readonly bucketName?: string; readonly intermediateExpiryDays: number; readonly forceDestroy: boolean };
  readonly argoServerAuthModes: ArgoServerAuthMode[];
  readonly argoSso?: {
    readonly issuer: string; readonly clientId: string; readonly clientSecret: string; readonly redirectUrl: string;
    readonly adminGroups: string[]; readonly readOnlyGroups: string[];
  };
  /** Internal ALB in front of the Argo server; undefined: reach it with kubectl port-forward. */
  readonly argoIngress?: { readonly host: string; readonly certificateArn: string; readonly inboundCidrs?: string[] };
  /** From `manifestDelivery` and `gitops`. */
  readonly delivery: ManifestDelivery;
  /** From `eventBus`: the Argo component's EventBus, or false when dist/ brings it. */
  readonly eventBus: { readonly replicas: number } | false;
  readonly logRetentionDays: number;
  readonly keyDeletionWindowDays: number;
  /** The process queue (`<clusterName>-process`): SNS topic in front of it, receives before dead-lettering. */
  readonly ingress: { readonly topic: boolean; readonly maxReceiveCount: number };
  /** The `addonVersion` of every EKS add-on, pinned per stack. */
  readonly addonVersions: Record<EksAddon, string>;
  /** SNS topic the platform's alarms notify (on alarm and recovery); undefined: alarm state only. */
  readonly alarmTopicArn?: string;
  /** The cluster has the Prometheus operator: deliver the state service's ServiceMonitor and PrometheusRule (docs/metrics.md). */
  readonly prometheusOperator: boolean;
  /** Buckets workflow pods read and write besides the artifact bucket (the workflow role's only other grants). */
  readonly dataBuckets: { readonly read: string[]; readonly write: { readonly name: string; readonly create: boolean; readonly publicRead: boolean }[] };
  /** Secrets the manifests reference that the stack does not generate: name -> key -> value. */
  readonly workloadSecrets: Record<string, Record<string, string>>;
  /** SQS queues wait-for-callback steps send task tokens to (the state service's TASK_TOKEN_QUEUES), with their SSE-KMS key if any. */
  readonly taskTokenQueues: readonly TaskTokenQueue[];
  /** Pulumi `protect` on the bucket and database: true in prod. */
  readonly protectData: boolean;
  /** The state service image by digest; `dist/<stack>/state-service.yaml` must run exactly it. */
  readonly stateServiceImage: string;
  /** Extra keys of ConfigMap swoop-platform that workflows read (stacks/environment.ts). */
  readonly workflowValues: Readonly<Record<string, string>>;
  /** From `dashboard`: the SSO proxy whose header the state service's dashboard believes, on a port only its pods may reach. */
  readonly dashboardSso?: DashboardSso;
  /** The OIDC client secret of dashboard.alb (a Pulumi secret), written to the Secret the ALB reads. */
  readonly dashboardOidcClientSecret?: string;
  /** From `deployManifests`: false creates the infrastructure only (the first `pulumi up`). */
  readonly deployManifests: boolean;
}

/** Config keys of this project, with what each accepts (shown in errors). */
export const CONFIG_KEYS = {
  environment: '"dev" or "prod"',
  clusterName: 'lowercase letters, digits and dashes, starting with a letter (default swoop-<stack>)',
  kubernetesVersion: SUPPORTED_KUBERNETES_VERSIONS.map((v) => `"${v}"`).join(', '),
  vpcCidr: 'an IPv4 /16 such as "10.20.0.0/16"',
  natGateways: '"single" or "perAz" (default: single in dev, perAz in prod)',
  apiAccessCidrs: 'a list of IPv4 CIDRs allowed to reach the public API endpoint; [] keeps it private (0.0.0.0/0 refused)',
  adminPrincipalArns: 'a non-empty list of IAM role/user ARNs given cluster-admin (include the identity running pulumi)',
  computeClasses: `a list of ${Object.keys(COMPUTE_CLASSES).map((c) => `"${c}"`).join(', ')} including "system" (default all)`,
  database: 'an object {instanceClass, allocatedStorageGiB, postgresVersion, backupRetentionDays, multiAz, deletionProtection}',
  artifacts: 'an object {bucketName?, intermediateExpiryDays, forceDestroy}',
  argoServerAuthModes: 'a non-empty list of "client", "sso" ("server" is refused)',
  argoSso: 'an object {issuer, clientId, redirectUrl, adminGroups, readOnlyGroups} (required with the "sso" auth mode): OIDC groups mapped to the admin and read-only Argo accounts',
  argoIngress: 'an object {host, certificateArn, inboundCidrs?}: an internal ALB for the Argo server at https://<host> with that ACM certificate, accepting inboundCidrs (default the VPC); unset: reach it with kubectl port-forward',
  argoSsoClientSecret: 'the OIDC client secret, set with `pulumi config set --secret`',
  dashboardOidcClientSecret: 'the OIDC client secret of dashboard.alb, set with `pulumi config set --secret`',
  manifestDelivery: '"pulumi" or "gitops"',
  gitops: 'an object {repoUrl, revision, path} (required with manifestDelivery gitops)',
  eventBus: '"manifests" (dist/ brings the EventBus, the default) or "infra" (the Argo component creates it)',
  logRetentionDays: `days of EKS control plane logs, one of CloudWatch's ${LOG_RETENTION_DAYS.join(', ')} (default: 30 in dev, 365 in prod)`,
  keyDeletionWindowDays: 'days before a deleted KMS key is destroyed, 7 to 30 (default: 7 in dev, 30 in prod)',
  ingress: 'an object {topic, maxReceiveCount}: an SNS topic <clusterName>-process in front of the queue (default false), receives before a payload is dead-lettered, 1 to 1000 (default 5)',
  addonVersions: `an object pinning every EKS add-on's version, {${EKS_ADDONS.map((a) => `"${a}"`).join(', ')}}, each like "v1.20.4-eksbuild.1" (list them with \`aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>\`)`,
  alarmTopicArn: 'the ARN of an SNS topic (yours, e.g. wired to on-call) that CloudWatch alarms notify; unset: alarms only change state',
  prometheusOperator: 'true when the cluster runs the Prometheus operator (its monitoring.coreos.com CRDs installed), so dist/<stack>/state-monitoring.yaml (the state service\'s ServiceMonitor and alert rules) is delivered; default false',
  dataBuckets: 'an object {read: [bucket names], write: [{name, create, publicRead}]}: buckets workflows read, and write (create: the stack makes it; publicRead: anyone may read its objects, only with create)',
  deployManifests: 'true (default) or false: false creates the infrastructure without deploying dist/<stack>/, for the first `pulumi up` before the state service image exists',
  workloadSecrets: 'an object {<Secret name>: {<key>: <value>}} of the Secrets the manifests reference that the stack does not create; set each value with `pulumi config set --secret --path \'workloadSecrets.<name>.<key>\' <value>`',
  ...ENVIRONMENT_KEYS,
} as const;

type Key = keyof typeof CONFIG_KEYS;

/** Keys earlier versions accepted, with where their setting lives now. */
const REMOVED_KEYS: Record<string, string> = {
  stateImage: 'the state service image is the stateServiceImage setting (an image by digest), rendered into dist/<stack>/state-service.yaml by `npm run synth`: rename the key',
};

/**
 * Reads and validates the project's config (the `<project>:<key>` entries of a stack), before
 * any resource is declared. Every problem is reported at once, each naming the key and what it
 * accepts. Unknown keys are errors, so a typo cannot silently fall back to a default.
 */
export function loadStackConfig(all: Record<string, string>, project: string, stack: string): StackConfig {
  const errors: string[] = [];
  const raw = new Map<string, string>();
  for (const [fullKey, value] of Object.entries(all)) {
    const [ns, key] = splitKey(fullKey);
    if (ns !== project) continue;
    if (key in REMOVED_KEYS) {
      errors.push(`${project}:${key} is no longer a setting: ${REMOVED_KEYS[key]}`);
    } else if (!(key in CONFIG_KEYS)) {
      errors.push(`${project}:${key} is not a known key; known keys: ${Object.keys(CONFIG_KEYS).join(', ')}`);
    } else raw.set(key, value);
  }
  const fail = (key: Key, got: unknown, why?: string) => {
    errors.push(`${project}:${key} must be ${why ?? CONFIG_KEYS[key]} (got ${JSON.stringify(got)})`);
  };
  const json = (key: Key): unknown => {
    const value = raw.get(key);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value);
    } catch {
      return value; // plain strings are stored unquoted
    }
  };
  const str = (key: Key): string | undefined => raw.get(key);
  const oneOf = <T extends string>(key: Key, allowed: readonly T[], fallback?: T): T => {
    const value = str(key) ?? fallback;
    if (value === undefined || !allowed.includes(value as T)) {
      fail(key, value ?? null);
      return allowed[0];
    }
    return value as T;
  };
  const list = (key: Key, fallback: string[], check: (item: string) => boolean, nonEmpty = false): string[] => {
    const value = json(key) ?? fallback;
    if (!Array.isArray(value) || (nonEmpty && value.length === 0) || !value.every((v) => typeof v === 'string' && check(v))) {
      fail(key, value);
      return fallback;
    }
    return value as string[];
  };
  const object = (key: Key): Record<string, unknown> | undefined => {
    const value = json(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail(key, value);
      return undefined;
    }
    return value as Record<string, unknown>;
  };
  const field = <T>(key: Key, obj: Record<string, unknown> | undefined, name: string, fallback: T | undefined, ok: (v: unknown) => boolean, what: string): T => {
    const value = obj?.[name] ?? fallback;
    if (value === undefined || !ok(value)) {
      errors.push(`${project}:${key}.${name} must be ${what} (got ${JSON.stringify(value ?? null)})`);
      return fallback as T;
    }
    return value as T;
  };

  const environment = oneOf('environment', ['dev', 'prod'] as const);
  const prod = environment === 'prod';
  const clusterName = str('clusterName') ?? `swoop-${stack}`;
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(clusterName)) fail('clusterName', clusterName);
  const vpcCidr = str('vpcCidr') ?? '10.20.0.0/16';
  if (!/^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.test(vpcCidr)) fail('vpcCidr', vpcCidr);
  const cidr = (v: string) => /^\d{1,3}(\.\d{1,3}){3}\/(\d|[12]\d|3[0-2])$/.test(v) && v !== '0.0.0.0/0';
  const iamArn = (v: string) => /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/.test(v);
  const adminPrincipalArns = list('adminPrincipalArns', [], iamArn, true);
  const computeClasses = list('computeClasses', Object.keys(COMPUTE_CLASSES), (c) => c in COMPUTE_CLASSES) as ComputeClassName[];
  if (!computeClasses.includes('system')) fail('computeClasses', computeClasses);

  const dbObj = object('database');
  const posInt = (min: number, max: number) => (v: unknown) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  const bool = (v: unknown) => typeof v === 'boolean';
  const database = {
    instanceClass: field<string>('database', dbObj, 'instanceClass', 'db.t4g.medium', (v) => typeof v === 'string' && /^db\.[a-z0-9]+\.[a-z0-9]+$/.test(v), 'an RDS instance class such as "db.t4g.medium"'),
    allocatedStorageGiB: field<number>('database', dbObj, 'allocatedStorageGiB', 20, posInt(20, 65536), 'a whole number of GiB from 20 to 65536'),
    postgresVersion: field<PostgresVersion>('database', dbObj, 'postgresVersion', '17', (v) => (SUPPORTED_POSTGRES_VERSIONS as readonly unknown[]).includes(v), `one of ${SUPPORTED_POSTGRES_VERSIONS.map((v) => `"${v}"`).join(', ')}`),
    backupRetentionDays: field<number>('database', dbObj, 'backupRetentionDays', prod ? 14 : 7, posInt(7, 35), 'a whole number of days from 7 to 35'),
    multiAz: field<boolean>('database', dbObj, 'multiAz', prod, (v) => bool(v) && (!prod || v === true), prod ? 'true in prod' : 'true or false'),
    deletionProtection: field<boolean>('database', dbObj, 'deletionProtection', prod, (v) => bool(v) && (!prod || v === true), prod ? 'true in prod' : 'true or false'),
  };
  for (const k of Object.keys(dbObj ?? {})) if (!(k in database)) errors.push(`${project}:database.${k} is not a known field; known: ${Object.keys(database).join(', ')}`);

  const artObj = object('artifacts');
  const bucketName = artObj?.bucketName;
  if (bucketName !== undefined && !(typeof bucketName === 'string' && /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucketName))) {
    errors.push(`${project}:artifacts.bucketName must be a valid S3 bucket name (got ${JSON.stringify(bucketName)})`);
  }
  const artifacts = {
    ...(typeof bucketName === 'string' ? { bucketName } : {}),
    intermediateExpiryDays: field<number>('artifacts', artObj, 'intermediateExpiryDays', prod ? 30 : 7, posInt(1, 3650), 'a whole number of days from 1 to 3650'),
    forceDestroy: field<boolean>('artifacts', artObj, 'forceDestroy', false, (v) => bool(v) && (!prod || v === false), prod ? 'false in prod' : 'true or false'),
  };
  for (const k of Object.keys(artObj ?? {})) {
    if (!['bucketName', 'intermediateExpiryDays', 'forceDestroy'].includes(k)) errors.push(`${project}:artifacts.${k} is not a known field; known: bucketName, intermediateExpiryDays, forceDestroy`);
  }

  const argoServerAuthModes = list('argoServerAuthModes', ['client'], (m) => m === 'client' || m === 'sso', true) as ArgoServerAuthMode[];
  const ssoObj = object('argoSso');
  let argoSso: StackConfig['argoSso'];
  if (argoServerAuthModes.includes('sso')) {
    const text = (v: unknown) => typeof v === 'string' && v.length > 0;
    const https = (v: unknown) => typeof v === 'string' && v.startsWith('https://');
    argoSso = {
      issuer: field<string>('argoSso', ssoObj, 'issuer', undefined, https, 'an https:// OIDC issuer URL'),
      clientId: field<string>('argoSso', ssoObj, 'clientId', undefined, text, 'the OIDC client id'),
      redirectUrl: field<string>('argoSso', ssoObj, 'redirectUrl', undefined, https, 'https://<argo host>/oauth2/callback'),
      clientSecret: str('argoSsoClientSecret') ?? '',
      adminGroups: field<string[]>('argoSso', ssoObj, 'adminGroups', undefined, groupList(true), 'a non-empty list of OIDC group names (no control characters) whose members administer workflows'),
      readOnlyGroups: field<string[]>('argoSso', ssoObj, 'readOnlyGroups', [], groupList(false), 'a list of OIDC group names (no control characters) whose members may only look'),
    };
    if (!argoSso.clientSecret) fail('argoSsoClientSecret', null);
    for (const k of Object.keys(ssoObj ?? {})) {
      if (!['issuer', 'clientId', 'redirectUrl', 'adminGroups', 'readOnlyGroups'].includes(k)) errors.push(`${project}:argoSso.${k} is not a known field; known: issuer, clientId, redirectUrl, adminGroups, readOnlyGroups`);
    }
  } else if (ssoObj) {
    errors.push(`${project}:argoSso is set but argoServerAuthModes does not include "sso"`);
  }

  const ingObj = object('argoIngress');
  let argoIngress: StackConfig['argoIngress'];
  if (ingObj) {
    const host = field<string>('argoIngress', ingObj, 'host', undefined, (v) => typeof v === 'string' && /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/.test(v), 'a DNS name such as "argo.example.com"');
    const certificateArn = field<string>('argoIngress', ingObj, 'certificateArn', undefined, (v) => typeof v === 'string' && /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/.test(v), 'an ACM certificate ARN covering the host');
    const inboundCidrs = ingObj.inboundCidrs === undefined ? undefined
      : field<string[]>('argoIngress', ingObj, 'inboundCidrs', undefined, (v) => Array.isArray(v) && v.length > 0 && v.every((c) => typeof c === 'string' && cidr(c)), 'a non-empty list of IPv4 CIDRs (0.0.0.0/0 refused)');
    for (const k of Object.keys(ingObj)) if (!['host', 'certificateArn', 'inboundCidrs'].includes(k)) errors.push(`${project}:argoIngress.${k} is not a known field; known: host, certificateArn, inboundCidrs`);
    argoIngress = { host, certificateArn, ...(inboundCidrs ? { inboundCidrs } : {}) };
    // The IdP sends the browser back to the redirect URL: it must be this ingress.
    if (argoSso && host && argoSso.redirectUrl && argoSso.redirectUrl !== `https://${host}/oauth2/callback`) {
      errors.push(`${project}:argoSso.redirectUrl must be https://${host}/oauth2/callback, the Argo ingress host (got ${JSON.stringify(argoSso.redirectUrl)})`);
    }
  }

  const manifestDelivery = oneOf('manifestDelivery', ['pulumi', 'gitops'] as const, 'pulumi');
  const gitObj = object('gitops');
  // npm run synth writes this stack's manifests to dist/<stack>/ (stacks/environment.ts).
  const manifests = `dist/${stack}`;
  let delivery: ManifestDelivery = { mode: 'pulumi', manifestsDir: manifests };
  if (manifestDelivery === 'gitops') {
    const text = (v: unknown) => typeof v === 'string' && v.length > 0;
    delivery = {
      mode: 'gitops',
      repoUrl: field<string>('gitops', gitObj, 'repoUrl', undefined, (v) => typeof v === 'string' && /^(https:\/\/|git@|ssh:\/\/)/.test(v), 'the Git URL of this repository (https://, ssh:// or git@)'),
      revision: field<string>('gitops', gitObj, 'revision', 'main', text, 'a branch, tag or commit'),
      path: field<string>('gitops', gitObj, 'path', manifests, (v) => v === manifests, `"${manifests}", the folder \`npm run synth\` writes for this stack`),
    };
  }
  const number = (key: Key, fallback: number, ok: (n: number) => boolean): number => {
    const value = json(key) ?? fallback;
    if (typeof value !== 'number' || !ok(value)) {
      fail(key, value);
      return fallback;
    }
    return value;
  };

  const ingressObj = object('ingress');
  const ingress = {
    topic: field<boolean>('ingress', ingressObj, 'topic', false, bool, 'true or false'),
    maxReceiveCount: field<number>('ingress', ingressObj, 'maxReceiveCount', 5, posInt(1, 1000), 'a whole number from 1 to 1000'),
  };
  for (const k of Object.keys(ingressObj ?? {})) if (!(k in ingress)) errors.push(`${project}:ingress.${k} is not a known field; known: ${Object.keys(ingress).join(', ')}`);
  const image = str('stateServiceImage');
  const imageProblem = stateServiceImageProblem(image);
  if (imageProblem) errors.push(`${project}:stateServiceImage ${imageProblem}`);
  const deployManifests = json('deployManifests') ?? true;
  if (typeof deployManifests !== 'boolean') fail('deployManifests', deployManifests);
  // The stack files are committed with an example digest: deploying it would run nothing.
  if (!imageProblem && image && deployManifests === true && isExampleDigest(image)) {
    errors.push(`${project}:stateServiceImage is the example digest the stack file is committed with (${image.split('@')[1]}), not a build: push the image and set it with \`pulumi config set stateServiceImage <repository>@sha256:<digest>\`, then \`npm run synth\` (README runbook, step 3); for the first \`pulumi up\`, before the image exists, set deployManifests to false`);
  }
  const sso = dashboardSso(json('dashboard'), { region: all['aws:region'], clusterName });
  const dashboardOidcClientSecret = str('dashboardOidcClientSecret');
  if (sso.value?.alb && !dashboardOidcClientSecret) errors.push(`${project}:dashboardOidcClientSecret must be set with \`pulumi config set --secret dashboardOidcClientSecret <secret>\`: the OIDC client secret the dashboard's ALB signs users in with (dashboard.alb)`);
  errors.push(...sso.problems.map((p) => `${project}:dashboard${p}`));
  const values = json('workflowValues');
  for (const problem of workflowValuesProblems(values)) errors.push(`${project}:workflowValues${problem.startsWith('.') ? '' : ' '}${problem}`);

  const addonObj = object('addonVersions');
  if (!addonObj) fail('addonVersions', null);
  const addonVersions = Object.fromEntries(EKS_ADDONS.map((a) => [a, addonObj
    ? field<string>('addonVersions', addonObj, a, undefined, (v) => typeof v === 'string' && /^v\d+\.\d+\.\d+-eksbuild\.\d+$/.test(v), 'an EKS add-on version such as "v1.20.4-eksbuild.1"')
    : ''])) as Record<EksAddon, string>;
  for (const k of Object.keys(addonObj ?? {})) if (!(EKS_ADDONS as readonly string[]).includes(k)) errors.push(`${project}:addonVersions.${k} is not an add-on the stack installs; known: ${EKS_ADDONS.join(', ')}`);
  const alarmTopicArn = str('alarmTopicArn');
  if (alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(alarmTopicArn)) fail('alarmTopicArn', alarmTopicArn);
  const prometheusOperator = json('prometheusOperator') ?? false;
  if (typeof prometheusOperator !== 'boolean') fail('prometheusOperator', prometheusOperator);
  const dataBuckets = readDataBuckets(object('dataBuckets'), (msg) => errors.push(`${project}:dataBuckets${msg}`));
  const workloadSecrets: Record<string, Record<string, string>> = {};
  for (const [secret, keys] of Object.entries(object('workloadSecrets') ?? {})) {
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(secret)) errors.push(`${project}:workloadSecrets.${secret} is not a valid Secret name`);
    else if (!keys || typeof keys !== 'object' || Array.isArray(keys) || !Object.entries(keys).every(([k, v]) => /^[-._a-zA-Z0-9]+$/.test(k) && typeof v === 'string' && v.length > 0)) {
      errors.push(`${project}:workloadSecrets.${secret} must be an object of Secret keys to non-empty strings`);
    } else workloadSecrets[secret] = keys as Record<string, string>;
  }

  const taskTokenQueues = readTaskTokenQueues(json('taskTokenQueues'), (msg) => errors.push(`${project}:taskTokenQueues${msg}`));

  const config: StackConfig = {
    environment,
    clusterName,
    kubernetesVersion: oneOf('kubernetesVersion', SUPPORTED_KUBERNETES_VERSIONS, '1.35'),
    vpcCidr,
    natGateways: oneOf('natGateways', ['single', 'perAz'] as const, prod ? 'perAz' : 'single'),
    apiAccessCidrs: list('apiAccessCidrs', [], cidr),
    adminPrincipalArns,
    computeClasses,
    database,
    artifacts,
    argoServerAuthModes,
    argoSso,
    ...(argoIngress ? { argoIngress } : {}),
    delivery,
    eventBus: oneOf('eventBus', ['manifests', 'infra'] as const, 'manifests') === 'infra' && { replicas: 3 },
    logRetentionDays: number('logRetentionDays', prod ? 365 : 30, (n) => LOG_RETENTION_DAYS.includes(n)),
    keyDeletionWindowDays: number('keyDeletionWindowDays', prod ? 30 : 7, (n) => Number.isInteger(n) && n >= 7 && n <= 30),
    protectData: prod,
    ingress,
    addonVersions,
    ...(alarmTopicArn ? { alarmTopicArn } : {}),
    prometheusOperator: prometheusOperator === true,
    dataBuckets,
    workloadSecrets,
    taskTokenQueues,
    stateServiceImage: image ?? '',
    ...(sso.value ? { dashboardSso: sso.value } : {}),
    ...(sso.value?.alb && dashboardOidcClientSecret ? { dashboardOidcClientSecret } : {}),
    workflowValues: (values ?? {}) as Record<string, string>,
    deployManifests: deployManifests !== false,
  };
  if (errors.length > 0) {
    throw new Error(`invalid configuration for stack "${stack}":\n  - ${errors.join('\n  - ')}`);
  }
  return config;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `dataBuckets`, each problem reported as `<path> <what>` (the caller prefixes the key). */
function readDataBuckets(obj: Record<string, unknown> | undefined, fail: (msg: string) => void): StackConfig['dataBuckets'] {
  const out: StackConfig['dataBuckets'] = { read: [], write: [] };
  for (const k of Object.keys(obj ?? {})) if (k !== 'read' && k !== 'write') fail(`.${k} is not a known field; known: read, write`);
  const read = obj?.read ?? [];
  if (!Array.isArray(read)) fail(`.read must be a list of bucket names (got ${JSON.stringify(read)})`);
  else read.forEach((b, i) => (typeof b === 'string' && BUCKET_NAME.test(b) ? out.read.push(b) : fail(`.read[${i}] must be a valid S3 bucket name (got ${JSON.stringify(b)})`)));
  const write = obj?.write ?? [];
  if (!Array.isArray(write)) fail(`.write must be a list of {name, create, publicRead} (got ${JSON.stringify(write)})`);
  else write.forEach((w, i) => {
    const at = `.write[${i}]`;
    if (!w || typeof w !== 'object' || Array.isArray(w)) return fail(`${at} must be an object {name, create, publicRead} (got ${JSON.stringify(w)})`);
    const { name, create = false, publicRead = false, ...rest } = w as Record<string, unknown>;
    for (const k of Object.keys(rest)) fail(`${at}.${k} is not a known field; known: name, create, publicRead`);
    if (typeof name !== 'string' || !BUCKET_NAME.test(name)) return fail(`${at}.name must be a valid S3 bucket name (got ${JSON.stringify(name ?? null)})`);
    if (typeof create !== 'boolean') return fail(`${at}.create must be true or false (got ${JSON.stringify(create)})`);
    if (typeof publicRead !== 'boolean') return fail(`${at}.publicRead must be true or false (got ${JSON.stringify(publicRead)})`);
    if (publicRead && !create) return fail(`${at}.publicRead needs create: true (public access is set only on buckets the stack creates)`);
    if (out.read.includes(name)) return fail(`${at}.name "${name}" is also in read; list it once, under write (write includes read)`);
    if (out.write.some((x) => x.name === name)) return fail(`${at}.name "${name}" is listed twice`);
    out.write.push({ name, create, publicRead });
  });
  return out;
}

/** A list of SSO group names (see ssoGroupProblem), non-empty when `required`. */
function groupList(required: boolean): (v: unknown) => boolean {
  return (v) => Array.isArray(v) && (!required || v.length > 0) && v.every((g) => ssoGroupProblem(g) === undefined);
}

function splitKey(fullKey: string): [string, string] {
  const i = fullKey.indexOf(':');
  return i < 0 ? ['', fullKey] : [fullKey.slice(0, i), fullKey.slice(i + 1)];
}
