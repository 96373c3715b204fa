import { join, resolve } from 'node:path';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { CHARTS } from './charts';
import { SYSTEM_POOL } from './scheduling';
import type { Cluster } from './cluster';
import type { SecretsSync } from './secrets-sync';

/** How the synthesized manifests in `dist/` reach the cluster. */
export type ManifestDelivery =
  /**
   * Pulumi applies `<manifestsDir>/**\/*.yaml` itself (one tool, changes show in `pulumi
   * preview`). `manifestsDir` defaults to `dist` under the working directory, which is the
   * project root under `pulumi up`.
   */
  | { readonly mode: 'pulumi'; readonly manifestsDir?: string }
  /** Argo CD syncs `path` of `repoUrl` at `revision` (merges to main deploy themselves). */
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
    readonly secretArn: pulumi.Input<string>;
  };
  readonly secrets: SecretsSync;
  /** Image of the state service (runs `npm run state:migrate` and `npm run state:serve`). */
  readonly stateImage: string;
  /** State service replicas. Default 2. */
  readonly stateReplicas?: number;
  readonly delivery: ManifestDelivery;
  /** Service account of workflow pods, whose agent reads the state token Secret. Default `swoop-workflow`. */
  readonly workflowServiceAccount?: string;
  /** Resources the manifests need first (the Argo releases: their CRDs). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** In-cluster URLs fixed by docs/contracts.md. */
export const STATE_URL = 'http://swoop-state.swoop.svc.cluster.local:8080';
export const LIFECYCLE_URL = 'http://swoop-lifecycle-eventsource-svc.swoop.svc.cluster.local:12000/lifecycle';
export const STATE_PORT = 8080;

/**
 * What the workflows and the events layer expect to find in their namespace
 * (docs/contracts.md, constructs/events/names.ts): the `swoop-platform` ConfigMap, the token
 * Secrets (state writer/reader, lifecycle and ingress webhooks), the `swoop-state-db` Secret rendered from the
 * RDS master secret, the state service (migration Job first, then the Deployment and its
 * Service), and the synthesized manifests, applied here or synced by Argo CD.
 */
export class Platform extends pulumi.ComponentResource {
  public readonly stateUrl = STATE_URL;
  /** The Argo CD Application name in gitops mode. */
  public readonly application?: pulumi.Output<string>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:Platform', name, {}, opts);
    const ns = args.namespace;
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const replicas = args.stateReplicas ?? 2;
    if (!/^[^\s:]+(:[^\s]+|@sha256:[0-9a-f]{64})$/.test(args.stateImage) || args.stateImage.endsWith(':latest')) {
      throw new Error(`Platform stateImage must be a pinned image reference "repo:tag" or "repo@sha256:..." other than :latest (got "${args.stateImage}")`);
    }

    const config = new k8s.core.v1.ConfigMap(`${name}-config`, {
      // Argo reads workflow parameters' configMapKeyRef only from ConfigMaps with this label.
      metadata: { name: 'swoop-platform', namespace: ns, labels: { 'workflows.argoproj.io/configmap-type': 'Parameter' } },
      data: {
        'payload-store': pulumi.interpolate`s3://${args.bucketName}/${args.payloadPrefix ?? 'payloads'}`,
        'state-url': STATE_URL,
        'lifecycle-url': LIFECYCLE_URL,
      },
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
    // the API as the workflow service account: that one Secret, read-only, nothing else.
    const agentRole = new k8s.rbac.v1.Role(`${name}-agent-secrets`, {
      metadata: { name: 'swoop-workflow-agent-secrets', namespace: ns },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['swoop-state-tokens'], verbs: ['get'] }],
    }, k8sOpts);
    new k8s.rbac.v1.RoleBinding(`${name}-agent-secrets`, {
      metadata: { name: 'swoop-workflow-agent-secrets', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'swoop-workflow-agent-secrets' },
      subjects: [{ kind: 'ServiceAccount', name: args.workflowServiceAccount ?? 'swoop-workflow', namespace: ns }],
    }, { ...k8sOpts, dependsOn: [agentRole] });

    const db = args.database;
    const dbSecret = args.secrets.syncSecret(`${name}-state-db`, {
      namespace: ns,
      name: 'swoop-state-db',
      remoteSecretArn: db.secretArn,
      template: {
        url: pulumi.interpolate`postgres://{{ .username | urlquery }}:{{ .password | urlquery }}@${db.host}:${db.port}/${db.databaseName}?sslmode=require`,
      },
    });

    // Variable names are the state service's (state/config.ts).
    const env = [
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'swoop-state-db', key: 'url' } } },
      { name: 'STATE_WRITE_TOKEN', valueFrom: { secretKeyRef: { name: 'swoop-state-tokens', key: 'writer' } } },
      { name: 'STATE_READ_TOKEN', valueFrom: { secretKeyRef: { name: 'swoop-state-tokens', key: 'reader' } } },
      { name: 'LIFECYCLE_URL', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'lifecycle-url' } } },
      { name: 'LIFECYCLE_TOKEN', valueFrom: { secretKeyRef: { name: 'swoop-lifecycle-token', key: 'token' } } },
      { name: 'PORT', value: String(STATE_PORT) },
      // npm writes its cache and logs under HOME; the root filesystem is read-only.
      { name: 'HOME', value: '/tmp' },
    ];
    const hardened = {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    };
    const labels = { 'app.kubernetes.io/name': 'swoop-state', 'app.kubernetes.io/part-of': 'swoop' };
    const sa = new k8s.core.v1.ServiceAccount(`${name}-state`, { metadata: { name: 'swoop-state', namespace: ns }, automountServiceAccountToken: false }, k8sOpts);

    // Pulumi waits for the Job to succeed before rolling the Deployment.
    const migrate = new k8s.batch.v1.Job(`${name}-state-migrate`, {
      metadata: { name: 'swoop-state-migrate', namespace: ns, labels },
      spec: {
        backoffLimit: 6,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'OnFailure',
            serviceAccountName: 'swoop-state',
            ...SYSTEM_POOL,
            containers: [{
              name: 'migrate',
              image: args.stateImage,
              command: ['npm', 'run', 'state:migrate'],
              env: env.filter((e) => e.name === 'DATABASE_URL' || e.name === 'HOME'),
              securityContext: hardened,
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    }, { ...k8sOpts, dependsOn: [dbSecret, sa] });

    new k8s.apps.v1.Deployment(`${name}-state`, {
      metadata: { name: 'swoop-state', namespace: ns, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'swoop-state',
            ...SYSTEM_POOL,
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } }],
            containers: [{
              name: 'state',
              image: args.stateImage,
              command: ['npm', 'run', 'state:serve'],
              ports: [{ name: 'http', containerPort: STATE_PORT }],
              env,
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 20, failureThreshold: 3 },
              resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
              securityContext: hardened,
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    }, { ...k8sOpts, dependsOn: [migrate, config, tokens, lifecycleToken] });

    new k8s.core.v1.Service(`${name}-state`, {
      metadata: { name: 'swoop-state', namespace: ns, labels },
      spec: { selector: labels, ports: [{ name: 'http', port: STATE_PORT, targetPort: 'http' }] },
    }, k8sOpts);

    const manifestDeps = [config, tokens, lifecycleToken, ingressToken, ...(args.dependsOn ?? [])];
    if (args.delivery.mode === 'pulumi') {
      const dir = resolve(args.delivery.manifestsDir ?? 'dist');
      new k8s.yaml.ConfigGroup(`${name}-manifests`, { files: [join(dir, '**', '*.yaml')] }, { ...k8sOpts, dependsOn: manifestDeps });
    } else {
      this.application = this.syncWithArgoCd(name, args.delivery, ns, k8sOpts, manifestDeps);
    }
    this.registerOutputs({ stateUrl: STATE_URL, application: this.application });
  }

  private syncWithArgoCd(
    name: string,
    delivery: Extract<ManifestDelivery, { mode: 'gitops' }>,
    ns: pulumi.Input<string>,
    k8sOpts: pulumi.CustomResourceOptions,
    dependsOn: pulumi.Input<pulumi.Resource>[],
  ): pulumi.Output<string> {
    const argocd = new k8s.helm.v3.Release(`${name}-argocd`, {
      name: 'argo-cd',
      chart: CHARTS.argoCd.chart,
      version: CHARTS.argoCd.version,
      repositoryOpts: { repo: CHARTS.argoCd.repo },
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
        source: { repoURL: delivery.repoUrl, targetRevision: delivery.revision, path: delivery.path, directory: { recurse: true } },
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
