import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { COMPUTE_CLASS_LABEL, COMPUTE_CLASSES, GPU_RESOURCE, type ComputeClassName, type ComputeClassSpec } from '../constructs/compute-classes';
import { CHARTS, chartSource } from './charts';
import { SYSTEM_POOL } from './scheduling';
import { podIdentityTrustPolicy, policyDocument, serviceTrustPolicy } from './iam';
import type { Cluster, EksAddon } from './cluster';

export interface NodePoolsArgs {
  readonly cluster: Cluster;
  /** Private subnets nodes launch in. */
  readonly subnetIds: pulumi.Input<string>[];
  /** Compute classes to create pools for. Default: every class in COMPUTE_CLASSES. */
  readonly classes?: readonly ComputeClassName[];
  /** Root volume size per class in GiB. Default 50, GPU classes 100 (CUDA images are large). */
  readonly rootVolumeGiB?: Partial<Record<ComputeClassName, number>>;
  /** Pinned `addonVersion` of coredns and aws-ebs-csi-driver; unset: EKS's default. */
  readonly addonVersions?: Partial<Record<EksAddon, string>>;
  readonly tags?: Record<string, string>;
}

const EFFECTS = { NoSchedule: 'NO_SCHEDULE', NoExecute: 'NO_EXECUTE', PreferNoSchedule: 'PREFER_NO_SCHEDULE' } as const;

/** The EKS-optimized AMI type for a class: the NVIDIA variant (drivers + container toolkit) for GPU pools. */
export function amiTypeFor(spec: ComputeClassSpec): string {
  return spec.gpusPerNode > 0 ? 'AL2023_x86_64_NVIDIA' : 'AL2023_x86_64_STANDARD';
}

/**
 * The `k8s.amazonaws.com/accelerator` value of a GPU instance family: the label Cluster
 * Autoscaler's AWS provider treats as "this node has GPUs", so it does not scale a GPU node
 * down as unready while the device plugin starts, and can size GPU pools from zero
 * (Cluster Autoscaler FAQ, GPU node groups).
 */
export const ACCELERATOR_LABEL = 'k8s.amazonaws.com/accelerator';
const ACCELERATORS: Record<string, string> = {
  g4dn: 'nvidia-tesla-t4', g5: 'nvidia-a10g', g6: 'nvidia-l4', g6e: 'nvidia-l40s', p3: 'nvidia-tesla-v100', p4d: 'nvidia-a100', p5: 'nvidia-h100',
};
export function acceleratorOf(instanceType: string): string {
  const family = instanceType.split('.')[0];
  const accelerator = ACCELERATORS[family];
  if (!accelerator) throw new Error(`NodePools: no ${ACCELERATOR_LABEL} value known for GPU instance type ${instanceType}; add its family to ACCELERATORS in infra/node-pools.ts`);
  return accelerator;
}

/** Node labels of a group: its class, and the accelerator on GPU groups. */
export function nodeLabels(className: string, spec: ComputeClassSpec, instanceType: string): Record<string, string> {
  return { [COMPUTE_CLASS_LABEL]: className, ...(spec.gpusPerNode > 0 ? { [ACCELERATOR_LABEL]: acceleratorOf(instanceType) } : {}) };
}

/**
 * Instance families with the same vCPU and memory per size as the key family (x86_64, so
 * one AMI type): a spot group asks for all of them, so an interruption or a shortage of one
 * spot pool does not leave the group without capacity, while Cluster Autoscaler still sees
 * one shape per group (its AWS docs: mixed types must have the same CPU and memory).
 */
export const SAME_SHAPE_FAMILIES: Record<string, readonly string[]> = {
  m6i: ['m6i', 'm6a', 'm5', 'm7i'],
  r6i: ['r6i', 'r6a', 'r5', 'r7i'],
  c6i: ['c6i', 'c6a', 'c5', 'c7i'],
};

/** The instance types of a group: the type alone on demand; on spot, the type in every same-shape family. */
export function groupInstanceTypes(instanceType: string, spot: boolean): string[] {
  if (!spot) return [instanceType];
  const [family, size] = instanceType.split('.');
  const families = SAME_SHAPE_FAMILIES[family];
  if (!families) throw new Error(`NodePools: spot instance type ${instanceType} has no same-shape families; add "${family}" to SAME_SHAPE_FAMILIES in infra/node-pools.ts`);
  return families.map((f) => `${f}.${size}`);
}

/** Classes whose pods use EBS volumes (system: the JetStream event bus), given one node group per AZ. */
export const ZONAL_CLASSES: readonly ComputeClassName[] = ['system'];

/** `m6i.2xlarge` -> `m6i-2xlarge`, for resource names. */
const slug = (instanceType: string) => instanceType.replace(/\./g, '-');

/**
 * One managed node group per (compute class, instance type), created from COMPUTE_CLASSES so
 * the pools the construct library schedules onto are exactly the pools that exist. A node
 * group per instance type because Cluster Autoscaler models a group by one instance shape:
 * a group mixing m6i.xlarge and m6i.4xlarge would never scale up for a 12-CPU pod. Every
 * group uses a launch template requiring IMDSv2 (hop limit 1: pods cannot borrow the node
 * role, they use Pod Identity) with an encrypted gp3 root volume. Also installs what needs
 * nodes to run: CoreDNS, the EBS CSI driver with an encrypted default StorageClass, the
 * Cluster Autoscaler (scale from zero) and the NVIDIA device plugin on GPU nodes.
 */
export class NodePools extends pulumi.ComponentResource {
  public readonly nodeRoleArn: pulumi.Output<string>;
  /** Node groups keyed `<class>/<instance type>`, plus `/az<n>` for zonal classes. */
  public readonly nodeGroups: Record<string, aws.eks.NodeGroup> = {};

  constructor(name: string, args: NodePoolsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:NodePools', name, {}, opts);
    const parent = { parent: this };
    const { cluster } = args;
    const classes = args.classes ?? (Object.keys(COMPUTE_CLASSES) as ComputeClassName[]);
    if (!classes.includes('system')) {
      throw new Error('NodePools classes must include "system": controllers, CoreDNS and the state service run there');
    }

    const role = new aws.iam.Role(`${name}-node`, { assumeRolePolicy: serviceTrustPolicy('ec2.amazonaws.com'), tags: args.tags }, parent);
    const attachments = [
      'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
      'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
    ].map((policyArn) => new aws.iam.RolePolicyAttachment(`${name}-node-${policyArn.split('/').pop()}`, { role: role.name, policyArn }, parent));
    this.nodeRoleArn = role.arn;

    const clusterName = cluster.name;
    for (const className of classes) {
      const spec: ComputeClassSpec = COMPUTE_CLASSES[className];
      const volumeGiB = args.rootVolumeGiB?.[className] ?? (spec.gpusPerNode > 0 ? 100 : 50);
      const template = new aws.ec2.LaunchTemplate(`${name}-${className}`, {
        metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled' },
        blockDeviceMappings: [{
          deviceName: '/dev/xvda',
          ebs: { volumeSize: volumeGiB, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
        }],
        tagSpecifications: [{ resourceType: 'instance', tags: { ...args.tags, [COMPUTE_CLASS_LABEL]: className } }],
        updateDefaultVersion: true,
        tags: args.tags,
      }, parent);

      // A class hosting EBS-backed pods (the JetStream event bus on the system pool) gets one
      // group per AZ: an EBS volume lives in one AZ, and Cluster Autoscaler can only bring up
      // a node in the volume's AZ when a group is bound to that AZ (its AWS docs' rule).
      const zones = ZONAL_CLASSES.includes(className) ? args.subnetIds.map((subnet, z) => ({ suffix: `-az${z}`, subnets: [subnet] })) : [{ suffix: '', subnets: args.subnetIds }];
      const perZone = (n: number) => Math.ceil(n / zones.length);
      spec.instanceTypes.forEach((instanceType, i) => zones.forEach(({ suffix, subnets }) => {
        const labels = nodeLabels(className, spec, instanceType);
        const id = `${name}-${className}-${slug(instanceType)}${suffix}`;
        // The pool minimum is held by its smallest type; larger types only exist on demand.
        const min = i === 0 ? perZone(spec.scaling.min) : 0;
        const group = new aws.eks.NodeGroup(id, {
          clusterName,
          nodeRoleArn: role.arn,
          subnetIds: subnets,
          amiType: amiTypeFor(spec),
          capacityType: spec.spot ? 'SPOT' : 'ON_DEMAND',
          instanceTypes: groupInstanceTypes(instanceType, spec.spot),
          scalingConfig: { minSize: min, desiredSize: min, maxSize: perZone(spec.scaling.max) },
          launchTemplate: { id: template.id, version: pulumi.interpolate`${template.latestVersion}` },
          labels,
          taints: spec.taints.map((t) => ({ key: t.key, value: t.value, effect: EFFECTS[t.effect] })),
          updateConfig: { maxUnavailablePercentage: 33 },
          tags: args.tags,
        }, { parent: this, dependsOn: attachments, ignoreChanges: ['scalingConfig.desiredSize'] });
        this.nodeGroups[`${className}/${instanceType}${suffix ? `/${suffix.slice(1)}` : ''}`] = group;
        // Node group tags do not reach the Auto Scaling group Cluster Autoscaler reads.
        const asgName = group.resources.apply((r) => r?.[0]?.autoscalingGroups?.[0]?.name ?? '');
        for (const [key, value] of Object.entries(autoscalerTemplateTags(labels, spec))) {
          new aws.autoscaling.Tag(`${id}-${key.split('/').slice(3).join('-')}`, {
            autoscalingGroupName: asgName,
            tag: { key, value, propagateAtLaunch: false },
          }, parent);
        }
      }));
    }
    const systemGroups = Object.entries(this.nodeGroups).filter(([k]) => k.startsWith('system/')).map(([, g]) => g);

    // CoreDNS tolerates CriticalAddonsOnly, so it lands on the system pool once that exists.
    new aws.eks.Addon(`${name}-coredns`, {
      clusterName,
      addonName: 'coredns',
      addonVersion: args.addonVersions?.coredns,
      resolveConflictsOnCreate: 'OVERWRITE',
      resolveConflictsOnUpdate: 'PRESERVE',
      tags: args.tags,
    }, { parent: this, dependsOn: systemGroups });

    // Persistent volumes (the JetStream event bus) need the EBS CSI driver; its role is Pod Identity.
    const ebsRole = new aws.iam.Role(`${name}-ebs-csi`, {
      assumeRolePolicy: podIdentityTrustPolicy({ clusterName, namespace: 'kube-system', serviceAccount: 'ebs-csi-controller-sa' }),
      tags: args.tags,
    }, parent);
    new aws.iam.RolePolicyAttachment(`${name}-ebs-csi`, { role: ebsRole.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy' }, parent);
    new aws.eks.Addon(`${name}-aws-ebs-csi-driver`, {
      clusterName,
      addonName: 'aws-ebs-csi-driver',
      addonVersion: args.addonVersions?.['aws-ebs-csi-driver'],
      podIdentityAssociations: [{ roleArn: ebsRole.arn, serviceAccount: 'ebs-csi-controller-sa' }],
      resolveConflictsOnCreate: 'OVERWRITE',
      resolveConflictsOnUpdate: 'PRESERVE',
      tags: args.tags,
    }, { parent: this, dependsOn: systemGroups });

    const k8sOpts = { parent: this, provider: cluster.provider, dependsOn: systemGroups };
    new k8s.storage.v1.StorageClass(`${name}-gp3-encrypted`, {
      metadata: { name: 'gp3-encrypted', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true' },
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
      reclaimPolicy: 'Delete',
    }, k8sOpts);
    this.installAutoscaler(name, cluster, args.tags, k8sOpts);
    if (classes.some((c) => COMPUTE_CLASSES[c].gpusPerNode > 0)) {
      const gpuClasses = classes.filter((c) => COMPUTE_CLASSES[c].gpusPerNode > 0);
      new k8s.helm.v3.Release(`${name}-nvidia-device-plugin`, {
        name: 'nvidia-device-plugin',
        ...chartSource(CHARTS.nvidiaDevicePlugin),
        namespace: 'kube-system',
        values: {
          // Replaces the chart's default affinity, which waits for NFD labels we do not deploy.
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
            { matchExpressions: [{ key: COMPUTE_CLASS_LABEL, operator: 'In', values: gpuClasses }] },
          ] } } },
          tolerations: [{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }],
        },
      }, k8sOpts);
    }
    this.registerOutputs({ nodeRoleArn: this.nodeRoleArn });
  }

  private installAutoscaler(name: string, cluster: Cluster, tags: Record<string, string> | undefined, k8sOpts: pulumi.CustomResourceOptions): void {
    const parent = { parent: this };
    const role = new aws.iam.Role(`${name}-autoscaler`, {
      assumeRolePolicy: podIdentityTrustPolicy({ clusterName: cluster.name, namespace: 'kube-system', serviceAccount: 'cluster-autoscaler' }),
      tags,
    }, parent);
    new aws.iam.RolePolicy(`${name}-autoscaler`, {
      role: role.id,
      policy: policyDocument([
        // Discovery calls have no resource-level permissions in IAM.
        {
          Sid: 'Describe',
          Effect: 'Allow',
          Action: [
            'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeLaunchConfigurations',
            'autoscaling:DescribeScalingActivities', 'autoscaling:DescribeTags', 'ec2:DescribeImages', 'ec2:DescribeInstanceTypes',
            'ec2:DescribeLaunchTemplateVersions', 'ec2:GetInstanceTypesFromInstanceRequirements', 'eks:DescribeNodegroup',
          ],
          Resource: '*',
        },
        // Scaling only groups tagged as this cluster's.
        {
          Sid: 'ScaleOwnGroups',
          Effect: 'Allow',
          Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
          Resource: '*',
          Condition: { StringEquals: { 'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true', 'aws:ResourceTag/eks:cluster-name': cluster.name } },
        },
      ]),
    }, parent);
    cluster.bindServiceAccount(`${name}-autoscaler`, 'kube-system', 'cluster-autoscaler', role.arn, this);
    new k8s.helm.v3.Release(`${name}-cluster-autoscaler`, {
      name: 'cluster-autoscaler',
      ...chartSource(CHARTS.clusterAutoscaler),
      namespace: 'kube-system',
      values: {
        cloudProvider: 'aws',
        // Cluster Autoscaler is released per Kubernetes minor and should match the control plane.
        image: { tag: `v${cluster.kubernetesVersion}.0` },
        awsRegion: cluster.arn.apply((arn) => arn.split(':')[3]),
        autoDiscovery: { clusterName: cluster.name },
        rbac: { serviceAccount: { create: true, name: 'cluster-autoscaler' } },
        ...SYSTEM_POOL,
        extraArgs: { expander: 'least-waste', 'balance-similar-node-groups': true, 'skip-nodes-with-system-pods': false },
      },
    }, k8sOpts);
  }
}

/**
 * Node-template tags Cluster Autoscaler reads when a group has zero nodes and there is no
 * node to look at: the group's node labels (class, accelerator) and the taints it must assume. (GPU counts come
 * from its built-in instance type table.)
 */
export function autoscalerTemplateTags(labels: Record<string, string>, spec: ComputeClassSpec): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) tags[`k8s.io/cluster-autoscaler/node-template/label/${key}`] = value;
  for (const t of spec.taints) tags[`k8s.io/cluster-autoscaler/node-template/taint/${t.key}`] = `${t.value ?? ''}:${t.effect}`;
  return tags;
}
