import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceRecorder, valueOf } from './support/pulumi-mocks';

const rec = new ResourceRecorder();

describe('Network', () => {
  beforeAll(async () => {
    await rec.install('unit');
    const { Network } = await import('../../infra/network');
    const net = new Network('net', { cidrBlock: '10.20.0.0/16', clusterName: 'c1', natGateways: 'single' });
    await valueOf(net.vpcId);
    await rec.settle();
  });

  it('spans three AZs with public, private and database subnets', () => {
    const subnets = rec.ofType('aws:ec2/subnet:Subnet');
    expect(subnets).toHaveLength(9);
    expect(new Set(subnets.map((s) => s.inputs.availabilityZone))).toEqual(new Set(['us-west-2a', 'us-west-2b', 'us-west-2c']));
  });
});
