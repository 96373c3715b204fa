import type { Cluster } from '../../../infra/cluster';

/** A Cluster on made-up network ids, for testing the components that run on one. */
export async function testCluster(name = 'c1', extra: Record<string, unknown> = {}): Promise<Cluster> {
  const { Cluster } = await import('../../../infra/cluster');
  return new Cluster(`cluster-${name}`, {
    clusterName: name,
    vpcId: 'vpc-1',
    subnetIds: ['subnet-a', 'subnet-b', 'subnet-c'],
    adminPrincipalArns: ['arn:aws:iam::123456789012:role/admin'],
    ...extra,
  });
}
