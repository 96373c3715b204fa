import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { CHARTS, chartSource } from './charts';
import { SYSTEM_POOL } from './scheduling';
import { podIdentityTrustPolicy, policyDocument } from './iam';
import type { Cluster } from './cluster';

export interface SecretsSyncArgs {
  readonly cluster: Cluster;
  /** Secrets Manager secrets the operator may read; nothing else is readable. */
  readonly secretArns: pulumi.Input<string>[];
  /** KMS keys those secrets are encrypted with. */
  readonly keyArns: pulumi.Input<string>[];
  /** Namespaces allowed to use the store. */
  readonly namespaces: string[];
}

export interface SyncedSecretArgs {
  readonly namespace: pulumi.Input<string>;
  /** Name of the Kubernetes Secret to maintain. */
  readonly name: string;
  /** Secrets Manager secret whose JSON keys (`username`, `password`) feed the template. */
  readonly remoteSecretArn: pulumi.Input<string>;
  /** Secret keys to Go templates over the remote JSON, e.g. `{{ .password }}`. */
  readonly template: Record<string, pulumi.Input<string>>;
}

/** Name of the ClusterSecretStore SecretsSync creates. */
export const SECRET_STORE = 'aws-secrets-manager';

/**
 * External Secrets Operator reading Secrets Manager through Pod Identity. This is how the
 * RDS master password, which Pulumi never sees, reaches the pods that need it: Kubernetes
 * Secrets are rendered in the cluster and follow rotations (refresh hourly).
 */
export class SecretsSync extends pulumi.ComponentResource {
  private readonly store: k8s.apiextensions.CustomResource;
  private readonly provider: k8s.Provider;

  constructor(name: string, args: SecretsSyncArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:SecretsSync', name, {}, opts);
    const parent = { parent: this };
    this.provider = args.cluster.provider;
    const role = new aws.iam.Role(`${name}-eso`, {
      assumeRolePolicy: podIdentityTrustPolicy({ clusterName: args.cluster.name, namespace: 'external-secrets', serviceAccount: 'external-secrets' }),
    }, parent);
    new aws.iam.RolePolicy(`${name}-eso`, {
      role: role.id,
      policy: policyDocument([
        { Sid: 'ReadListedSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: args.secretArns },
        { Sid: 'DecryptListedSecrets', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: args.keyArns },
      ]),
    }, parent);
    const association = args.cluster.bindServiceAccount(`${name}-eso`, 'external-secrets', 'external-secrets', role.arn, this);

    const k8sOpts = { parent: this, provider: this.provider };
    const release = new k8s.helm.v3.Release(`${name}-external-secrets`, {
      name: 'external-secrets',
      ...chartSource(CHARTS.externalSecrets),
      namespace: 'external-secrets',
      createNamespace: true,
      values: {
        installCRDs: true,
        serviceAccount: { create: true, name: 'external-secrets' },
        ...SYSTEM_POOL,
        webhook: SYSTEM_POOL,
        certController: SYSTEM_POOL,
      },
    }, { ...k8sOpts, dependsOn: [association] });

    this.store = new k8s.apiextensions.CustomResource(`${name}-store`, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ClusterSecretStore',
      metadata: { name: SECRET_STORE },
      spec: {
        provider: { aws: { service: 'SecretsManager', region: args.cluster.arn.apply((arn) => arn.split(':')[3]) } },
        conditions: [{ namespaces: args.namespaces }],
      },
    }, { ...k8sOpts, dependsOn: [release] });
    this.registerOutputs({ roleArn: role.arn });
  }

  /** Keeps a Kubernetes Secret rendered from a Secrets Manager secret. */
  syncSecret(id: string, args: SyncedSecretArgs, opts?: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(id, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: args.name, namespace: args.namespace },
      spec: {
        refreshInterval: '1h',
        secretStoreRef: { kind: 'ClusterSecretStore', name: SECRET_STORE },
        target: { name: args.name, creationPolicy: 'Owner', template: { engineVersion: 'v2', data: args.template } },
        dataFrom: [{ extract: { key: args.remoteSecretArn } }],
      },
    }, { parent: this, provider: this.provider, ...opts, dependsOn: [this.store, ...((opts?.dependsOn as pulumi.Resource[] | undefined) ?? [])] });
  }
}
