import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface NetworkArgs {
  /** VPC CIDR; must be a /16 (subnets are carved at fixed offsets). */
  readonly cidrBlock: string;
  /** Exactly three availability zones. Default: the region's first three. */
  readonly availabilityZones?: pulumi.Input<string[]>;
  /** `single` NAT gateway (cheap, one AZ failure cuts egress) or one per AZ. Default `perAz`. */
  readonly natGateways?: 'single' | 'perAz';
  /** Cluster name, for the subnet tags the AWS load balancer controller discovers. */
  readonly clusterName: string;
  /**
   * Interface endpoints for ECR (api, dkr) and STS, so image pulls and Pod Identity token
   * exchanges stay in the VPC and off the NAT gateways. Default false (about $22/month per
   * endpoint over three AZs). The S3 gateway endpoint (free) is always there.
   */
  readonly interfaceEndpoints?: boolean;
  /** Extra tags on every resource. */
  readonly tags?: Record<string, string>;
}

/** Interface endpoints `interfaceEndpoints` adds: image pulls (ECR API and registry) and STS. */
export const INTERFACE_ENDPOINTS = ['ecr.api', 'ecr.dkr', 'sts'] as const;

export interface SubnetLayout {
  /** Nodes and pods: 3 x /19 (8190 addresses each, VPC CNI gives pods VPC IPs). */
  readonly private: string[];
  /** Load balancers and NAT gateways only: 3 x /24. */
  readonly public: string[];
  /** The database: 3 x /24 without any route out of the VPC. */
  readonly database: string[];
}

/** Splits a /16 into the subnet layout; throws naming the value when it is not a /16. */
export function subnetLayout(cidrBlock: string): SubnetLayout {
  const m = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(cidrBlock);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) {
    throw new Error(`Network cidrBlock must be an IPv4 /16 such as 10.20.0.0/16 (got "${cidrBlock}")`);
  }
  const prefix = `${m[1]}.${m[2]}`;
  return {
    private: [0, 32, 64].map((o) => `${prefix}.${o}.0/19`),
    public: [96, 97, 98].map((o) => `${prefix}.${o}.0/24`),
    database: [100, 101, 102].map((o) => `${prefix}.${o}.0/24`),
  };
}

/**
 * A VPC across three AZs: public subnets hold only NAT gateways and internet-facing load
 * balancers; nodes live in private subnets that egress through NAT; the database subnets
 * have no route out at all. The default security group is emptied so nothing relies on it.
 */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly cidrBlock: string;
  public readonly publicSubnetIds: pulumi.Output<string>[];
  public readonly privateSubnetIds: pulumi.Output<string>[];
  public readonly databaseSubnetIds: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:Network', name, {}, opts);
    const layout = subnetLayout(args.cidrBlock);
    const parent = { parent: this };
    const tags = (extra: Record<string, string>) => ({ ...args.tags, ...extra });
    const azs = pulumi
      .output(args.availabilityZones ?? aws.getAvailabilityZonesOutput({ state: 'available' }, parent).names)
      .apply((names) => {
        if (names.length < 3) throw new Error(`Network needs three availability zones (got ${names.length}: ${names.join(', ')})`);
        return names.slice(0, 3);
      });
    const az = (i: number) => azs.apply((a) => a[i]);

    const vpc = new aws.ec2.Vpc(name, {
      cidrBlock: args.cidrBlock,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: tags({ Name: name }),
    }, parent);
    this.vpcId = vpc.id;
    this.cidrBlock = args.cidrBlock;

    new aws.ec2.DefaultSecurityGroup(`${name}-default`, { vpcId: vpc.id, ingress: [], egress: [], tags: tags({ Name: `${name}-default-unused` }) }, parent);
    const igw = new aws.ec2.InternetGateway(name, { vpcId: vpc.id, tags: tags({ Name: name }) }, parent);

    const publicRt = new aws.ec2.RouteTable(`${name}-public`, {
      vpcId: vpc.id,
      routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }],
      tags: tags({ Name: `${name}-public` }),
    }, parent);
    const publicSubnets = layout.public.map((cidr, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-public-${i}`, {
        vpcId: vpc.id,
        cidrBlock: cidr,
        availabilityZone: az(i),
        mapPublicIpOnLaunch: false,
        tags: tags({ Name: `${name}-public-${i}`, 'kubernetes.io/role/elb': '1', [`kubernetes.io/cluster/${args.clusterName}`]: 'shared' }),
      }, parent);
      new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRt.id }, parent);
      return subnet;
    });

    const natCount = (args.natGateways ?? 'perAz') === 'single' ? 1 : 3;
    const nats = publicSubnets.slice(0, natCount).map((subnet, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: 'vpc', tags: tags({ Name: `${name}-nat-${i}` }) }, parent);
      return new aws.ec2.NatGateway(`${name}-nat-${i}`, { subnetId: subnet.id, allocationId: eip.id, tags: tags({ Name: `${name}-nat-${i}` }) }, { parent: this, dependsOn: [igw] });
    });

    const privateRouteTables: aws.ec2.RouteTable[] = [];
    const privateSubnets = layout.private.map((cidr, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-private-${i}`, {
        vpcId: vpc.id,
        cidrBlock: cidr,
        availabilityZone: az(i),
        mapPublicIpOnLaunch: false,
        tags: tags({ Name: `${name}-private-${i}`, 'kubernetes.io/role/internal-elb': '1', [`kubernetes.io/cluster/${args.clusterName}`]: 'shared' }),
      }, parent);
      const rt = new aws.ec2.RouteTable(`${name}-private-${i}`, {
        vpcId: vpc.id,
        routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nats[i % natCount].id }],
        tags: tags({ Name: `${name}-private-${i}` }),
      }, parent);
      new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: rt.id }, parent);
      privateRouteTables.push(rt);
      return subnet;
    });

    // Payloads and artifacts go to S3 through the (free) gateway endpoint, not the NAT gateways.
    const region = aws.getRegionOutput({}, parent).region;
    new aws.ec2.VpcEndpoint(`${name}-s3`, {
      vpcId: vpc.id,
      serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: privateRouteTables.map((t) => t.id),
      tags: tags({ Name: `${name}-s3` }),
    }, parent);
    if (args.interfaceEndpoints) {
      const sg = new aws.ec2.SecurityGroup(`${name}-endpoints`, {
        vpcId: vpc.id,
        description: 'HTTPS from the VPC to its interface endpoints',
        ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidrBlocks: [args.cidrBlock] }],
        egress: [],
        tags: tags({ Name: `${name}-endpoints` }),
      }, parent);
      for (const service of INTERFACE_ENDPOINTS) {
        new aws.ec2.VpcEndpoint(`${name}-${service.replace('.', '-')}`, {
          vpcId: vpc.id,
          serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
          vpcEndpointType: 'Interface',
          privateDnsEnabled: true,
          subnetIds: privateSubnets.map((s) => s.id),
          securityGroupIds: [sg.id],
          tags: tags({ Name: `${name}-${service}` }),
        }, parent);
      }
    }

    const databaseRt = new aws.ec2.RouteTable(`${name}-database`, { vpcId: vpc.id, routes: [], tags: tags({ Name: `${name}-database` }) }, parent);
    const databaseSubnets = layout.database.map((cidr, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-database-${i}`, {
        vpcId: vpc.id,
        cidrBlock: cidr,
        availabilityZone: az(i),
        mapPublicIpOnLaunch: false,
        tags: tags({ Name: `${name}-database-${i}` }),
      }, parent);
      new aws.ec2.RouteTableAssociation(`${name}-database-${i}`, { subnetId: subnet.id, routeTableId: databaseRt.id }, parent);
      return subnet;
    });

    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.databaseSubnetIds = databaseSubnets.map((s) => s.id);
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      databaseSubnetIds: this.databaseSubnetIds,
    });
  }
}
