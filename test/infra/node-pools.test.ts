import { beforeAll, describe, expect, it } from 'vitest';
import { COMPUTE_CLASS_LABEL, COMPUTE_CLASSES, type ComputeClassName } from '../../constructs/compute-classes';
import { ResourceRecorder, policy, valueOf } from './support/pulumi-mocks';
import { testCluster } from './support/fixtures';

const rec = new ResourceRecorder();
let groupUrns: string[] = [];
const classOf = (inputs: Record<string, any>) => inputs.labels[COMPUTE_CLASS_LABEL] as ComputeClassName;

describe('NodePools (all compute classes)', () => {
  beforeAll(async () => {
    await rec.install('unit');
    const { NodePools } = await import('../../infra/node-pools');
    const cluster = await testCluster();
    const pools = new NodePools('nodes', { cluster, subnetIds: ['subnet-a', 'subnet-b', 'subnet-c'] });
    await valueOf(pools.nodeRoleArn);
    groupUrns = await Promise.all(Object.values(pools.nodeGroups).map((g) => valueOf(g.urn)));
    await rec.settle();
  });

  it('parents its node groups to the component', () => {
    expect(groupUrns.length).toBeGreaterThan(0);
    for (const urn of groupUrns) expect(urn).toContain('::swoop:infra:NodePools$aws:eks/nodeGroup:NodeGroup::');
  });

  it('creates one managed node group per compute class and instance type, labelled with the class', () => {
    const groups = rec.ofType('aws:eks/nodeGroup:NodeGroup');
    const expected = Object.entries(COMPUTE_CLASSES).flatMap(([name, spec]) => spec.instanceTypes.flatMap((t) => (name === 'system' ? [0, 1, 2].map(() => `${name}/${t}`) : [`${name}/${t}`])));
    expect(groups.map((g) => `${classOf(g.inputs)}/${g.inputs.instanceTypes[0]}`).sort()).toEqual(expected.sort());
  });

  it('asks spot groups for several instance types of one shape; on-demand groups for one', () => {
    const groups = rec.ofType('aws:eks/nodeGroup:NodeGroup');
    const sizeOf = (t: string) => t.split('.')[1];
    for (const g of groups) {
      const types: string[] = g.inputs.instanceTypes;
      if (g.inputs.capacityType === 'SPOT') {
        expect(types.length, g.name).toBeGreaterThanOrEqual(3);
        expect(new Set(types.map(sizeOf)).size, `${g.name}: one size`).toBe(1);
        expect(new Set(types).size).toBe(types.length);
      } else expect(types, g.name).toHaveLength(1);
    }
    expect(groups.some((g) => g.inputs.capacityType === 'SPOT')).toBe(true);
    expect(rec.ofType('aws:eks/nodeGroup:NodeGroup').find((g) => g.name === 'nodes-general-m6i-xlarge')!.inputs.instanceTypes).toEqual(['m6i.xlarge', 'm6a.xlarge', 'm5.xlarge', 'm7i.xlarge']);
  });

  it('refuses a spot type without same-shape families, naming where to add them', async () => {
    const { groupInstanceTypes } = await import('../../infra/node-pools');
    expect(() => groupInstanceTypes('x2.large', true)).toThrow('NodePools: spot instance type x2.large has no same-shape families; add "x2" to SAME_SHAPE_FAMILIES in infra/node-pools.ts');
    expect(groupInstanceTypes('x2.large', false)).toEqual(['x2.large']);
  });

  it('carries each class: spot, taints, scaling with the minimum on the smallest type', () => {
    for (const g of rec.ofType('aws:eks/nodeGroup:NodeGroup')) {
      const spec = COMPUTE_CLASSES[classOf(g.inputs)];
      const first = g.inputs.instanceTypes[0] === spec.instanceTypes[0];
      expect(g.inputs.capacityType).toBe(spec.spot ? 'SPOT' : 'ON_DEMAND');
      expect(g.inputs.taints).toEqual(spec.taints.map((t) => ({ key: t.key, value: t.value, effect: { NoSchedule: 'NO_SCHEDULE', NoExecute: 'NO_EXECUTE', PreferNoSchedule: 'PREFER_NO_SCHEDULE' }[t.effect] })));
      if (classOf(g.inputs) === 'system') continue; // one group per AZ, below
      expect(g.inputs.scalingConfig).toEqual({ minSize: first ? spec.scaling.min : 0, desiredSize: first ? spec.scaling.min : 0, maxSize: spec.scaling.max });
      expect(g.inputs.subnetIds).toEqual(['subnet-a', 'subnet-b', 'subnet-c']);
    }
  });

  it('gives the system pool (the EBS-backed event bus) one node group per AZ, its bounds split across them', () => {
    const system = rec.ofType('aws:eks/nodeGroup:NodeGroup').filter((g) => classOf(g.inputs) === 'system');
    expect(system.map((g) => g.inputs.subnetIds)).toEqual([['subnet-a'], ['subnet-b'], ['subnet-c']]);
    const { min, max } = COMPUTE_CLASSES.system.scaling;
    for (const g of system) expect(g.inputs.scalingConfig).toEqual({ minSize: Math.ceil(min / 3), desiredSize: Math.ceil(min / 3), maxSize: Math.ceil(max / 3) });
    // Every group's ASG carries its own template tags.
    expect(new Set(rec.ofType('aws:autoscaling/tag:Tag').map((t) => t.inputs.autoscalingGroupName).filter((n) => n.includes('system'))).size).toBe(3);
  });

  it('runs GPU pools on the EKS NVIDIA AMI, tainted nvidia.com/gpu, scaling from zero', () => {
    const gpu = rec.ofType('aws:eks/nodeGroup:NodeGroup').filter((g) => classOf(g.inputs) === 'gpu');
    expect(gpu.length).toBe(COMPUTE_CLASSES.gpu.instanceTypes.length);
    for (const g of gpu) {
      expect(g.inputs.amiType).toBe('AL2023_x86_64_NVIDIA');
      expect(g.inputs.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'true', effect: 'NO_SCHEDULE' }]);
      expect(g.inputs.scalingConfig.minSize).toBe(0);
      expect(g.inputs.instanceTypes[0]).toMatch(/^(g|p)\d/);
    }
    for (const g of rec.ofType('aws:eks/nodeGroup:NodeGroup').filter((x) => classOf(x.inputs) !== 'gpu')) expect(g.inputs.amiType).toBe('AL2023_x86_64_STANDARD');
  });

  it('launches every node from a template requiring IMDSv2 (hop limit 1) with an encrypted gp3 root volume', () => {
    const templates = rec.ofType('aws:ec2/launchTemplate:LaunchTemplate');
    expect(templates).toHaveLength(Object.keys(COMPUTE_CLASSES).length);
    for (const t of templates) {
      expect(t.inputs.metadataOptions).toMatchObject({ httpTokens: 'required', httpPutResponseHopLimit: 1, httpEndpoint: 'enabled' });
      expect(t.inputs.blockDeviceMappings[0].ebs).toMatchObject({ volumeType: 'gp3', encrypted: 'true' });
    }
    for (const g of rec.ofType('aws:eks/nodeGroup:NodeGroup')) {
      expect(templates.map((t) => `${t.name}-id`)).toContain(g.inputs.launchTemplate.id);
    }
    expect(rec.one('aws:ec2/launchTemplate:LaunchTemplate', 'nodes-gpu').inputs.blockDeviceMappings[0].ebs.volumeSize).toBe(100);
  });

  it('tags the Auto Scaling groups so Cluster Autoscaler can scale a class up from zero', () => {
    const tags = rec.ofType('aws:autoscaling/tag:Tag').map((t) => t.inputs.tag);
    expect(tags).toContainEqual({ key: `k8s.io/cluster-autoscaler/node-template/label/${COMPUTE_CLASS_LABEL}`, value: 'gpu', propagateAtLaunch: false });
    expect(tags).toContainEqual({ key: 'k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu', value: 'true:NoSchedule', propagateAtLaunch: false });
    // Every group's own ASG gets its class label (and taints), none is missed.
    for (const g of rec.ofType('aws:eks/nodeGroup:NodeGroup')) {
      const onAsg = rec.ofType('aws:autoscaling/tag:Tag').filter((t) => t.inputs.autoscalingGroupName === `eks-${g.name}-asg`);
      expect(onAsg.map((t) => t.inputs.tag.key)).toHaveLength(Object.keys(g.inputs.labels).length + COMPUTE_CLASSES[classOf(g.inputs)].taints.length);
      expect(onAsg.find((t) => t.inputs.tag.key.endsWith(COMPUTE_CLASS_LABEL))!.inputs.tag.value).toBe(classOf(g.inputs));
    }
  });

  it('labels GPU nodes k8s.amazonaws.com/accelerator and tags their ASG with it (Cluster Autoscaler GPU note); CPU nodes not', () => {
    const groups = rec.ofType('aws:eks/nodeGroup:NodeGroup');
    const gpu = groups.filter((g) => classOf(g.inputs) === 'gpu');
    expect(gpu.length).toBeGreaterThan(0);
    for (const g of gpu) {
      expect(g.inputs.labels['k8s.amazonaws.com/accelerator']).toBe('nvidia-a10g'); // g5: NVIDIA A10G
      const tag = rec.ofType('aws:autoscaling/tag:Tag').find((t) => t.inputs.autoscalingGroupName === `eks-${g.name}-asg` && t.inputs.tag.key === 'k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator');
      expect(tag?.inputs.tag).toEqual({ key: 'k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator', value: 'nvidia-a10g', propagateAtLaunch: false });
    }
    for (const g of groups.filter((x) => classOf(x.inputs) !== 'gpu')) expect(g.inputs.labels['k8s.amazonaws.com/accelerator']).toBeUndefined();
  });

  it('refuses a GPU instance family whose accelerator it does not know, naming where to add it', async () => {
    const { acceleratorOf } = await import('../../infra/node-pools');
    expect(() => acceleratorOf('x9gpu.xlarge')).toThrow('NodePools: no k8s.amazonaws.com/accelerator value known for GPU instance type x9gpu.xlarge; add its family to ACCELERATORS in infra/node-pools.ts');
  });

  it('installs Cluster Autoscaler with a Pod Identity role limited to this cluster\'s groups', () => {
    const release = rec.ofType('kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'cluster-autoscaler')!;
    expect(release.inputs.values).toMatchObject({ autoDiscovery: { clusterName: 'c1' }, awsRegion: 'us-west-2', extraArgs: { expander: 'least-waste' } });
    expect(release.inputs.values.image.tag).toBe('v1.35.0'); // the cluster's minor (default 1.35)
    const scale = policy(rec.one('aws:iam/rolePolicy:RolePolicy', 'nodes-autoscaler').inputs.policy).Statement.find((s: any) => s.Sid === 'ScaleOwnGroups');
    expect(scale.Condition.StringEquals).toEqual({ 'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true', 'aws:ResourceTag/eks:cluster-name': 'c1' });
    expect(rec.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation').map((p) => `${p.inputs.namespace}/${p.inputs.serviceAccount}`)).toContain('kube-system/cluster-autoscaler');
  });

  it('installs the NVIDIA device plugin only onto GPU classes, tolerating their taint', () => {
    const plugin = rec.ofType('kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'nvidia-device-plugin')!;
    expect(plugin.inputs.version).toMatch(/^\d+\.\d+\.\d+$/);
    const terms = plugin.inputs.values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms).toEqual([{ matchExpressions: [{ key: COMPUTE_CLASS_LABEL, operator: 'In', values: ['gpu'] }] }]);
    expect(plugin.inputs.values.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
  });

  it('adds CoreDNS and the EBS CSI driver (Pod Identity) with an encrypted default StorageClass', () => {
    const addons = rec.ofType('aws:eks/addon:Addon').map((a) => a.inputs.addonName);
    expect(addons).toEqual(expect.arrayContaining(['coredns', 'aws-ebs-csi-driver']));
    expect(rec.one('aws:eks/addon:Addon', 'nodes-aws-ebs-csi-driver').inputs.podIdentityAssociations[0].serviceAccount).toBe('ebs-csi-controller-sa');
    expect(rec.kube('StorageClass')[0].inputs).toMatchObject({ provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3', encrypted: 'true' } });
  });
});

describe('NodePools with a subset of classes', () => {
  it('creates only the listed pools and no device plugin without a GPU class', async () => {
    const r = new ResourceRecorder();
    await r.install('unit-subset');
    const { NodePools } = await import('../../infra/node-pools');
    const pools = new NodePools('nodes', { cluster: await testCluster(), subnetIds: ['s'], classes: ['system', 'general'] });
    await valueOf(pools.nodeRoleArn);
    await r.settle();
    expect(new Set(r.ofType('aws:eks/nodeGroup:NodeGroup').map((g) => classOf(g.inputs)))).toEqual(new Set(['system', 'general']));
    expect(r.ofType('kubernetes:helm.sh/v3:Release').map((x) => x.inputs.chart)).toEqual(['cluster-autoscaler']);
  });

  it('refuses a pool set without the system class', async () => {
    const { NodePools } = await import('../../infra/node-pools');
    const cluster = await testCluster('c9');
    expect(() => new NodePools('bad', { cluster, subnetIds: ['s'], classes: ['gpu'] })).toThrow(/classes must include "system"/);
    await valueOf(cluster.name);
  });
});
