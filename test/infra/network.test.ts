import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceRecorder, valueOf, type Registered } from './support/pulumi-mocks';
import { subnetLayout } from '../../infra/network';

async function build(stack: string, natGateways: 'single' | 'perAz'): Promise<ResourceRecorder> {
  const rec = new ResourceRecorder();
  await rec.install(stack);
  const { Network } = await import('../../infra/network');
  const net = new Network('net', { cidrBlock: '10.20.0.0/16', clusterName: 'c1', natGateways });
  await valueOf(net.vpcId);
  await rec.settle();
  return rec;
}
const subnets = (rec: ResourceRecorder, tier: string) => rec.ofType('aws:ec2/subnet:Subnet').filter((s) => s.name.startsWith(`net-${tier}-`));
const routeTableOf = (rec: ResourceRecorder, subnet: Registered) => {
  const rtId = rec.ofType('aws:ec2/routeTableAssociation:RouteTableAssociation').find((a) => a.inputs.subnetId === `${subnet.name}-id`)!.inputs.routeTableId;
  return rec.ofType('aws:ec2/routeTable:RouteTable').find((t) => `${t.name}-id` === rtId)!;
};

describe('Network endpoints', () => {
  it('routes S3 through a gateway endpoint on every private route table, not the database one; no interface endpoints by default', async () => {
    const rec = await build('unit-endpoints', 'single');
    const s3 = rec.one('aws:ec2/vpcEndpoint:VpcEndpoint').inputs;
    expect(s3).toMatchObject({ serviceName: 'com.amazonaws.us-west-2.s3', vpcEndpointType: 'Gateway' });
    expect([...s3.routeTableIds].sort()).toEqual(['net-private-0-id', 'net-private-1-id', 'net-private-2-id']);
  });

  it('adds ECR api/dkr and STS interface endpoints with private DNS when asked, reachable on 443 from the VPC only', async () => {
    const rec = new ResourceRecorder();
    await rec.install('unit-interface');
    const { Network } = await import('../../infra/network');
    const net = new Network('net', { cidrBlock: '10.20.0.0/16', clusterName: 'c1', interfaceEndpoints: true });
    await valueOf(net.vpcId);
    await rec.settle();
    const iface = rec.ofType('aws:ec2/vpcEndpoint:VpcEndpoint').filter((e) => e.inputs.vpcEndpointType === 'Interface');
    expect(iface.map((e) => e.inputs.serviceName).sort()).toEqual(['com.amazonaws.us-west-2.ecr.api', 'com.amazonaws.us-west-2.ecr.dkr', 'com.amazonaws.us-west-2.sts']);
    for (const e of iface) expect(e.inputs).toMatchObject({ privateDnsEnabled: true, subnetIds: ['net-private-0-id', 'net-private-1-id', 'net-private-2-id'], securityGroupIds: ['net-endpoints-id'] });
    expect(rec.one('aws:ec2/securityGroup:SecurityGroup', 'net-endpoints').inputs.ingress).toEqual([{ protocol: 'tcp', fromPort: 443, toPort: 443, cidrBlocks: ['10.20.0.0/16'] }]);
  });
});

describe('Network (one NAT gateway per AZ)', () => {
  let rec: ResourceRecorder;
  beforeAll(async () => {
    rec = await build('unit', 'perAz');
  });

  it('spans the first three AZs with public, private and database subnets in each', () => {
    for (const tier of ['public', 'private', 'database']) {
      expect(subnets(rec, tier).map((s) => s.inputs.availabilityZone)).toEqual(['us-west-2a', 'us-west-2b', 'us-west-2c']);
    }
    expect(rec.one('aws:ec2/vpc:Vpc').inputs).toMatchObject({ cidrBlock: '10.20.0.0/16', enableDnsHostnames: true, enableDnsSupport: true });
  });

  it('keeps public subnets for load balancers and NAT only: no public IPs, elb role tag', () => {
    for (const s of subnets(rec, 'public')) {
      expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
      expect(s.inputs.tags['kubernetes.io/role/elb']).toBe('1');
      expect(routeTableOf(rec, s).inputs.routes).toEqual([{ cidrBlock: '0.0.0.0/0', gatewayId: 'net-id' }]);
    }
    const natSubnets = rec.ofType('aws:ec2/natGateway:NatGateway').map((n) => n.inputs.subnetId);
    expect(natSubnets).toEqual(subnets(rec, 'public').map((s) => `${s.name}-id`));
  });

  it('routes each private subnet through the NAT gateway of its own AZ', () => {
    subnets(rec, 'private').forEach((s, i) => {
      expect(s.inputs.tags['kubernetes.io/role/internal-elb']).toBe('1');
      expect(routeTableOf(rec, s).inputs.routes).toEqual([{ cidrBlock: '0.0.0.0/0', natGatewayId: `net-nat-${i}-id` }]);
    });
  });

  it('gives database subnets no route out of the VPC', () => {
    for (const s of subnets(rec, 'database')) expect(routeTableOf(rec, s).inputs.routes).toEqual([]);
  });

  it('empties the default security group', () => {
    expect(rec.one('aws:ec2/defaultSecurityGroup:DefaultSecurityGroup').inputs).toMatchObject({ ingress: [], egress: [] });
  });
});

describe('Network (single NAT gateway)', () => {
  it('sends every private subnet through the one NAT gateway', async () => {
    const rec = await build('unit-single', 'single');
    expect(rec.ofType('aws:ec2/natGateway:NatGateway')).toHaveLength(1);
    for (const s of subnets(rec, 'private')) expect(routeTableOf(rec, s).inputs.routes[0].natGatewayId).toBe('net-nat-0-id');
  });
});

describe('subnetLayout', () => {
  it('carves /19 private and /24 public and database subnets out of a /16', () => {
    expect(subnetLayout('10.30.0.0/16')).toEqual({
      private: ['10.30.0.0/19', '10.30.32.0/19', '10.30.64.0/19'],
      public: ['10.30.96.0/24', '10.30.97.0/24', '10.30.98.0/24'],
      database: ['10.30.100.0/24', '10.30.101.0/24', '10.30.102.0/24'],
    });
  });
  it('refuses anything but a /16, naming the value', () => {
    expect(() => subnetLayout('10.30.0.0/20')).toThrow('Network cidrBlock must be an IPv4 /16 such as 10.20.0.0/16 (got "10.30.0.0/20")');
    expect(() => subnetLayout('10.300.0.0/16')).toThrow(/got "10\.300\.0\.0\/16"/);
  });
});
