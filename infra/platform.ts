import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { CHARTS, chartSource } from './charts';
import { SYSTEM_POOL } from './scheduling';
import type { Cluster } from './cluster';
import type { SecretsSync } from './secrets-sync';
import { manifestProblems } from './manifest-check';
import { httpTemplateSecrets } from './manifest-secrets';

/** How the synthesized manifests in `dist/` reach the cluster. */
export type ManifestDelivery =
  /**
   * Pulumi applies `<manifestsDir>/**\/*.yaml` itself (one tool, changes show in `pulumi
   * preview`). `manifestsDir` defaults to `dist` under the working directory, which is the
   * project root under `pulumi up`.
   */
  | { readonly mode: 'pulumi'; readonly manifestsDir?: string }
  /**
   * Argo CD syncs `path` of `repoUrl` at `revision` (merges to main deploy themselves). The
   * local checkout of `path` is what `checkManifests` reads.
   */
  | { readonly mode: 'gitops'; readonly repoUrl: string; readonly revision: string; readonly path: string };

export interface PlatformArgs {
  readonly cluster: Cluster;
  /** The workflow namespace (from Argo), so everything here waits for it. */
  readonly namespace: pulumi.Input<string>;
  readonly bucketName: pulumi.Input<string>;
  /** Prefix of payloads in the bucket. Default `payloads`. */
  readonly payloadPrefix?: string;
  readonly database: {
    readonly host: pulumi.Input<string>;
    readonly port: pulumi.Input<number>;
    readonly databaseName: string;
    /** Secret of the master user: the migration Job's (swoop-state-db-owner). */
    readonly secretArn: pulumi.Input<string>;
    /** Secret of the state service's own role (swoop-state-db). */
    readonly serviceSecretArn: pulumi.Input<string>;
  };
  readonly secrets: SecretsSync;
  readonly delivery: ManifestDelivery;
  /** Service account of workflow pods, whose agent reads the state token Secret. Default `swoop-workflow`. */
  readonly workflowServiceAccount?: string;
  /**
   * Secrets the manifests reference that the platform does not generate (API credentials,
   * alert webhooks): name -> key -> value, created in the namespace as Pulumi secrets.
   */
  readonly workloadSecrets?: Record<string, Record<string, pulumi.Input<string>>>;
  /** SQS queue URLs the state service may send task tokens to (its TASK_TOKEN_QUEUES, key `task-token-queues`). @default none */
  readonly taskTokenQueues?: readonly string[];
  /** Keys of ConfigMap swoop-platform the workflows read (stack setting workflowValues), beside the built-in ones. @default none */
  readonly values?: Record<string, pulumi.Input<string>>;
  /**
   * Check the synthesized manifests (the pulumi mode's `manifestsDir`, or the local copy of the
   * gitops `path`) before deploying: every swoop-platform key they read is set here, and the
   * state service runs this image. @default on, image not checked
   */
  readonly checkManifests?: { readonly stateServiceImage?: string } | false;
  /**
   * Whether to deploy `dist/` (apply it, or create the Argo CD Application). False: only what
   * the manifests need (ConfigMap, Secrets, roles), for a first run before the state service
   * image exists. Default true.
   */
  readonly deployManifests?: boolean;
  /** Resources the manifests need first (the Argo releases: their CRDs). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * The cluster has the Prometheus operator (its monitoring.coreos.com CRDs): deliver
   * PROMETHEUS_OPERATOR_MANIFESTS too (stack setting prometheusOperator). Without its CRDs
   * those objects could not be applied. @default false
   */
  readonly prometheusOperator?: boolean;
}

/**
 * Files of `dist/<stack>/` holding Prometheus-operator objects (the state service's
 * ServiceMonitor and PrometheusRule, docs/metrics.md): delivered only with `prometheusOperator`.
 */
export const PROMETHEUS_OPERATOR_MANIFESTS: readonly string[] = ['state-monitoring.yaml'];

/** The YAML files of `dir` a Pulumi delivery applies, relative paths sorted (the Prometheus-operator ones only if asked). */
export function deliveredManifests(dir: string, prometheusOperator: boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.yaml'))
    .filter((f) => prometheusOperator || !PROMETHEUS_OPERATOR_MANIFESTS.includes(f)).sort();
}

/** In-cluster URLs fixed by docs/contracts.md. */
export const STATE_URL = 'http://swoop-state.swoop.svc.cluster.local:8080';
/** The state service's Kubernetes service account (constructs/state-service.ts STATE_SERVICE_NAME), bound to its bucket role. */
export const STATE_SERVICE_ACCOUNT = 'swoop-state';
/** Key prefix of payloads in the artifact bucket (the `payload-store` key: `s3://<bucket>/<prefix>`). */
export const DEFAULT_PAYLOAD_PREFIX = 'payloads';
export const LIFECYCLE_URL = 'http://swoop-lifecycle-eventsource-svc.swoop.svc.cluster.local:12000/lifecycle';

/** The Secrets (name -> keys) Platform creates in the workflow namespace; a test holds it against what it declares. */
export const PLATFORM_SECRETS: Readonly<Record<string, readonly string[]>> = {
  'swoop-state-tokens': ['writer', 'reader', 'writer-authorization'],
  'swoop-lifecycle-token': ['token'],
  'swoop-ingress-token': ['token'],
  'swoop-state-db': ['url'],
  'swoop-state-db-owner': ['url'],
  // a service-account-token Secret: the control plane fills its token
  'swoop-state-argo-token': ['token'],
};

/** The folder of manifests a delivery applies or syncs (relative to the project root). */
export function manifestsDirOf(delivery: ManifestDelivery): string {
  return delivery.mode === 'pulumi' ? delivery.manifestsDir ?? 'dist' : delivery.path;
}

/**
 * What the workflows, the events layer and the state service expect to find in their
 * namespace (docs/contracts.md, constructs/events/names.ts, constructs/state-service.ts):
 * the `swoop-platform` ConfigMap, the token Secrets (state writer/reader, lifecycle and
 * ingress webhooks), the database URL Secrets `swoop-state-db` (the service's own role) and
 * `swoop-state-db-owner` (the master user, for the migration Job) rendered from their
 * Secrets Manager secrets, and
 * the synthesized manifests, applied here or synced by Argo CD. The state service's own
 * objects (Deployment, Service, PodDisruptionBudget, migration Job) are among those
 * manifests: `dist/<stack>/state-service.yaml` is their only definition.
 */
export class Platform extends pulumi.ComponentResource {
  public readonly stateUrl = STATE_URL;
  /** The Argo CD Application name in gitops mode. */
  public readonly application?: pulumi.Output<string>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:Platform', name, {}, opts);
    const ns = args.namespace;
    const k8sOpts = { parent: this, provider: args.cluster.provider };

    const data: Record<string, pulumi.Input<string>> = {
      ...args.values,
      'payload-store': pulumi.interpolate`s3://${args.bucketName}/${args.payloadPrefix ?? DEFAULT_PAYLOAD_PREFIX}`,
      'state-url': STATE_URL,
      'lifecycle-url': LIFECYCLE_URL,
      'task-token-queues': (args.taskTokenQueues ?? []).join(','),
    };
    const deploy = args.deployManifests !== false;
    if (deploy && args.checkManifests !== false) {
      const dir = resolve(args.delivery.mode === 'pulumi' ? args.delivery.manifestsDir ?? 'dist' : args.delivery.path);
      // Values that are plain strings now (workflowValues, the queue list) resolve wait steps' queues.
      const known = Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => typeof e[1] === 'string'));
      const problems = manifestProblems(dir, {
        valueKeys: Object.keys(data),
        stateServiceImage: args.checkManifests?.stateServiceImage,
        taskTokenQueues: { queues: args.taskTokenQueues ?? [], values: known },
      });
      if (problems.length > 0) throw new Error(`the synthesized manifests do not fit this stack:\n  - ${problems.join('\n  - ')}`);
    }
    const config = new k8s.core.v1.ConfigMap(`${name}-config`, {
      // Argo reads workflow parameters' configMapKeyRef only from ConfigMaps with this label.
      metadata: { name: 'swoop-platform', namespace: ns, labels: { 'workflows.argoproj.io/configmap-type': 'Parameter' } },
      data,
    }, k8sOpts);

    const token = (id: string) => new random.RandomPassword(`${name}-${id}`, { length: 48, special: false }, { parent: this }).result;
    const writer = token('writer-token');
    const tokens = new k8s.core.v1.Secret(`${name}-state-tokens`, {
      metadata: { name: 'swoop-state-tokens', namespace: ns },
      stringData: {
        writer,
        reader: token('reader-token'),
        // Argo Events copies header values verbatim, so sensors need the whole header value.
        'writer-authorization': pulumi.interpolate`Bearer ${writer}`,
      },
    }, k8sOpts);
    const lifecycleToken = new k8s.core.v1.Secret(`${name}-lifecycle-token`, {
      metadata: { name: 'swoop-lifecycle-token', namespace: ns },
      stringData: { token: token('lifecycle-token') },
    }, k8sOpts);
    const ingressToken = new k8s.core.v1.Secret(`${name}-ingress-token`, {
      metadata: { name: 'swoop-ingress-token', namespace: ns },
      stringData: { token: token('ingress-token') },
    }, k8sOpts);

    // HTTP templates run in the workflow's agent pod, which reads their header Secrets through
    // the API as the workflow service account: get on exactly those Secrets, nothing else. No
    // Role at all without any (an empty resourceNames would grant every Secret).
    const agentSecrets = httpTemplateSecrets(resolve(manifestsDirOf(args.delivery)));
    if (agentSecrets.length > 0) {
      const agentRole = new k8s.rbac.v1.Role(`${name}-agent-secrets`, {
        metadata: { name: 'swoop-workflow-agent-secrets', namespace: ns },
        rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: agentSecrets, verbs: ['get'] }],
      }, k8sOpts);
      new k8s.rbac.v1.RoleBinding(`${name}-agent-secrets`, {
        metadata: { name: 'swoop-workflow-agent-secrets', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'swoop-workflow-agent-secrets' },
        subjects: [{ kind: 'ServiceAccount', name: args.workflowServiceAccount ?? 'swoop-workflow', namespace: ns }],
      }, { ...k8sOpts, dependsOn: [agentRole] });
    }

    // The state service resumes wait-for-callback steps through the Argo Server
    // (docs/callbacks.md) with this service account's token: get and update Workflows, nothing else.
    new k8s.core.v1.ServiceAccount(`${name}-state-argo`, {
      metadata: { name: 'swoop-state-argo', namespace: ns }, automountServiceAccountToken: false,
    }, k8sOpts);
    const stateArgoRole = new k8s.rbac.v1.Role(`${name}-state-argo`, {
      metadata: { name: 'swoop-state-argo', namespace: ns },
      rules: [{ apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['get', 'update'] }],
    }, k8sOpts);
    new k8s.rbac.v1.RoleBinding(`${name}-state-argo`, {
      metadata: { name: 'swoop-state-argo', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'swoop-state-argo' },
      subjects: [{ kind: 'ServiceAccount', name: 'swoop-state-argo', namespace: ns }],
    }, { ...k8sOpts, dependsOn: [stateArgoRole] });
    // The control plane fills `token` (and ca.crt, namespace) of this Secret.
    const stateArgoToken = new k8s.core.v1.Secret(`${name}-state-argo-token`, {
      metadata: { name: 'swoop-state-argo-token', namespace: ns, annotations: { 'kubernetes.io/service-account.name': 'swoop-state-argo' } },
      type: 'kubernetes.io/service-account-token',
    }, k8sOpts);

    const db = args.database;
    // The state service pods (dist/) read swoop-state-db/url; the migration Job reads both
    // and grants the service's role (state/roles.ts). They wait for them through the
    // manifests' dependency on these secrets below.
    const dbUrl = (id: string, secretName: string, remoteSecretArn: pulumi.Input<string>) => args.secrets.syncSecret(`${name}-${id}`, {
      namespace: ns,
      name: secretName,
      remoteSecretArn,
      template: {
        url: pulumi.interpolate`postgres://{{ .username | urlquery }}:{{ .password | urlquery }}@${db.host}:${db.port}/${db.databaseName}?sslmode=require`,
      },
    });
    const dbSecrets = [dbUrl('state-db', 'swoop-state-db', db.serviceSecretArn), dbUrl('state-db-owner', 'swoop-state-db-owner', db.secretArn)];

    const workloadSecrets = Object.entries(args.workloadSecrets ?? {}).map(([secretName, data]) => new k8s.core.v1.Secret(`${name}-secret-${secretName}`, {
      metadata: { name: secretName, namespace: ns },
      stringData: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, pulumi.secret(v)])),
    }, k8sOpts));

    const manifestDeps = [config, tokens, lifecycleToken, ingressToken, stateArgoToken, ...dbSecrets, ...workloadSecrets, ...(args.dependsOn ?? [])];
    if (!deploy) {
      // Nothing to apply yet (docs/infra.md, "First run").
    } else if (args.delivery.mode === 'pulumi') {
      const dir = resolve(manifestsDirOf(args.delivery));
      // Every file when the cluster can take every kind; else the list without the
      // Prometheus-operator files (ConfigGroup globs cannot exclude).
      const files = args.prometheusOperator ? [join(dir, '**', '*.yaml')] : deliveredManifests(dir, false).map((f) => join(dir, f));
      new k8s.yaml.ConfigGroup(`${name}-manifests`, { files }, { ...k8sOpts, dependsOn: manifestDeps });
    } else {
      this.application = this.syncWithArgoCd(name, args.delivery, ns, k8sOpts, manifestDeps, args.prometheusOperator ?? false);
    }
    this.registerOutputs({ stateUrl: STATE_URL, application: this.application });
  }

  private syncWithArgoCd(
    name: string,
    delivery: Extract<ManifestDelivery, { mode: 'gitops' }>,
    ns: pulumi.Input<string>,
    k8sOpts: pulumi.CustomResourceOptions,
    dependsOn: pulumi.Input<pulumi.Resource>[],
    prometheusOperator: boolean,
  ): pulumi.Output<string> {
    // Argo CD's `exclude` is one glob over paths relative to `path`.
    const excluded = PROMETHEUS_OPERATOR_MANIFESTS.length === 1 ? PROMETHEUS_OPERATOR_MANIFESTS[0]! : `{${PROMETHEUS_OPERATOR_MANIFESTS.join(',')}}`;
    const directory = prometheusOperator ? { recurse: true } : { recurse: true, exclude: excluded };
    const argocd = new k8s.helm.v3.Release(`${name}-argocd`, {
      name: 'argo-cd',
      ...chartSource(CHARTS.argoCd),
      namespace: 'argocd',
      createNamespace: true,
      values: { global: SYSTEM_POOL },
    }, k8sOpts);
    const app = new k8s.apiextensions.CustomResource(`${name}-application`, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'swoop-manifests', namespace: 'argocd' },
      spec: {
        project: 'default',
        source: { repoURL: delivery.repoUrl, targetRevision: delivery.revision, path: delivery.path, directory },
        destination: { server: 'https://kubernetes.default.svc', namespace: ns },
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          syncOptions: ['ServerSideApply=true'],
          retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
        },
      },
    }, { ...k8sOpts, dependsOn: [argocd, ...dependsOn] });
    return app.metadata.name;
  }
}
