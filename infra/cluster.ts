import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { encryptionKey } from './kms';
import { serviceTrustPolicy } from './iam';

/** Kubernetes minor versions in EKS standard support that this platform is tested against. */
export const SUPPORTED_KUBERNETES_VERSIONS = ['1.34', '1.35', '1.36'] as const;
export type KubernetesVersion = (typeof SUPPORTED_KUBERNETES_VERSIONS)[number];

export interface ClusterArgs {
  /** EKS cluster name (also names the control plane log group). */
  readonly clusterName: string;
  /** Kubernetes minor version. Default `1.35`. */
  readonly version?: KubernetesVersion;
  readonly vpcId: pulumi.Input<string>;
  /** Subnets of the control plane ENIs: the private node subnets. */
  readonly subnetIds: pulumi.Input<string>[];
  /**
   * CIDRs allowed to reach the public API endpoint. Empty (the default) makes the endpoint
   * private: reachable only from inside the VPC (VPN, bastion, CI runner in the VPC).
   */
  readonly publicAccessCidrs?: string[];
  /** IAM principal ARNs given cluster-admin through access entries. Default none. */
  readonly adminPrincipalArns?: string[];
  /** Days control plane logs are kept. Default 90. */
  readonly logRetentionDays?: number;
  /**
   * Pinned `addonVersion` of the add-ons this component installs (vpc-cni, kube-proxy,
   * eks-pod-identity-agent); unset ones get EKS's default for the Kubernetes version.
   */
  readonly addonVersions?: Partial<Record<EksAddon, string>>;
  /** KMS key deletion window (7 to 30 days). Default 30. */
  readonly keyDeletionWindowDays?: number;
  readonly tags?: Record<string, string>;
}

/** The EKS add-ons the platform installs (Cluster: the first three; NodePools: coredns, EBS CSI; Monitoring: Container Insights). */
export const EKS_ADDONS = ['vpc-cni', 'kube-proxy', 'eks-pod-identity-agent', 'coredns', 'aws-ebs-csi-driver', 'amazon-cloudwatch-observability'] as const;
export type EksAddon = (typeof EKS_ADDONS)[number];

/** Service CIDR of every cluster; the `kubernetes` Service gets its first address. */
export const SERVICE_CIDR = '172.20.0.0/16';
/** ClusterIP of the `kubernetes` Service (the API server), which in-cluster clients dial. */
export const API_SERVICE_IP = '172.20.0.1';

/** The control plane logs every cluster ships (controllerManager/scheduler are opt-in extras). */
export const CONTROL_PLANE_LOGS = ['api', 'audit', 'authenticator'] as const;

/**
 * An EKS control plane: API-only access entries (no aws-auth ConfigMap), envelope encryption
 * of Secrets with a dedicated KMS key, api/audit/authenticator logs, an endpoint that is
 * private unless CIDRs are listed, and the Pod Identity agent so workloads get IAM roles
 * without node credentials. Nodes are added by NodePools.
 */
export class Cluster extends pulumi.ComponentResource {
  public readonly name: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  /** Security group EKS attaches to the control plane and managed nodes. */
  public readonly securityGroupId: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  public readonly secretsKeyArn: pulumi.Output<string>;
  /** Kubernetes minor version, for add-ons that must match it (Cluster Autoscaler). */
  public readonly kubernetesVersion: KubernetesVersion;
  private readonly cluster: aws.eks.Cluster;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:Cluster', name, {}, opts);
    const parent = { parent: this };
    const cidrs = args.publicAccessCidrs ?? [];
    for (const cidr of cidrs) {
      if (cidr === '0.0.0.0/0' || !/^\d{1,3}(\.\d{1,3}){3}\/(\d|[12]\d|3[0-2])$/.test(cidr)) {
        throw new Error(`Cluster publicAccessCidrs: "${cidr}" must be a specific IPv4 CIDR (0.0.0.0/0 is refused; leave the list empty for a private endpoint)`);
      }
    }

    this.kubernetesVersion = args.version ?? '1.35';
    const key = encryptionKey(`${args.clusterName}-secrets`, `EKS ${args.clusterName} Secrets envelope encryption`, this, args.keyDeletionWindowDays, args.tags);
    this.secretsKeyArn = key.arn;

    const role = new aws.iam.Role(`${name}-control-plane`, { assumeRolePolicy: serviceTrustPolicy('eks.amazonaws.com'), tags: args.tags }, parent);
    const policy = new aws.iam.RolePolicyAttachment(`${name}-control-plane`, { role: role.name, policyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' }, parent);

    // Created before the cluster so retention is ours, not "never expire".
    const logs = new aws.cloudwatch.LogGroup(`${name}-control-plane`, {
      name: `/aws/eks/${args.clusterName}/cluster`,
      retentionInDays: args.logRetentionDays ?? 90,
      tags: args.tags,
    }, parent);

    this.cluster = new aws.eks.Cluster(name, {
      name: args.clusterName,
      version: this.kubernetesVersion,
      roleArn: role.arn,
      accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: false },
      encryptionConfig: { provider: { keyArn: key.arn }, resources: ['secrets'] },
      enabledClusterLogTypes: [...CONTROL_PLANE_LOGS],
      vpcConfig: {
        subnetIds: args.subnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: cidrs.length > 0,
        publicAccessCidrs: cidrs.length > 0 ? cidrs : undefined,
      },
      // Fixed (EKS's own choice for a 10.x VPC) so NetworkPolicies can name the API ClusterIP.
      kubernetesNetworkConfig: { serviceIpv4Cidr: SERVICE_CIDR, ipFamily: 'ipv4' },
      upgradePolicy: { supportType: 'STANDARD' },
      tags: args.tags,
    }, { parent: this, dependsOn: [policy, logs] });

    this.name = this.cluster.name;
    this.arn = this.cluster.arn;
    this.endpoint = this.cluster.endpoint;
    this.securityGroupId = this.cluster.vpcConfig.apply((v) => v.clusterSecurityGroupId ?? '');

    for (const [i, principalArn] of (args.adminPrincipalArns ?? []).entries()) {
      this.grantAdmin(`${name}-admin-${i}`, principalArn);
    }

    // Add-ons that must exist before nodes join; coredns needs nodes and lives in NodePools.
    for (const addon of ['vpc-cni', 'kube-proxy', 'eks-pod-identity-agent'] as const) {
      new aws.eks.Addon(`${name}-${addon}`, {
        clusterName: this.cluster.name,
        addonName: addon,
        addonVersion: args.addonVersions?.[addon],
        // The VPC CNI's network policy agent enforces Kubernetes NetworkPolicies.
        ...(addon === 'vpc-cni' ? { configurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }) } : {}),
        resolveConflictsOnCreate: 'OVERWRITE',
        resolveConflictsOnUpdate: 'PRESERVE',
        tags: args.tags,
      }, parent);
    }

    this.kubeconfig = pulumi.secret(kubeconfigFor(this.cluster));
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig, enableServerSideApply: true }, parent);

    this.registerOutputs({ name: this.name, arn: this.arn, endpoint: this.endpoint, kubeconfig: this.kubeconfig });
  }

  /** Gives an IAM principal cluster-admin through an access entry (not aws-auth). */
  grantAdmin(id: string, principalArn: pulumi.Input<string>): aws.eks.AccessPolicyAssociation {
    const entry = new aws.eks.AccessEntry(id, { clusterName: this.cluster.name, principalArn, type: 'STANDARD' }, { parent: this });
    return new aws.eks.AccessPolicyAssociation(id, {
      clusterName: this.cluster.name,
      principalArn,
      policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
      accessScope: { type: 'cluster' },
    }, { parent: this, dependsOn: [entry] });
  }

  /** Binds a Kubernetes service account to an IAM role through EKS Pod Identity. */
  bindServiceAccount(id: string, namespace: string, serviceAccount: string, roleArn: pulumi.Input<string>, parent?: pulumi.Resource): aws.eks.PodIdentityAssociation {
    return new aws.eks.PodIdentityAssociation(id, { clusterName: this.cluster.name, namespace, serviceAccount, roleArn }, { parent: parent ?? this });
  }
}

/** A kubeconfig that authenticates with `aws eks get-token` (no static credentials). */
function kubeconfigFor(cluster: aws.eks.Cluster): pulumi.Output<string> {
  return pulumi
    .all([cluster.name, cluster.endpoint, cluster.certificateAuthority, cluster.arn])
    .apply(([clusterName, endpoint, ca, arn]) => {
      const region = arn.split(':')[3];
      return JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: clusterName, cluster: { server: endpoint, 'certificate-authority-data': ca.data } }],
        contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
        'current-context': clusterName,
        users: [{
          name: clusterName,
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1beta1',
              command: 'aws',
              args: ['eks', 'get-token', '--cluster-name', clusterName, '--region', region, '--output', 'json'],
            },
          },
        }],
      });
    });
}
