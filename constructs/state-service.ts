/**
 * The state service on Kubernetes: a Deployment (2+ replicas, spread over nodes of the
 * system pool, probes on /healthz and /readyz), its Service `swoop-state:8080` (and
 * `:9464`, port `metrics`, for Prometheus: constructs/state-monitoring.ts), a
 * PodDisruptionBudget keeping one replica up through node drains, and the migration Job.
 * Secrets are referenced, never created: infra owns `swoop-state-db` (the service's own
 * role), `swoop-state-db-owner` (the schema owner, for the migration Job only),
 * `swoop-state-tokens`, `swoop-lifecycle-token` and `swoop-state-argo-token` (contracts.md).
 * The pods run as service account `swoop-state`, whose Role allows `create` on `workflows`
 * in the service's namespace and nothing else: POST /submit claims a payload, then creates
 * its Workflow (docs/state.md, "Submissions"). Its OGC process list (STATE_PROCESSES) is the
 * app's workflows, found at synth time: creating a Workflow is all it takes to be listed.
 */
import { createHash } from 'node:crypto';
import { ApiObject, Chart, type ChartProps, Duration, JsonPatch, Lazy, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { COMPUTE_CLASS_LABEL, COMPUTE_CLASSES } from './compute-classes';
import { failAt, standardLabels } from './names';
import { PLATFORM_CONFIGMAP, STATE_TOKENS_SECRET, SWOOP_NAMESPACE } from './platform';
import { Workflow } from './workflow';
import { type AlbOidcOptions, albOidcEnv, type DashboardOptions, dashboardOptionsProblem } from '../state/dashboard/options';
import { loadMigrations } from '../state/migrate';
import type { ProcessDescription } from '../state/ogc';

/** A key of a Secret in the service's namespace. */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

export interface StateServiceProps {
  /** Image built from state/Dockerfile, e.g. `ghcr.io/acme/swoop-state:0.1.0` (pin a tag or digest). */
  readonly image: string;
  /** Namespace. Default: `swoop`. */
  readonly namespace?: string;
  /** Replicas; at least 2 so a node drain or a rollout never stops recording. Default: 2. */
  readonly replicas?: number;
  /**
   * Secret key holding the `postgres://` URL the service connects with, as its own role:
   * it reads, and writes only through the journal and the rule-holding functions
   * (docs/state.md). Default: `swoop-state-db` / `url`.
   */
  readonly databaseUrl?: SecretKeyRef;
  /**
   * Secret key holding the URL of the schema's owner. Only the migration Job reads it: it
   * migrates, then creates the service's role from `databaseUrl` and grants it its
   * privileges. Default: `swoop-state-db-owner` / `url`.
   */
  readonly ownerDatabaseUrl?: SecretKeyRef;
  /** Secret with the bearer tokens, keys `writer` and `reader`. Default: `swoop-state-tokens`. */
  readonly tokensSecret?: string;
  /** Secret key with the lifecycle webhook token. Default: `swoop-lifecycle-token` / `token`. */
  readonly lifecycleToken?: SecretKeyRef;
  /** ConfigMap whose `lifecycle-url` key says where run.finished goes. Default: `swoop-platform`. */
  readonly platformConfigMap?: string;
  /** CPU request per replica. Default: 100 millicores (no CPU limit: throttling adds latency). */
  readonly cpu?: kplus.Cpu;
  /** Memory request and limit per replica. Default: 256 MiB. */
  readonly memory?: Size;
  /** Database connections per replica. Default: 10. */
  readonly maxConnections?: number;
  /** The Argo Server wait-for-callback answers resume nodes through (docs/callbacks.md). Default: see ArgoServerProps. */
  readonly argoServer?: ArgoServerProps;
  /**
   * The operator's dashboard (docs/dashboard.md): its link to a run in the Argo UI
   * (DASHBOARD_ARGO_WORKFLOW_URL) and the SSO proxy's user header (DASHBOARD_SSO_HEADER),
   * believed only on the port `dashboard-sso` (STATE_DASHBOARD_SSO_PORT, DASHBOARD_SSO_PORT),
   * which the deployment must let only the proxy reach (infra/network-policies.ts does); and
   * an AWS ALB with OIDC sign-in (DASHBOARD_ALB_OIDC), whose signed header is verified on the
   * port `dashboard-alb` (STATE_DASHBOARD_ALB_PORT, DASHBOARD_ALB_PORT) the ALB targets.
   * Default: no Argo links, tokens only.
   */
  readonly dashboard?: Omit<DashboardOptions, 'ssoPort' | 'albPort' | 'albOidc'> & { readonly albOidc?: Omit<AlbOidcOptions, 'keyUrl'> };
}

/** How the state service reaches the Argo Server. */
export interface ArgoServerProps {
  /** Base URL. Default: `https://argo-workflows-server.argo.svc.cluster.local:2746` (infra/argo.ts). */
  readonly url?: string;
  /**
   * Secret key with the bearer token. Default: `swoop-state-argo-token` / `token`, the token of
   * service account `swoop-state-argo` that infra creates, allowed to get and update Workflows.
   */
  readonly token?: SecretKeyRef;
  /**
   * Accept the server's certificate unverified (ARGO_INSECURE_SKIP_VERIFY). Argo's server
   * generates a self-signed certificate unless given one; prefer giving it one the pod trusts
   * (NODE_EXTRA_CA_CERTS). Default: false.
   */
  readonly insecureSkipVerify?: boolean;
  /**
   * A ConfigMap key holding the PEM bundle the server's certificate is verified against (its
   * self-signed certificate, or the CA that signed it): mounted read-only and named by
   * ARGO_CA_FILE. Preferred over insecureSkipVerify; not with it. Default: public roots only.
   */
  readonly ca?: { readonly configMap: string; readonly key: string };
}

/** Where the Argo Server CA bundle is mounted in the state service's pods. */
export const ARGO_CA_DIR = '/etc/swoop/argo-ca';

export const ARGO_SERVER_DEFAULT_URL = 'https://argo-workflows-server.argo.svc.cluster.local:2746';
export const STATE_ARGO_TOKEN_SECRET = 'swoop-state-argo-token';

export const STATE_SERVICE_NAME = 'swoop-state';
export const STATE_SERVICE_PORT = 8080;
/** GET /metrics, without a token (state/metrics.ts METRICS_DEFAULT_PORT; scraped by constructs/state-monitoring.ts). */
export const STATE_METRICS_PORT = 9464;
export const STATE_METRICS_PORT_NAME = 'metrics';
/** The dashboard behind the SSO proxy, the only port where its user header is believed (state/dashboard/sso-listener.ts). */
export const STATE_DASHBOARD_SSO_PORT = 8081;
export const STATE_DASHBOARD_SSO_PORT_NAME = 'dashboard-sso';
/** The dashboard behind the ALB with OIDC sign-in, the only port where its signed header is believed (infra/dashboard-ingress.ts targets it). */
export const STATE_DASHBOARD_ALB_PORT = 8082;
export const STATE_DASHBOARD_ALB_PORT_NAME = 'dashboard-alb';
// The raw tokens (the Secret's `writer-authorization` key, "Bearer <writer>", is for Argo).
const TOKENS_WRITER_KEY = 'writer';
const TOKENS_READER_KEY = 'reader';

/**
 * The OGC processes of the app `scope` belongs to: one per workflow, by template name, with
 * its description, sorted by name so synth output does not depend on creation order.
 */
export function appProcesses(scope: Construct): ProcessDescription[] {
  const workflows = scope.node.root.node.findAll().filter((c) => Workflow.isWorkflow(c));
  const byName = new Map<string, ProcessDescription>();
  for (const w of workflows) byName.set(w.templateName, { id: w.templateName, ...(w.description ? { description: w.description } : {}) });
  return [...byName.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Workflows of the app that share a template name: the state service tells runs apart by that name only. */
function sharedNameProblems(scope: Construct): string[] {
  const paths = new Map<string, string[]>();
  for (const w of scope.node.root.node.findAll().filter((c) => Workflow.isWorkflow(c))) {
    paths.set(w.templateName, [...(paths.get(w.templateName) ?? []), w.node.path]);
  }
  return [...paths].filter(([, p]) => p.length > 1).map(([name, p]) =>
    `workflows ${p.join(' and ')} are both named "${name}"; the state service records runs by workflow name only, so give each workflow its own name`);
}

export class StateService extends Construct {
  readonly deployment: kplus.Deployment;
  readonly service: kplus.Service;
  /** `swoop-state`: may create Workflows in the namespace, nothing else. */
  readonly serviceAccount: kplus.ServiceAccount;
  readonly migration: kplus.Job;
  /** In-cluster base URL (the value of swoop-platform/state-url). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: StateServiceProps) {
    super(scope, id);
    const namespace = props.namespace ?? SWOOP_NAMESPACE;
    const replicas = props.replicas ?? 2;
    if (!Number.isInteger(replicas) || replicas < 2) {
      failAt(this.node.path, `replicas is ${replicas}; use an integer of at least 2 (one replica stops recording during every drain and rollout)`);
    }
    if (!props.image || /\s/.test(props.image)) {
      failAt(this.node.path, `image "${props.image}" is not an image reference; give the image built from state/Dockerfile`);
    }
    this.node.addValidation({ validate: () => sharedNameProblems(this) });
    const maxConnections = props.maxConnections ?? 10;
    const memory = props.memory ?? Size.mebibytes(256);
    const labels = standardLabels(STATE_SERVICE_NAME, 'state');
    const secret = (id: string, name: string) => kplus.Secret.fromSecretName(this, id, name);
    const db = props.databaseUrl ?? { name: 'swoop-state-db', key: 'url' };
    const databaseUrl = kplus.EnvValue.fromSecretValue({ secret: secret('DatabaseSecret', db.name), key: db.key });
    const owner = props.ownerDatabaseUrl ?? { name: 'swoop-state-db-owner', key: 'url' };
    const ownerDatabaseUrl = kplus.EnvValue.fromSecretValue({ secret: secret('OwnerDatabaseSecret', owner.name), key: owner.key });
    const tokens = secret('TokensSecret', props.tokensSecret ?? STATE_TOKENS_SECRET);
    const lifecycle = props.lifecycleToken ?? { name: 'swoop-lifecycle-token', key: 'token' };
    const argoUrl = props.argoServer?.url ?? ARGO_SERVER_DEFAULT_URL;
    if (!/^https?:\/\/\S+$/.test(argoUrl)) failAt(this.node.path, `argoServer.url "${argoUrl}" must be an http(s) URL`);
    const argoToken = props.argoServer?.token ?? { name: STATE_ARGO_TOKEN_SECRET, key: 'token' };
    const dashboardProblem = dashboardOptionsProblem(props.dashboard ?? {}, { argoWorkflowUrl: 'dashboard.argoWorkflowUrl', ssoHeader: 'dashboard.ssoHeader', albOidc: 'dashboard.albOidc' });
    if (dashboardProblem !== undefined) failAt(this.node.path, dashboardProblem);
    const dashboardEnv: Record<string, kplus.EnvValue> = {};
    if (props.dashboard?.argoWorkflowUrl) dashboardEnv.DASHBOARD_ARGO_WORKFLOW_URL = kplus.EnvValue.fromValue(props.dashboard.argoWorkflowUrl);
    const sso = props.dashboard?.ssoHeader !== undefined;
    if (sso) {
      dashboardEnv.DASHBOARD_SSO_HEADER = kplus.EnvValue.fromValue(props.dashboard!.ssoHeader!);
      dashboardEnv.DASHBOARD_SSO_PORT = kplus.EnvValue.fromValue(String(STATE_DASHBOARD_SSO_PORT));
    }
    const albOidc = props.dashboard?.albOidc;
    if (albOidc) {
      dashboardEnv.DASHBOARD_ALB_OIDC = kplus.EnvValue.fromValue(albOidcEnv(albOidc));
      dashboardEnv.DASHBOARD_ALB_PORT = kplus.EnvValue.fromValue(String(STATE_DASHBOARD_ALB_PORT));
    }
    const ssoPort = [
      ...(sso ? [{ name: STATE_DASHBOARD_SSO_PORT_NAME, number: STATE_DASHBOARD_SSO_PORT }] : []),
      ...(albOidc ? [{ name: STATE_DASHBOARD_ALB_PORT_NAME, number: STATE_DASHBOARD_ALB_PORT }] : []),
    ];
    const platform = kplus.ConfigMap.fromConfigMapName(this, 'Platform', props.platformConfigMap ?? PLATFORM_CONFIGMAP);
    const system = COMPUTE_CLASSES.system;

    const securityContext: kplus.ContainerSecurityContextProps = {
      ensureNonRoot: true,
      user: 1000,
      group: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
    };
    const resources: kplus.ContainerResources = {
      cpu: { request: props.cpu ?? kplus.Cpu.millis(100) },
      memory: { request: memory, limit: memory },
    };

    // Claim before create: the service creates the Workflows the sensors used to (POST /submit).
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: STATE_SERVICE_NAME, namespace, labels },
      automountToken: false,
    });
    const role = new kplus.Role(this, 'CreateWorkflows', {
      metadata: { name: `${STATE_SERVICE_NAME}-create-workflows`, namespace, labels },
    });
    role.allow(['create'], kplus.ApiResource.custom({ apiGroup: 'argoproj.io', resourceType: 'workflows' }));
    new kplus.RoleBinding(this, 'CreateWorkflowsBinding', {
      metadata: { name: `${STATE_SERVICE_NAME}-create-workflows`, namespace, labels },
      role,
    }).addSubjects(this.serviceAccount);

    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: STATE_SERVICE_NAME, namespace, labels },
      replicas,
      serviceAccount: this.serviceAccount,
      // The projected, rotating token of swoop-state: POST /submit creates Workflows with it.
      automountServiceAccountToken: true,
      securityContext: { ensureNonRoot: true, user: 1000, group: 1000 },
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      podMetadata: { labels },
      containers: [{
        name: 'state',
        image: props.image,
        ports: [{ name: 'http', number: STATE_SERVICE_PORT }, { name: STATE_METRICS_PORT_NAME, number: STATE_METRICS_PORT }, ...ssoPort],
        envVariables: {
          DATABASE_URL: databaseUrl,
          PORT: kplus.EnvValue.fromValue(String(STATE_SERVICE_PORT)),
          METRICS_PORT: kplus.EnvValue.fromValue(String(STATE_METRICS_PORT)),
          HOST: kplus.EnvValue.fromValue('0.0.0.0'),
          DATABASE_MAX_CONNECTIONS: kplus.EnvValue.fromValue(String(maxConnections)),
          STATE_WRITE_TOKEN: kplus.EnvValue.fromSecretValue({ secret: tokens, key: TOKENS_WRITER_KEY }),
          STATE_READ_TOKEN: kplus.EnvValue.fromSecretValue({ secret: tokens, key: TOKENS_READER_KEY }),
          LIFECYCLE_URL: kplus.EnvValue.fromConfigMap(platform, 'lifecycle-url'),
          // the queues infra lets this service's role send task tokens to (stack setting taskTokenQueues)
          TASK_TOKEN_QUEUES: kplus.EnvValue.fromConfigMap(platform, 'task-token-queues'),
          LIFECYCLE_TOKEN: kplus.EnvValue.fromSecretValue({ secret: secret('LifecycleSecret', lifecycle.name), key: lifecycle.key }),
          ARGO_SERVER_URL: kplus.EnvValue.fromValue(argoUrl),
          ARGO_TOKEN: kplus.EnvValue.fromSecretValue({ secret: secret('ArgoTokenSecret', argoToken.name), key: argoToken.key }),
          ARGO_INSECURE_SKIP_VERIFY: kplus.EnvValue.fromValue(String(props.argoServer?.insecureSkipVerify ?? false)),
          WORKFLOW_NAMESPACE: kplus.EnvValue.fromValue(namespace),
          // POST /submit reads payloads passed by URL from here for their projections (docs/state.md).
          PAYLOAD_STORE: kplus.EnvValue.fromConfigMap(platform, 'payload-store'),
          NODE_OPTIONS: kplus.EnvValue.fromValue(`--max-old-space-size=${Math.floor(memory.toMebibytes() * 0.75)}`),
          // Read at synth, after every workflow exists; an env value (not a ConfigMap) so a
          // changed description rolls the pods, which read it once at start.
          STATE_PROCESSES: kplus.EnvValue.fromValue(Lazy.any({ produce: () => JSON.stringify(appProcesses(this)) }) as unknown as string),
          ...dashboardEnv,
        },
        // liveness only asks "is the process serving"; a database outage shows in
        // readiness (503) and must not restart every replica at once
        liveness: kplus.Probe.fromHttpGet('/healthz', {
          port: STATE_SERVICE_PORT, periodSeconds: Duration.seconds(10), failureThreshold: 3, timeoutSeconds: Duration.seconds(2),
        }),
        readiness: kplus.Probe.fromHttpGet('/readyz', {
          port: STATE_SERVICE_PORT, periodSeconds: Duration.seconds(5), failureThreshold: 2, timeoutSeconds: Duration.seconds(3),
        }),
        startup: kplus.Probe.fromHttpGet('/healthz', {
          port: STATE_SERVICE_PORT, periodSeconds: Duration.seconds(2), failureThreshold: 30,
        }),
        securityContext,
        resources,
      }],
    });
    const onSystemPool = (pod: kplus.Deployment | kplus.Job) => {
      pod.scheduling.attract(kplus.Node.labeled(kplus.NodeLabelQuery.is(COMPUTE_CLASS_LABEL, 'system')));
      for (const taint of system.taints) {
        pod.scheduling.tolerate(kplus.Node.tainted(kplus.NodeTaintQuery.is(taint.key, taint.value ?? '', { effect: kplus.TaintEffect.NO_SCHEDULE })));
      }
    };
    const argoCa = props.argoServer?.ca;
    if (argoCa) {
      if (props.argoServer?.insecureSkipVerify) failAt(this.node.path, 'argoServer has both ca and insecureSkipVerify; keep ca (the server is verified against it) and drop insecureSkipVerify');
      const configMap = kplus.ConfigMap.fromConfigMapName(this, 'ArgoCaConfigMap', argoCa.configMap);
      const volume = kplus.Volume.fromConfigMap(this, 'ArgoCa', configMap, { name: 'argo-ca', items: { [argoCa.key]: { path: 'ca.crt' } } });
      const container = this.deployment.containers[0]!;
      container.mount(ARGO_CA_DIR, volume, { readOnly: true });
      container.env.addVariable('ARGO_CA_FILE', kplus.EnvValue.fromValue(`${ARGO_CA_DIR}/ca.crt`));
    }
    onSystemPool(this.deployment);
    this.deployment.scheduling.spread({ topology: kplus.Topology.HOSTNAME, weight: 100 });

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name: STATE_SERVICE_NAME, namespace, labels },
      selector: this.deployment,
      ports: [
        { name: 'http', port: STATE_SERVICE_PORT, targetPort: STATE_SERVICE_PORT },
        { name: STATE_METRICS_PORT_NAME, port: STATE_METRICS_PORT, targetPort: STATE_METRICS_PORT },
        ...ssoPort.map((p) => ({ name: p.name, port: p.number, targetPort: p.number })),
      ],
    });

    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name: STATE_SERVICE_NAME, namespace, labels },
      spec: {
        maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: this.deployment.matchLabels },
      },
    });

    // A Job's pod template is immutable: the name carries the migration set's digest, so
    // new migrations make a new Job and re-applying an unchanged one is a no-op.
    const migrationLabels = standardLabels(STATE_SERVICE_NAME, 'state-migration');
    const digest = createHash('sha256').update(loadMigrations().map((m) => m.checksum).join('\n')).digest('hex').slice(0, 10);
    this.migration = new kplus.Job(this, 'Migrate', {
      metadata: { name: `${STATE_SERVICE_NAME}-migrate-${digest}`, namespace, labels: migrationLabels },
      podMetadata: { labels: migrationLabels },
      backoffLimit: 6,
      activeDeadline: Duration.minutes(30),
      automountServiceAccountToken: false,
      securityContext: { ensureNonRoot: true, user: 1000, group: 1000 },
      restartPolicy: kplus.RestartPolicy.NEVER,
      containers: [{
        name: 'migrate',
        image: props.image,
        command: ['node', 'state/migrate-cli.js'],
        envVariables: { DATABASE_URL: ownerDatabaseUrl, STATE_APP_URL: databaseUrl },
        securityContext,
        resources: { cpu: { request: kplus.Cpu.millis(100) }, memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) } },
      }],
    });
    onSystemPool(this.migration);
    // cdk8s-plus has neither a seccomp profile nor "drop ALL" (its Capability enum lists
    // single capabilities only): patch both into each pod.
    for (const workload of [this.deployment, this.migration]) {
      ApiObject.of(workload).addJsonPatch(
        JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
        JsonPatch.add('/spec/template/spec/containers/0/securityContext/capabilities', { drop: ['ALL'] }),
      );
    }

    this.url = `http://${STATE_SERVICE_NAME}.${namespace}.svc.cluster.local:${STATE_SERVICE_PORT}`;
  }
}

export interface StateServiceChartProps extends ChartProps, StateServiceProps {}

/** A chart holding only the state service, for the synth app or a separate manifest. */
export class StateServiceChart extends Chart {
  readonly stateService: StateService;

  constructor(scope: Construct, id: string, props: StateServiceChartProps) {
    super(scope, id, { ...props, namespace: props.namespace ?? SWOOP_NAMESPACE });
    this.stateService = new StateService(this, 'StateService', props);
  }
}
