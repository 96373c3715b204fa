/**
 * The stack settings that reach the synthesized manifests: read here, with no Pulumi SDK, so
 * `npm run synth` can render `dist/<stack>/` from the committed `stacks/Pulumi.<stack>.yaml`
 * and `pulumi up` (stacks/config.ts) validates the same keys the same way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SQS_QUEUE_URL } from '../state/sqs-queue-url';

export const STACKS_DIR = join(__dirname);
export const PROJECT_FILE = join(__dirname, '..', 'Pulumi.yaml');

/** ConfigMap `swoop-platform` keys the Platform component always writes (docs/contracts.md). */
export const BUILT_IN_VALUE_KEYS = ['payload-store', 'state-url', 'lifecycle-url', 'task-token-queues'] as const;

/** SQS process queue and its dead-letter queue of a cluster (docs/contracts.md). */
export const processQueueName = (clusterName: string): string => `${clusterName}-process`;
export const deadLetterQueueName = (clusterName: string): string => `${clusterName}-process-dlq`;
export const defaultClusterName = (stack: string): string => `swoop-${stack}`;

/** What the config keys below accept, shown in errors (merged into stacks/config.ts CONFIG_KEYS). */
export const ENVIRONMENT_KEYS = {
  stateServiceImage: 'the state service image by digest, "<registry>/<repository>@sha256:<64 hex>" (built by .github/workflows/state-image.yml)',
  workflowValues: 'an object of ConfigMap swoop-platform keys (letters, digits, "-", "_", ".") to strings that workflows read with env.value(key); payload-store, state-url, lifecycle-url and task-token-queues are the platform\'s own',
  taskTokenQueues: 'a list of {url, kmsKeyArn?}: the SQS queues (https://sqs.<region>.amazonaws.com/<account>/<queue>) wait-for-callback steps send task tokens to (TaskTokenTarget.sqs); the state service may send to exactly those, and use kmsKeyArn (the queue\'s SSE-KMS key) to encrypt; `npm run synth` refuses a wait step whose queue is not listed; default none',
  dashboard: 'an object {ssoHeader, ssoProxy: {namespace, podLabels?}} and/or {alb: {host, certificateArn, oidc: {issuer, authorizationEndpoint, tokenEndpoint, userInfoEndpoint, clientId}, claim?}}: the header your SSO proxy (e.g. oauth2-proxy) sets to the signed-in user, believed by the state service\'s dashboard only on its SSO port, which only pods of ssoProxy may reach; or an internal ALB with OIDC sign-in whose signed user header the dashboard verifies (docs/dashboard.md); unset: reader token only',
} as const;

/** The workflow namespace, where the Argo UI shows runs (constructs/platform.ts SWOOP_NAMESPACE). */
const WORKFLOW_NAMESPACE = 'swoop';

/** Where operators open the Argo UI: https://<argoIngress.host>, or the port-forward URL of `kubectl -n argo port-forward` (infra/argo.ts). */
export function argoUiUrl(ingressHost: string | undefined): string {
  return ingressHost ? `https://${ingressHost}` : 'https://localhost:2746';
}

/** The dashboard's link to a run in that UI (DASHBOARD_ARGO_WORKFLOW_URL); the uid opens it from the archive once it is gone from the cluster. */
export const argoWorkflowUrl = (ingressHost: string | undefined): string => `${argoUiUrl(ingressHost)}/workflows/${WORKFLOW_NAMESPACE}/{name}?uid={uid}`;

/** The `dashboard` stack setting: who may send the SSO header to the state service. */
export interface DashboardSso {
  /** The header the proxy sets to the user, e.g. x-auth-request-email (with ssoProxy). */
  readonly ssoHeader?: string;
  /** The proxy's pods: the only ones the NetworkPolicy lets reach the SSO port. */
  readonly ssoProxy?: { readonly namespace: string; readonly podLabels?: Readonly<Record<string, string>> };
  /** An internal ALB with OIDC authentication in front of the dashboard (infra/dashboard-ingress.ts). */
  readonly alb?: DashboardAlb;
}

/** The dashboard's ALB: what the AWS Load Balancer Controller's OIDC annotations need, and what the state service checks. */
export interface DashboardAlb {
  /** DNS name users open the dashboard at (https://<host>/dashboard); the certificate must cover it. */
  readonly host: string;
  /** ACM certificate of the HTTPS listener, in the stack's account and region. */
  readonly certificateArn: string;
  /** The ALB's name, fixed (`<clusterName>-dashboard`) so its ARN is known up to the id AWS assigns. */
  readonly loadBalancerName: string;
  /** That ARN up to and including `loadbalancer/app/<name>/`: the signer the state service expects. */
  readonly signer: string;
  /** The user claim the dashboard shows (default email). */
  readonly claim: string;
  /** The IdP: issuer, endpoints and the client id (its secret is the Pulumi secret dashboardOidcClientSecret). */
  readonly oidc: { readonly issuer: string; readonly authorizationEndpoint: string; readonly tokenEndpoint: string; readonly userInfoEndpoint: string; readonly clientId: string };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const ACM_ARN = /^arn:(aws[a-z-]*):acm:([a-z0-9-]+):(\d{12}):certificate\/[0-9a-f-]{36}$/;
const HTTPS_URL = /^https:\/\/[^/?#\s]+(\/\S*)?$/;
const OIDC_FIELDS = ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'userInfoEndpoint', 'clientId'] as const;
/** The ALB's name: at most 32 letters, digits and dashes, not starting with "internal-" (its ARN's name part). */
export const dashboardLoadBalancerName = (clusterName: string): string => `${clusterName}-dashboard`;

/** The `alb` field of `dashboard`, or its problems (each `.alb.field: what is wrong`). */
function dashboardAlb(value: unknown, where: { region?: string; clusterName: string }): { value?: DashboardAlb; problems: string[] } {
  const shape = '.alb must be {host, certificateArn, oidc: {issuer, authorizationEndpoint, tokenEndpoint, userInfoEndpoint, clientId}, claim?}';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problems: [`${shape} (got ${JSON.stringify(value)})`] };
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(o)) if (!['host', 'certificateArn', 'oidc', 'claim'].includes(k)) problems.push(`.alb.${k} is not a known field; known: host, certificateArn, oidc, claim`);
  if (typeof o.host !== 'string' || !DNS_NAME.test(o.host)) problems.push(`.alb.host must be a DNS name such as "dashboard.example.com" (got ${JSON.stringify(o.host ?? null)})`);
  const cert = typeof o.certificateArn === 'string' ? ACM_ARN.exec(o.certificateArn) : null;
  if (!cert) problems.push(`.alb.certificateArn must be an ACM certificate ARN covering the host (got ${JSON.stringify(o.certificateArn ?? null)})`);
  else if (where.region !== undefined && cert[2] !== where.region) problems.push(`.alb.certificateArn is in ${cert[2]}, not the stack's region ${where.region}: an ALB uses a certificate of its own region`);
  const claim = o.claim ?? 'email';
  if (typeof claim !== 'string' || !/^[A-Za-z0-9_:.-]{1,64}$/.test(claim)) problems.push(`.alb.claim must be the user claim to show, such as email (got ${JSON.stringify(claim)})`);
  const oidc = o.oidc as Record<string, unknown> | undefined;
  if (typeof oidc !== 'object' || oidc === null || Array.isArray(oidc)) {
    problems.push(`.alb.oidc must be {issuer, authorizationEndpoint, tokenEndpoint, userInfoEndpoint, clientId}: your IdP's, with the client secret in \`pulumi config set --secret dashboardOidcClientSecret\` (got ${JSON.stringify(oidc ?? null)})`);
  } else {
    for (const k of Object.keys(oidc)) if (!(OIDC_FIELDS as readonly string[]).includes(k)) problems.push(`.alb.oidc.${k} is not a known field; known: ${OIDC_FIELDS.join(', ')}`);
    for (const k of OIDC_FIELDS.slice(0, 4)) if (typeof oidc[k] !== 'string' || !HTTPS_URL.test(oidc[k] as string)) problems.push(`.alb.oidc.${k} must be an https URL of your IdP (got ${JSON.stringify(oidc[k] ?? null)})`);
    if (typeof oidc.clientId !== 'string' || oidc.clientId.trim() === '') problems.push(`.alb.oidc.clientId must be the dashboard's OIDC client id (got ${JSON.stringify(oidc.clientId ?? null)})`);
  }
  const name = dashboardLoadBalancerName(where.clusterName);
  if (name.length > 32) problems.push(`.alb needs a load balancer name of at most 32 characters, and ${name} (<clusterName>-dashboard) is longer; shorten clusterName`);
  if (problems.length > 0 || !cert) return { problems };
  return {
    value: {
      host: o.host as string,
      certificateArn: o.certificateArn as string,
      loadBalancerName: name,
      // The ALB is in the certificate's partition, account and region (an ALB uses a certificate of its own).
      signer: `arn:${cert[1]}:elasticloadbalancing:${cert[2]}:${cert[3]}:loadbalancer/app/${name}/`,
      claim: claim as string,
      oidc: Object.fromEntries(OIDC_FIELDS.map((k) => [k, (oidc as Record<string, string>)[k]])) as unknown as DashboardAlb['oidc'],
    },
    problems,
  };
}

/** The `dashboard` setting, or its problems (each `.field: what is wrong`). */
export function dashboardSso(value: unknown, where: { region?: string; clusterName: string }): { value?: DashboardSso; problems: string[] } {
  if (value === undefined) return { problems: [] };
  const shape = ` must be ${ENVIRONMENT_KEYS.dashboard} (got ${JSON.stringify(value)})`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problems: [shape] };
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(o)) if (!['ssoHeader', 'ssoProxy', 'alb'].includes(k)) problems.push(`.${k} is not a known field; known: ssoHeader, ssoProxy, alb`);
  if (o.ssoHeader === undefined && o.ssoProxy === undefined && o.alb === undefined) return { problems: [shape] };
  const alb = o.alb === undefined ? undefined : dashboardAlb(o.alb, where);
  problems.push(...(alb?.problems ?? []));
  let proxyValue: Pick<DashboardSso, 'ssoHeader' | 'ssoProxy'> = {};
  if (o.ssoHeader !== undefined || o.ssoProxy !== undefined) {
    const header = o.ssoHeader;
    if (typeof header !== 'string' || !/^[A-Za-z0-9-]+$/.test(header) || /^(authorization|cookie|host)$/i.test(header)) {
      problems.push(`.ssoHeader must be the header your SSO proxy sets to the user, such as x-auth-request-email (got ${JSON.stringify(header ?? null)})`);
    }
    const proxy = o.ssoProxy as Record<string, unknown> | undefined;
    if (typeof proxy !== 'object' || proxy === null || Array.isArray(proxy)) {
      problems.push(`.ssoProxy must be {namespace, podLabels?}: the proxy's pods, the only ones allowed to reach the SSO port (got ${JSON.stringify(proxy ?? null)})`);
      return { problems };
    }
    for (const k of Object.keys(proxy)) if (!['namespace', 'podLabels'].includes(k)) problems.push(`.ssoProxy.${k} is not a known field; known: namespace, podLabels`);
    if (typeof proxy.namespace !== 'string' || !DNS_LABEL.test(proxy.namespace)) problems.push(`.ssoProxy.namespace must be a namespace name (got ${JSON.stringify(proxy.namespace ?? null)})`);
    const labels = proxy.podLabels;
    if (labels !== undefined && (typeof labels !== 'object' || labels === null || Array.isArray(labels)
      || Object.entries(labels).some(([k, v]) => !LABEL_KEY.test(k) || typeof v !== 'string' || !LABEL_VALUE.test(v)))) {
      problems.push(`.ssoProxy.podLabels must be an object of Kubernetes label keys to values (got ${JSON.stringify(labels)})`);
    }
    proxyValue = { ssoHeader: header as string, ssoProxy: { namespace: proxy.namespace as string, ...(labels ? { podLabels: labels as Record<string, string> } : {}) } };
  }
  if (problems.length > 0) return { problems };
  return { value: { ...proxyValue, ...(alb?.value ? { alb: alb.value } : {}) }, problems };
}

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

/** A queue wait-for-callback steps send task tokens to (stack setting taskTokenQueues). */
export interface TaskTokenQueue {
  readonly url: string;
  /** The queue's SSE-KMS key; none for an unencrypted or SSE-SQS queue. */
  readonly kmsKeyArn?: string;
}

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{1,64}$/;

/**
 * `taskTokenQueues`, each problem reported as `<path> <what>` (the caller prefixes the key):
 * read here for `npm run synth` (which checks wait steps' queues against it) and by
 * stacks/config.ts for `pulumi up` (the state service's grants), so both accept the same lists.
 */
export function readTaskTokenQueues(value: unknown, fail: (msg: string) => void): TaskTokenQueue[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    fail(` must be ${ENVIRONMENT_KEYS.taskTokenQueues} (got ${JSON.stringify(value)})`);
    return [];
  }
  const out: TaskTokenQueue[] = [];
  value.forEach((q: unknown, i) => {
    const at = `[${i}]`;
    if (!q || typeof q !== 'object' || Array.isArray(q)) return fail(`${at} must be an object {url, kmsKeyArn?} (got ${JSON.stringify(q)})`);
    const { url, kmsKeyArn, ...rest } = q as Record<string, unknown>;
    for (const k of Object.keys(rest)) fail(`${at}.${k} is not a known field; known: url, kmsKeyArn`);
    if (typeof url !== 'string' || !SQS_QUEUE_URL.test(url)) return fail(`${at}.url must be an SQS queue URL https://sqs.<region>.amazonaws.com/<account>/<queue> (got ${JSON.stringify(url ?? null)})`);
    if (out.some((o) => o.url === url)) return fail(`${at}.url ${url} is listed twice`);
    if (kmsKeyArn !== undefined && (typeof kmsKeyArn !== 'string' || !KMS_KEY_ARN.test(kmsKeyArn))) return fail(`${at}.kmsKeyArn must be a KMS key ARN arn:aws:kms:<region>:<account>:key/<id> (got ${JSON.stringify(kmsKeyArn)})`);
    out.push({ url, ...(kmsKeyArn ? { kmsKeyArn: kmsKeyArn as string } : {}) });
  });
  return out;
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
  /** The SQS queues the state service may send task tokens to; a wait step's queue must be one of them. */
  readonly taskTokenQueues: readonly TaskTokenQueue[];
  /** The state service's dashboard: its Argo UI link (from argoIngress) and, when set, the SSO proxy's header and the ALB's sign-in. */
  readonly dashboard: { readonly argoWorkflowUrl: string; readonly sso?: DashboardSso };
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
  // The Argo UI host (stacks/config.ts checks the rest of argoIngress for pulumi up).
  const ingress = config[`${project}:argoIngress`] as { host?: unknown } | undefined;
  const host = ingress?.host;
  if (ingress !== undefined && (typeof host !== 'string' || !DNS_NAME.test(host))) {
    errors.push(`${project}:argoIngress.host must be a DNS name such as "argo.example.com" (got ${JSON.stringify(host ?? null)})`);
  }
  const sso = dashboardSso(config[`${project}:dashboard`], { region: typeof region === 'string' ? region : undefined, clusterName });
  errors.push(...sso.problems.map((p) => `${project}:dashboard${p}`));
  const taskTokenQueues = readTaskTokenQueues(config[`${project}:taskTokenQueues`], (msg) => errors.push(`${project}:taskTokenQueues${msg}`));
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
    taskTokenQueues,
    dashboard: { argoWorkflowUrl: argoWorkflowUrl(host as string | undefined), ...(sso.value ? { sso: sso.value } : {}) },
  };
}

/** Every stack of `dir` with its environment. */
export function loadEnvironments(dir = STACKS_DIR): Environment[] {
  const project = projectName();
  return stackNames(dir).map((stack) => loadEnvironment(stack, dir, project));
}
