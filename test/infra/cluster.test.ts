import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceRecorder, valueOf } from './support/pulumi-mocks';
import { testCluster } from './support/fixtures';

const rec = new ResourceRecorder();

describe('Cluster', () => {
  let kubeconfig: string;
  let providerUrn: string;
  beforeAll(async () => {
    await rec.install('unit');
    const cluster = await testCluster('c1', { publicAccessCidrs: ['198.51.100.0/24'], version: '1.34', logRetentionDays: 30 });
    kubeconfig = await valueOf(cluster.kubeconfig);
    providerUrn = await valueOf(cluster.provider.urn);
    await rec.settle();
  });

  it('creates an EKS cluster with API access entries, KMS secrets encryption and control plane logs', () => {
    const c = rec.one('aws:eks/cluster:Cluster').inputs;
    expect(c.name).toBe('c1');
    expect(c.version).toBe('1.34');
    expect(c.accessConfig).toEqual({ authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: false });
    expect(c.encryptionConfig.resources).toEqual(['secrets']);
    expect(c.encryptionConfig.provider.keyArn).toMatch(/^arn:aws:kms:.*key\/c1-secrets$/);
    expect(c.enabledClusterLogTypes).toEqual(['api', 'audit', 'authenticator']);
    expect(rec.one('aws:kms/key:Key').inputs.enableKeyRotation).toBe(true);
    expect(rec.one('aws:cloudwatch/logGroup:LogGroup').inputs).toMatchObject({ name: '/aws/eks/c1/cluster', retentionInDays: 30 });
  });

  it('restricts the public endpoint to the configured CIDRs and keeps the private one', () => {
    expect(rec.one('aws:eks/cluster:Cluster').inputs.vpcConfig).toMatchObject({
      subnetIds: ['subnet-a', 'subnet-b', 'subnet-c'],
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ['198.51.100.0/24'],
    });
  });

  it('grants admins through access entries and a cluster-scoped access policy', () => {
    expect(rec.one('aws:eks/accessEntry:AccessEntry').inputs).toMatchObject({ clusterName: 'c1', principalArn: 'arn:aws:iam::123456789012:role/admin', type: 'STANDARD' });
    expect(rec.one('aws:eks/accessPolicyAssociation:AccessPolicyAssociation').inputs).toMatchObject({
      policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
      accessScope: { type: 'cluster' },
    });
    expect(rec.resources.some((r) => r.inputs.metadata?.name === 'aws-auth')).toBe(false);
  });

  it('installs the Pod Identity agent (workload identity) and the pre-node add-ons', () => {
    expect(rec.ofType('aws:eks/addon:Addon').map((a) => a.inputs.addonName).sort()).toEqual(['eks-pod-identity-agent', 'kube-proxy', 'vpc-cni']);
  });

  it('emits a kubeconfig that authenticates with aws eks get-token, as a secret', () => {
    const k = JSON.parse(kubeconfig);
    expect(k.clusters[0].cluster.server).toBe('https://cluster-c1.gr7.us-west-2.eks.amazonaws.com');
    expect(k.users[0].user.exec.args).toEqual(['eks', 'get-token', '--cluster-name', 'c1', '--region', 'us-west-2', '--output', 'json']);
    expect(rec.one('pulumi:providers:kubernetes').inputs.kubeconfig).toBeDefined();
  });

  it('parents its children to the component (one node in `pulumi stack`)', () => {
    expect(providerUrn).toContain('::swoop:infra:Cluster$pulumi:providers:kubernetes::');
  });

  it('refuses a world-open or malformed API CIDR, naming it', async () => {
    await expect(testCluster('c2', { publicAccessCidrs: ['0.0.0.0/0'] })).rejects.toThrow(/publicAccessCidrs: "0\.0\.0\.0\/0".*private endpoint/);
    await expect(testCluster('c3', { publicAccessCidrs: ['10.0.0.0'] })).rejects.toThrow(/"10\.0\.0\.0" must be a specific IPv4 CIDR/);
  });
});

describe('Cluster with no CIDRs', () => {
  it('makes the API endpoint private only', async () => {
    const r = new ResourceRecorder();
    await r.install('unit-private');
    const cluster = await testCluster('c4');
    await valueOf(cluster.name);
    await r.settle();
    const vpc = r.one('aws:eks/cluster:Cluster').inputs.vpcConfig;
    expect(vpc.endpointPublicAccess).toBe(false);
    expect(vpc.publicAccessCidrs).toBeUndefined();
  });
});
