import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { parseAllDocuments } from 'yaml';
import type { Cluster } from './cluster';

/**
 * NetworkPolicies of the workflow namespace: deny everything, then allow exactly the flows the
 * platform uses. Enforced by the VPC CNI's network policy agent (Cluster enables it); kubelet
 * probes from the node are allowed by the agent itself. Plain objects (networking.k8s.io/v1)
 * so a test can evaluate them; `WorkflowNetworkPolicies` declares them.
 */

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[] };
export interface PolicyPeer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
export interface PolicyPort { protocol?: 'TCP' | 'UDP' | 'SCTP'; port?: number | string; endPort?: number }
export interface NetworkPolicyObject {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'NetworkPolicy';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    podSelector: Selector;
    policyTypes: ('Ingress' | 'Egress')[];
    ingress?: { from?: PolicyPeer[]; ports?: PolicyPort[] }[];
    egress?: { to?: PolicyPeer[]; ports?: PolicyPort[] }[];
  };
}

/** The pods of the platform, by the labels their owners give them. */
export const PODS = {
  /** Task pods (and artifact GC pods) of Workflows: the Argo controller labels them with their workflow. */
  workflow: { matchExpressions: [{ key: 'workflows.argoproj.io/workflow', operator: 'Exists' }, { key: 'workflows.argoproj.io/component', operator: 'NotIn', values: ['agent'] }] },
  /** The agent pod of a Workflow, which runs its HTTP templates (callbacks, state events). */
  agent: { matchLabels: { 'workflows.argoproj.io/component': 'agent' } },
  stateService: { matchLabels: { 'app.kubernetes.io/name': 'swoop-state', 'app.kubernetes.io/component': 'state' } },
  stateMigration: { matchLabels: { 'app.kubernetes.io/name': 'swoop-state', 'app.kubernetes.io/component': 'state-migration' } },
  /** Argo Events labels sensor, event source and event bus pods with their object's name. */
  sensors: { matchExpressions: [{ key: 'sensor-name', operator: 'Exists' }] },
  eventSources: { matchExpressions: [{ key: 'eventsource-name', operator: 'Exists' }] },
  lifecycleWebhook: { matchLabels: { 'eventsource-name': 'swoop-lifecycle' } },
  ingressWebhook: { matchLabels: { 'eventsource-name': 'swoop-ingress' } },
  sqsSource: { matchLabels: { 'eventsource-name': 'swoop-ingress-sqs' } },
  eventBus: { matchExpressions: [{ key: 'eventbus-name', operator: 'Exists' }] },
  /** Long-running service tasks (Deployments the task library declares, e.g. publish-stac). */
  serviceTasks: { matchLabels: { 'app.kubernetes.io/component': 'service-task' } },
} as const satisfies Record<string, Selector>;

/** Pods of the Argo namespace, by the labels the argo-workflows chart gives them. */
export const ARGO_PODS = {
  server: { matchLabels: { 'app.kubernetes.io/name': 'argo-workflows-server' } },
  controller: { matchLabels: { 'app.kubernetes.io/name': 'argo-workflows-workflow-controller' } },
  /** Kubernetes labels a Job's pods with its name (batch.kubernetes.io/job-name, 1.27+). */
  archiveJob: { matchLabels: { 'batch.kubernetes.io/job-name': 'argo-archive-database' } },
} as const satisfies Record<string, Selector>;

export const PORTS = {
  state: 8080,
  /** The state service's GET /metrics (no token; constructs/state-service.ts STATE_METRICS_PORT). */
  stateMetrics: 9464,
  /** The dashboard behind the SSO proxy, where its user header is believed (STATE_DASHBOARD_SSO_PORT). */
  stateDashboardSso: 8081,
  /** The dashboard behind the ALB with OIDC sign-in, where its signed header is verified (STATE_DASHBOARD_ALB_PORT). */
  stateDashboardAlb: 8082,
  webhook: 12000,
  argoServer: 2746,
  postgres: 5432,
  https: 443,
  podIdentityAgent: 80,
  dns: 53,
  /** The Argo workflow controller's Prometheus metrics (chart value controller.metricsConfig.port). */
  argoControllerMetrics: 9090,
  /** The Argo Events controller's metrics (container port `metrics` of the chart's controller Deployment). */
  eventsControllerMetrics: 7777,
  /** JetStream client, cluster routes, monitoring (argo-events' JetStream StatefulSet). */
  jetstream: [4222, 6222, 8222],
} as const;

/** Where the EKS Pod Identity agent serves credentials on every node (link-local). */
export const POD_IDENTITY_AGENT = '169.254.170.23/32';

export interface WorkflowNetworkPolicyArgs {
  /** The workflow namespace (`swoop`). */
  readonly namespace: string;
  /** Namespace of the Argo server the state service resumes workflows through. */
  readonly argoNamespace: string;
  /** The VPC: RDS and the EKS API endpoint's network interfaces live in it. */
  readonly vpcCidr: string;
  /** The cluster's service CIDR (kept out of the "internet" rule). */
  readonly serviceCidr: string;
  /** The ClusterIP of the `kubernetes` Service (first address of the service CIDR). */
  readonly apiServiceIp: string;
  /** Whether sensors create objects themselves (see `sensorsUseKubernetesApi`): only then may they reach the API server. */
  readonly sensorsUseKubernetesApi: boolean;
  /**
   * The SSO proxy in front of the dashboard (stack setting dashboard.ssoProxy): its pods, and
   * only they, may reach the port where the state service believes the proxy's user header.
   * Undefined: that port is closed.
   */
  readonly dashboardSsoProxy?: { readonly namespace: string; readonly podLabels?: Readonly<Record<string, string>> };
  /**
   * The dashboard's internal ALB (stack setting dashboard.alb): it connects from its network
   * interfaces in the VPC, which no pod selector names, so the VPC may reach the port where the
   * ALB's signed header is verified, and only that port. False: that port is closed.
   */
  readonly dashboardAlb?: boolean;
}

/**
 * Whether any Sensor of the manifests under `dir` has a trigger that creates Kubernetes
 * objects itself (`k8s` or `argoWorkflow`), so sensor pods need the API server; sensors whose
 * triggers only call HTTP (the state service creating the runs) do not.
 */
export function sensorsUseKubernetesApi(dir: string): boolean {
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.ya?ml$/.test(f));
  return files.some((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).some((d) => {
    const obj = d.toJSON() as { kind?: string; spec?: { triggers?: { template?: Record<string, unknown> }[] } } | null;
    return obj?.kind === 'Sensor' && (obj.spec?.triggers ?? []).some((t) => t.template?.k8s !== undefined || t.template?.argoWorkflow !== undefined);
  }));
}

const tcp = (...ports: number[]): PolicyPort[] => ports.map((port) => ({ protocol: 'TCP', port }));
const pods = (podSelector: Selector): PolicyPeer => ({ podSelector });
const inNamespace = (namespace: string, podSelector?: Selector): PolicyPeer => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } }, ...(podSelector ? { podSelector } : {}) });
const LABELS = { 'app.kubernetes.io/part-of': 'swoop-platform', 'app.kubernetes.io/component': 'network-policy' };

/** A NetworkPolicy of `namespace` selecting `podSelector`, isolated in the directions it has rules for. */
function policyIn(namespace: string, name: string, podSelector: Selector, rules: Pick<NetworkPolicyObject['spec'], 'ingress' | 'egress'>): NetworkPolicyObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels: LABELS },
    spec: {
      podSelector,
      policyTypes: [...(rules.ingress ? ['Ingress' as const] : []), ...(rules.egress ? ['Egress' as const] : [])],
      ...rules,
    },
  };
}

/** Nothing in or out of `namespace` unless another policy allows it, and DNS for every pod. */
function denyAllButDns(namespace: string): NetworkPolicyObject[] {
  return [
    { ...policyIn(namespace, 'default-deny', {}, {}), spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
    policyIn(namespace, 'allow-dns', {}, {
      egress: [{
        to: [inNamespace('kube-system', { matchLabels: { 'k8s-app': 'kube-dns' } })],
        ports: [{ protocol: 'UDP', port: PORTS.dns }, { protocol: 'TCP', port: PORTS.dns }],
      }],
    }),
  ];
}

/** Destinations several namespaces' pods use. */
function commonFlows(args: Pick<WorkflowNetworkPolicyArgs, 'vpcCidr' | 'serviceCidr' | 'apiServiceIp'>) {
  return {
    // The API server: its ClusterIP (what in-cluster clients dial) and its endpoint ENIs in the VPC.
    apiServer: { to: [{ ipBlock: { cidr: `${args.apiServiceIp}/32` } }, { ipBlock: { cidr: args.vpcCidr } }], ports: tcp(PORTS.https) },
    // HTTPS outside the VPC: S3 (gateway endpoint), SQS, and the callback URLs users configure;
    // not the VPC, not Services' ClusterIPs, not link-local (instance metadata, Pod Identity).
    internetHttps: { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: [args.vpcCidr, args.serviceCidr, '169.254.0.0/16'] } }], ports: tcp(PORTS.https) },
    podIdentity: { to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT } }], ports: tcp(PORTS.podIdentityAgent) },
    postgres: { to: [{ ipBlock: { cidr: args.vpcCidr } }], ports: tcp(PORTS.postgres) },
  };
}

/** Every NetworkPolicy of the workflow namespace. */
export function workflowNetworkPolicies(args: WorkflowNetworkPolicyArgs): NetworkPolicyObject[] {
  const policy = (name: string, podSelector: Selector, rules: Pick<NetworkPolicyObject['spec'], 'ingress' | 'egress'>) => policyIn(args.namespace, name, podSelector, rules);
  const { apiServer, internetHttps, podIdentity, postgres } = commonFlows(args);
  const toState = { to: [pods(PODS.stateService)], ports: tcp(PORTS.state) };
  const toBus = { to: [pods(PODS.eventBus)], ports: tcp(PORTS.jetstream[0]) };

  return [
    // Nothing in or out unless a policy below allows it; DNS for every pod.
    ...denyAllButDns(args.namespace),
    policy('state-service', PODS.stateService, {
      // Sensors post events, agents run HTTP templates, workflow pods (dispatch) post events.
      ingress: [
        { from: [pods(PODS.sensors), pods(PODS.agent), pods(PODS.workflow)], ports: tcp(PORTS.state) },
        // Prometheus, in whatever namespace it runs, scrapes the metrics port only: counts by
        // workflow and route, no payload (docs/metrics.md). The API port stays closed to it.
        { from: [{ namespaceSelector: {} }], ports: tcp(PORTS.stateMetrics) },
        // The SSO proxy, alone, reaches the port where its user header is believed: a header
        // from anyone else could name any user (docs/dashboard.md, "Who can see it").
        ...(args.dashboardSsoProxy ? [{
          from: [{
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': args.dashboardSsoProxy.namespace } },
            podSelector: args.dashboardSsoProxy.podLabels ? { matchLabels: { ...args.dashboardSsoProxy.podLabels } } : {},
          }],
          ports: tcp(PORTS.stateDashboardSso),
        }] : []),
        // The dashboard's ALB (as the Argo server's): VPC addresses, to the port that believes
        // nothing but its signed, verified header (docs/dashboard.md).
        ...(args.dashboardAlb ? [{ from: [{ ipBlock: { cidr: args.vpcCidr } }], ports: tcp(PORTS.stateDashboardAlb) }] : []),
      ],
      egress: [
        postgres,
        // The outbox delivers run-finished events to the lifecycle webhook.
        { to: [pods(PODS.lifecycleWebhook)], ports: tcp(PORTS.webhook) },
        // Callbacks resume suspended nodes through the Argo server.
        { to: [inNamespace(args.argoNamespace, ARGO_PODS.server)], ports: tcp(PORTS.argoServer) },
        // Creating Workflows.
        apiServer,
        // Reading payloads passed by URL for their projections (docs/state.md): S3 with the
        // service's Pod Identity role, which may read the payload store only. S3's addresses
        // cannot be named in a NetworkPolicy, so this is HTTPS out of the VPC.
        internetHttps, podIdentity,
      ],
    }),
    policy('state-migration', PODS.stateMigration, { egress: [postgres] }),
    policy('sensors', PODS.sensors, {
      egress: [toBus, toState, ...(args.sensorsUseKubernetesApi ? [apiServer] : []), internetHttps],
    }),
    policy('event-sources', PODS.eventSources, { egress: [toBus] }),
    policy('sqs-event-source', PODS.sqsSource, { egress: [internetHttps, podIdentity] }),
    policy('lifecycle-webhook', PODS.lifecycleWebhook, {
      ingress: [{ from: [pods(PODS.stateService)], ports: tcp(PORTS.webhook) }],
    }),
    policy('ingress-webhook', PODS.ingressWebhook, {
      // The documented payload entry point: any pod of the cluster with the token, and the
      // dispatch workflow forwarding {url, process} payloads.
      ingress: [{ from: [{ namespaceSelector: {} }], ports: tcp(PORTS.webhook) }],
    }),
    policy('event-bus', PODS.eventBus, {
      ingress: [
        { from: [pods(PODS.eventSources), pods(PODS.sensors)], ports: tcp(PORTS.jetstream[0]) },
        { from: [pods(PODS.eventBus)], ports: tcp(...PORTS.jetstream) },
      ],
      egress: [{ to: [pods(PODS.eventBus)], ports: tcp(...PORTS.jetstream) }],
    }),
    policy('workflow-pods', PODS.workflow, {
      egress: [
        apiServer, internetHttps, podIdentity, toState,
        { to: [pods(PODS.ingressWebhook)], ports: tcp(PORTS.webhook) },
        { to: [pods(PODS.serviceTasks)] },
      ],
    }),
    policy('workflow-agent', PODS.agent, { egress: [apiServer, toState, internetHttps] }),
    policy('service-tasks', PODS.serviceTasks, {
      ingress: [{ from: [pods(PODS.workflow)] }],
      egress: [internetHttps],
    }),
  ];
}

export interface ArgoNetworkPolicyArgs extends Pick<WorkflowNetworkPolicyArgs, 'vpcCidr' | 'serviceCidr' | 'apiServiceIp'> {
  /** Where the Argo Workflows controller and server run (`argo`). */
  readonly argoNamespace: string;
  /** Where the Argo Events controller runs (`argo-events`); sensors, event sources and the bus run in the workflow namespace. */
  readonly eventsNamespace: string;
  /** The workflow namespace, whose state service resumes nodes through the server. */
  readonly workflowNamespace: string;
  /** The server has an internal ALB Ingress (target type ip): the ALB, inside the VPC, connects to the pods. */
  readonly serverIngress: boolean;
}

/**
 * NetworkPolicies of the Argo namespaces: default-deny and DNS in each, then exactly the flows
 * of what runs there. `argo`: the workflow controller (API server, the archive database; its
 * metrics 9090 to any namespace's Prometheus), the server (2746 from the state service and, with
 * the ALB, from the VPC; out: API server, archive database, HTTPS for S3 artifacts and the OIDC
 * issuer, the Pod Identity agent for its artifact role), the archive database Job (PostgreSQL).
 * `argo-events`: only the events controller lives there (the chart's admission webhook is off),
 * so every pod of it may reach the API server and serve metrics 7777. `kubectl port-forward`
 * enters the pod's own network namespace, so no policy sees it.
 */
export function argoNetworkPolicies(args: ArgoNetworkPolicyArgs): NetworkPolicyObject[] {
  const { apiServer, internetHttps, podIdentity, postgres } = commonFlows(args);
  const anyNamespace: PolicyPeer = { namespaceSelector: {} };
  const argo = (name: string, podSelector: Selector, rules: Pick<NetworkPolicyObject['spec'], 'ingress' | 'egress'>) => policyIn(args.argoNamespace, name, podSelector, rules);
  return [
    ...denyAllButDns(args.argoNamespace),
    argo('workflow-controller', ARGO_PODS.controller, {
      ingress: [{ from: [anyNamespace], ports: tcp(PORTS.argoControllerMetrics) }],
      egress: [apiServer, postgres],
    }),
    argo('server', ARGO_PODS.server, {
      ingress: [{
        from: [inNamespace(args.workflowNamespace, PODS.stateService), ...(args.serverIngress ? [{ ipBlock: { cidr: args.vpcCidr } }] : [])],
        ports: tcp(PORTS.argoServer),
      }],
      egress: [apiServer, postgres, internetHttps, podIdentity],
    }),
    argo('archive-database-job', ARGO_PODS.archiveJob, { egress: [postgres] }),
    ...denyAllButDns(args.eventsNamespace),
    policyIn(args.eventsNamespace, 'events-controller', {}, {
      ingress: [{ from: [anyNamespace], ports: tcp(PORTS.eventsControllerMetrics) }],
      egress: [apiServer],
    }),
  ];
}

export interface ArgoNetworkPoliciesArgs extends ArgoNetworkPolicyArgs {
  readonly cluster: Cluster;
}

/** Declares `argoNetworkPolicies` in the cluster. */
export class ArgoNetworkPolicies extends pulumi.ComponentResource {
  constructor(name: string, args: ArgoNetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:ArgoNetworkPolicies', name, {}, opts);
    for (const p of argoNetworkPolicies(args)) {
      new k8s.networking.v1.NetworkPolicy(`${name}-${p.metadata.namespace}-${p.metadata.name}`, p, { parent: this, provider: args.cluster.provider });
    }
    this.registerOutputs({});
  }
}

export interface WorkflowNetworkPoliciesArgs extends WorkflowNetworkPolicyArgs {
  readonly cluster: Cluster;
}

/** Declares `workflowNetworkPolicies` in the cluster. */
export class WorkflowNetworkPolicies extends pulumi.ComponentResource {
  constructor(name: string, args: WorkflowNetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:WorkflowNetworkPolicies', name, {}, opts);
    for (const p of workflowNetworkPolicies(args)) {
      new k8s.networking.v1.NetworkPolicy(`${name}-${p.metadata.name}`, p, { parent: this, provider: args.cluster.provider });
    }
    this.registerOutputs({});
  }
}
