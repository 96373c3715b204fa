import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { stringify } from 'yaml';
import { argoUiUrl } from '../stacks/environment';
import { CHARTS, chartSource } from './charts';
import { SYSTEM_POOL } from './scheduling';
import { SSO_ACCOUNTS, ssoRbacObjects, tokenSecretName, type SsoGroups } from './argo-sso-rbac';
import type { Cluster } from './cluster';
import type { SecretsSync } from './secrets-sync';

export type ArgoServerAuthMode = 'client' | 'sso';

export interface ArgoSsoArgs extends SsoGroups {
  /** OIDC issuer URL. */
  readonly issuer: string;
  readonly clientId: pulumi.Input<string>;
  /** Kept as a Pulumi secret and written to the `argo-server-sso` Secret. */
  readonly clientSecret: pulumi.Input<string>;
  /** `https://<argo host>/oauth2/callback`. */
  readonly redirectUrl: string;
}

/** An internal ALB in front of the Argo server (the AWS Load Balancer Controller serves it). */
export interface ArgoIngressArgs {
  /** DNS name users reach the UI at; the ACM certificate must cover it. */
  readonly host: string;
  /** ACM certificate the ALB's HTTPS listener presents. */
  readonly certificateArn: pulumi.Input<string>;
  /** Source CIDRs the ALB accepts (it is internal either way). */
  readonly inboundCidrs: pulumi.Input<string>[];
}

/** TLS policy of the ALB listener: TLS 1.3 and 1.2 only. */
export const ALB_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

/** Annotations of the Argo server Ingress for the AWS Load Balancer Controller. */
export function argoIngressAnnotations(certificateArn: string, inboundCidrs: string[]): Record<string, string> {
  return {
    'alb.ingress.kubernetes.io/scheme': 'internal',
    'alb.ingress.kubernetes.io/target-type': 'ip',
    // argo-server itself serves TLS (server.secure): the ALB re-encrypts to it.
    'alb.ingress.kubernetes.io/backend-protocol': 'HTTPS',
    'alb.ingress.kubernetes.io/healthcheck-path': '/',
    'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS":443}]',
    'alb.ingress.kubernetes.io/certificate-arn': certificateArn,
    'alb.ingress.kubernetes.io/ssl-policy': ALB_SSL_POLICY,
    'alb.ingress.kubernetes.io/inbound-cidrs': inboundCidrs.join(','),
  };
}

export interface ArgoArgs {
  readonly cluster: Cluster;
  /** Namespace of workflows, sensors and the event bus. Default `swoop`. */
  readonly workflowNamespace?: string;
  /** Service account workflow pods run as (bound to the bucket role). Default `swoop-workflow`. */
  readonly workflowServiceAccount?: string;
  readonly bucketName: pulumi.Input<string>;
  readonly bucketKeyArn: pulumi.Input<string>;
  /** Prefix of artifacts and archived logs in the bucket. Default `artifacts`. */
  readonly artifactPrefix?: string;
  /** State database holding the workflow archive (database `argo` on that instance). */
  readonly database: {
    readonly host: pulumi.Input<string>;
    readonly port: pulumi.Input<number>;
    /** Master user secret: only the Job creating the archive's role and database uses it. */
    readonly secretArn: pulumi.Input<string>;
    /** The archive's own login (ARCHIVE_ROLE), which the controller connects as. */
    readonly archiveSecretArn: pulumi.Input<string>;
  };
  readonly secrets: SecretsSync;
  /** Argo server auth modes; `server` (no auth) is refused. Default `['client']`. */
  readonly serverAuthModes?: ArgoServerAuthMode[];
  readonly sso?: ArgoSsoArgs;
  /** Internal ALB Ingress for the server; without it, reach the server with `kubectl port-forward`. */
  readonly ingress?: ArgoIngressArgs;
  /**
   * The JetStream EventBus `default` in the workflow namespace, with its replicas (odd, at
   * least 3 for quorum). `false` when the synthesized manifests bring their own (the events
   * layer's PlatformEvents does). Default `{ replicas: 3 }`.
   */
  readonly eventBus?: { readonly replicas?: number } | false;
  /** Days archived workflows are kept before the controller deletes them (`persistence.archiveTTL`). Default 180. */
  readonly archiveTtlDays?: number;
  /** Image used once to create the archive database. Default `postgres:17-alpine`. */
  readonly psqlImage?: string;
}

export const ARGO_NAMESPACE = 'argo';
/** Service account of the Argo server (it reads artifacts and logs for the UI). */
export const ARGO_SERVER_SERVICE_ACCOUNT = 'argo-workflows-server';
/** Service account workflow pods run as (docs/contracts.md). */
export const WORKFLOW_SERVICE_ACCOUNT = 'swoop-workflow';
export const ARGO_EVENTS_NAMESPACE = 'argo-events';
/** JetStream version known to the pinned argo-events chart (`configs.jetstream.versions`). */
export const JETSTREAM_VERSION = '2.10.10';

/**
 * What the archive database Job runs as the master user: the archive's own role (created,
 * or its password reset) and its database, owned by that role, so Argo creates its tables
 * there and can touch nothing else. psql quotes the values (:'name') and \gexec runs the
 * statements built from them; every step is idempotent. The master joins the role first:
 * creating a database owned by a role takes the right to SET ROLE to it (PostgreSQL 16+).
 */
export const ARCHIVE_DATABASE_SCRIPT = `psql -v ON_ERROR_STOP=1 -v role="$ARCHIVE_USER" -v password="$ARCHIVE_PASSWORD" -v database="$ARCHIVE_DATABASE" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password') \\gexec
SELECT format('GRANT %I TO CURRENT_USER', :'role') \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \\gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'database', :'role') \\gexec
SQL`;

/** The `default` entry of the artifact-repositories ConfigMap (an Argo ArtifactRepository). */
export function artifactRepository(bucket: string, region: string, keyArn: string, prefix = 'artifacts'): Record<string, unknown> {
  return {
    archiveLogs: true,
    s3: {
      bucket,
      endpoint: 's3.amazonaws.com',
      region,
      insecure: false,
      useSDKCreds: true,
      keyFormat: `${prefix}/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}`,
      encryptionOptions: { enableEncryption: true, kmsKeyId: keyArn },
    },
  };
}

/**
 * Argo Workflows and Argo Events from pinned Helm charts, plus what the workflow namespace
 * needs from them: the workflow service account and its RBAC, the `artifact-repositories`
 * ConfigMap (S3 through Pod Identity, SSE-KMS), the workflow archive in PostgreSQL, and
 * (unless the manifests bring it) a three-replica NATS JetStream EventBus. The Argo server
 * never runs in `server` auth mode.
 */
export class Argo extends pulumi.ComponentResource {
  public readonly workflowNamespace: pulumi.Output<string>;
  /** In-cluster URL of the Argo server (reach it with `kubectl -n argo port-forward`). */
  public readonly serverUrl: pulumi.Output<string>;
  /** Where operators open the UI: the ingress host, or localhost through `kubectl -n argo port-forward`. */
  public readonly url: pulumi.Output<string>;
  public readonly workflowsRelease: k8s.helm.v3.Release;
  public readonly eventsRelease: k8s.helm.v3.Release;
  /** Undefined when `eventBus: false` (the manifests bring it). */
  public readonly eventBus?: k8s.apiextensions.CustomResource;

  constructor(name: string, args: ArgoArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:Argo', name, {}, opts);
    const authModes = args.serverAuthModes ?? ['client'];
    for (const mode of authModes as string[]) {
      if (mode !== 'client' && mode !== 'sso') {
        throw new Error(`Argo serverAuthModes: "${mode}" is not allowed; use "client" and/or "sso" (the "server" mode serves the API without authentication)`);
      }
    }
    if (authModes.length === 0) throw new Error('Argo serverAuthModes must list at least one of "client", "sso"');
    if (authModes.includes('sso') !== Boolean(args.sso)) {
      throw new Error('Argo: the "sso" auth mode and the sso settings (issuer, clientId, clientSecret, redirectUrl) go together');
    }
    const replicas = args.eventBus === false ? 3 : args.eventBus?.replicas ?? 3;
    if (!Number.isInteger(replicas) || replicas < 3 || replicas % 2 === 0) {
      throw new Error(`Argo eventBus.replicas must be an odd number >= 3 for a JetStream quorum (got ${replicas})`);
    }
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const wfNs = args.workflowNamespace ?? 'swoop';
    const wfSa = args.workflowServiceAccount ?? WORKFLOW_SERVICE_ACCOUNT;
    const region = args.cluster.arn.apply((arn) => arn.split(':')[3]);

    const namespaces = [wfNs, ARGO_NAMESPACE, ARGO_EVENTS_NAMESPACE].map(
      (ns) => new k8s.core.v1.Namespace(`${name}-ns-${ns}`, { metadata: { name: ns } }, k8sOpts),
    );
    this.workflowNamespace = namespaces[0].metadata.name;

    // The controller's credentials are the archive's own role; the master user's are for the
    // Job below only.
    const login = (id: string, secretName: string, remoteSecretArn: pulumi.Input<string>) => args.secrets.syncSecret(`${name}-${id}`, {
      namespace: ARGO_NAMESPACE,
      name: secretName,
      remoteSecretArn,
      template: { username: '{{ .username }}', password: '{{ .password }}' },
    }, { dependsOn: [namespaces[1]] });
    const dbSecrets = [login('archive-db', 'argo-postgres-config', args.database.archiveSecretArn), login('archive-db-owner', 'argo-postgres-owner', args.database.secretArn)];
    const createDb = new k8s.batch.v1.Job(`${name}-archive-db`, {
      metadata: { name: 'argo-archive-database', namespace: ARGO_NAMESPACE },
      spec: {
        backoffLimit: 10,
        template: {
          spec: {
            restartPolicy: 'OnFailure',
            ...SYSTEM_POOL,
            securityContext: { runAsNonRoot: true, runAsUser: 70, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'create-database',
              image: args.psqlImage ?? 'postgres:17-alpine',
              command: ['sh', '-c', ARCHIVE_DATABASE_SCRIPT],
              env: [
                { name: 'PGHOST', value: args.database.host },
                { name: 'PGPORT', value: pulumi.output(args.database.port).apply(String) },
                { name: 'PGDATABASE', value: 'postgres' },
                { name: 'PGSSLMODE', value: 'require' },
                { name: 'PGUSER', valueFrom: { secretKeyRef: { name: 'argo-postgres-owner', key: 'username' } } },
                { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: 'argo-postgres-owner', key: 'password' } } },
                { name: 'ARCHIVE_USER', valueFrom: { secretKeyRef: { name: 'argo-postgres-config', key: 'username' } } },
                { name: 'ARCHIVE_PASSWORD', valueFrom: { secretKeyRef: { name: 'argo-postgres-config', key: 'password' } } },
                { name: 'ARCHIVE_DATABASE', value: 'argo' },
              ],
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            }],
          },
        },
      },
    }, { ...k8sOpts, dependsOn: dbSecrets });

    const ssoSecret = args.sso
      ? new k8s.core.v1.Secret(`${name}-sso`, {
        metadata: { name: 'argo-server-sso', namespace: ARGO_NAMESPACE },
        stringData: { 'client-id': args.sso.clientId, 'client-secret': args.sso.clientSecret },
      }, { ...k8sOpts, dependsOn: [namespaces[1]] })
      : undefined;
    // The accounts SSO users act as (rbac-rule annotations), and what each may do.
    const ssoRbac = args.sso
      ? ssoRbacObjects({ serverNamespace: ARGO_NAMESPACE, workflowNamespace: wfNs, groups: args.sso }).map((obj) => declare(`${name}-sso-${obj.kind.toLowerCase()}-${obj.metadata.namespace}-${obj.metadata.name}`, obj, { ...k8sOpts, dependsOn: namespaces }))
      : [];
    const ingressValues = args.ingress
      ? {
        ingress: {
          enabled: true,
          ingressClassName: 'alb',
          hosts: [args.ingress.host],
          paths: ['/'],
          pathType: 'Prefix',
          annotations: pulumi.all([args.ingress.certificateArn, pulumi.all(args.ingress.inboundCidrs)]).apply(([arn, cidrs]) => argoIngressAnnotations(arn, cidrs)),
        },
      }
      : {};

    this.workflowsRelease = new k8s.helm.v3.Release(`${name}-workflows`, {
      name: 'argo-workflows',
      ...chartSource(CHARTS.argoWorkflows),
      namespace: ARGO_NAMESPACE,
      values: {
        workflow: {
          serviceAccount: { create: true, name: wfSa },
          rbac: { create: true, agentPermissions: true, artifactGC: true },
        },
        controller: {
          workflowNamespaces: [wfNs],
          ...SYSTEM_POOL,
          persistence: {
            archive: true,
            archiveTTL: `${args.archiveTtlDays ?? 180}d`,
            nodeStatusOffLoad: true,
            postgresql: {
              host: args.database.host,
              port: args.database.port,
              database: 'argo',
              tableName: 'argo_workflows',
              userNameSecret: { name: 'argo-postgres-config', key: 'username' },
              passwordSecret: { name: 'argo-postgres-config', key: 'password' },
              ssl: true,
              sslMode: 'require',
            },
          },
          workflowDefaults: {
            spec: {
              serviceAccountName: wfSa,
              artifactRepositoryRef: { configMap: 'artifact-repositories', key: 'default' },
              // The archive keeps history; finished Workflow objects need not stay in etcd.
              ttlStrategy: { secondsAfterCompletion: 86_400 },
              podGC: { strategy: 'OnPodSuccess' },
            },
          },
        },
        server: {
          authModes,
          secure: true,
          ...SYSTEM_POOL,
          serviceAccount: { create: true, name: ARGO_SERVER_SERVICE_ACCOUNT },
          ...(args.sso ? {
            sso: {
              enabled: true,
              issuer: args.sso.issuer,
              redirectUrl: args.sso.redirectUrl,
              // The groups claim is what the rbac-rule annotations match on.
              scopes: ['groups'],
              // The server may read only the token Secrets of the SSO accounts.
              rbac: { enabled: true, secretWhitelist: SSO_ACCOUNTS.map((a) => tokenSecretName(a.name)) },
            },
          } : {}),
          ...ingressValues,
        },
        useStaticCredentials: false,
      },
    }, { ...k8sOpts, dependsOn: [...namespaces, createDb, ...(ssoSecret ? [ssoSecret] : []), ...ssoRbac] });

    new k8s.core.v1.ConfigMap(`${name}-artifact-repositories`, {
      metadata: {
        name: 'artifact-repositories',
        namespace: this.workflowNamespace,
        annotations: { 'workflows.argoproj.io/default-artifact-repository': 'default' },
      },
      data: {
        default: pulumi.all([args.bucketName, region, args.bucketKeyArn]).apply(([bucket, r, key]) =>
          stringify(artifactRepository(bucket, r, key, args.artifactPrefix))),
      },
    }, k8sOpts);

    this.eventsRelease = new k8s.helm.v3.Release(`${name}-events`, {
      name: 'argo-events',
      ...chartSource(CHARTS.argoEvents),
      namespace: ARGO_EVENTS_NAMESPACE,
      values: {
        crds: { install: true, keep: true },
        controller: { replicas: 1, ...SYSTEM_POOL },
        configs: { jetstream: { streamConfig: { replicas: Math.min(replicas, 3), maxAge: '72h' } } },
      },
    }, { ...k8sOpts, dependsOn: namespaces });

    this.eventBus = args.eventBus === false ? undefined : new k8s.apiextensions.CustomResource(`${name}-eventbus`, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'EventBus',
      metadata: { name: 'default', namespace: this.workflowNamespace },
      spec: {
        jetstream: {
          version: JETSTREAM_VERSION,
          replicas,
          persistence: { storageClassName: 'gp3-encrypted', accessMode: 'ReadWriteOnce', volumeSize: '20Gi' },
          ...SYSTEM_POOL,
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [{
                weight: 100,
                podAffinityTerm: { topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { 'eventbus-name': 'default' } } },
              }],
            },
          },
        },
      },
    }, { ...k8sOpts, dependsOn: [this.eventsRelease] });

    this.serverUrl = pulumi.output(`https://argo-workflows-server.${ARGO_NAMESPACE}.svc.cluster.local:2746`);
    this.url = pulumi.output(argoUiUrl(args.ingress?.host));
    this.registerOutputs({ workflowNamespace: this.workflowNamespace, serverUrl: this.serverUrl, url: this.url });
  }
}

/** Declares a plain Kubernetes object of the SSO RBAC set as its typed Pulumi resource. */
function declare(id: string, obj: Record<string, any>, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
  switch (obj.kind) {
    case 'ServiceAccount': return new k8s.core.v1.ServiceAccount(id, obj, opts);
    case 'Secret': return new k8s.core.v1.Secret(id, obj, opts);
    case 'Role': return new k8s.rbac.v1.Role(id, obj, opts);
    case 'RoleBinding': return new k8s.rbac.v1.RoleBinding(id, obj as k8s.rbac.v1.RoleBindingArgs, opts);
    default: throw new Error(`no Pulumi type for ${obj.kind}`);
  }
}
