import * as pulumi from '@pulumi/pulumi';
import { parse, parseAllDocuments } from 'yaml';

/** A resource the program registered, with the inputs it sent (what `pulumi up` would create). */
export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly custom: boolean;
}

/**
 * Installs Pulumi mocks that record every registered resource. Outputs are the inputs plus a
 * few provider-computed attributes the program reads (ARNs, endpoints, the RDS managed
 * secret), so downstream wiring is exercised with plausible values. Invokes answer the AZ
 * lookup, caller identity/region and the kubernetes YAML decoding done by yaml.ConfigGroup
 * (parsed for real with the `yaml` package).
 */
export class ResourceRecorder {
  public readonly resources: Registered[] = [];

  async install(stack: string, project = 'swoop-platform'): Promise<void> {
    this.resources.length = 0;
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          this.resources.push({ type: args.type, name: args.name, inputs: revealSecrets(args.inputs), custom: args.custom !== false });
          // AWS auto-names resources from the Pulumi name when no `name` input is given.
          const autoName = args.type.startsWith('aws:') && args.inputs.name === undefined ? { name: args.name } : {};
          return { id: `${args.name}-id`, state: { ...args.inputs, ...autoName, ...computed(args.type, args.name, args.inputs) } };
        },
        call: (args) => answer(args.token, args.inputs),
      },
      project,
      stack,
      false,
    );
  }

  /** Waits until every registration the program started has reached the mocks. */
  async settle(): Promise<void> {
    // `waitForRPCs` is internal to @pulumi/pulumi but is what `pulumi up` itself awaits.
    const settings = require('@pulumi/pulumi/runtime/settings') as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
  }

  ofType(type: string): Registered[] {
    return this.resources.filter((r) => r.type === type);
  }

  one(type: string, name?: string): Registered {
    const found = this.ofType(type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) {
      throw new Error(`expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}: ${found.map((r) => r.name).join(', ')}`);
    }
    return found[0];
  }

  /** Kubernetes objects by kind (and optionally metadata.name), whatever created them. */
  kube(kind: string, metadataName?: string): Registered[] {
    return this.resources.filter(
      (r) => r.type.startsWith('kubernetes:') && r.type.endsWith(`:${kind}`) && (metadataName === undefined || r.inputs.metadata?.name === metadataName),
    );
  }
}

/** Secret values reach mocks wrapped in Pulumi's secret signature; tests look at the plain value. */
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
function revealSecrets(value: any): any {
  if (Array.isArray(value)) return value.map(revealSecrets);
  if (value && typeof value === 'object') {
    if (value[SECRET_SIG] === '1b47061264138c4ac30d75fd1eb44270') return revealSecrets(value.value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revealSecrets(v)]));
  }
  return value;
}

function computed(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:us-west-2:123456789012:${resource}`;
  switch (type) {
    case 'aws:eks/cluster:Cluster':
      return {
        arn: arn('eks', `cluster/${inputs.name ?? name}`),
        endpoint: `https://${name}.gr7.us-west-2.eks.amazonaws.com`,
        certificateAuthority: { data: 'Q0VSVA==' },
        vpcConfig: { ...inputs.vpcConfig, clusterSecurityGroupId: 'sg-cluster' },
      };
    case 'aws:rds/instance:Instance':
      return {
        identifier: inputs.identifier ?? name,
        address: `${name}.abc.us-west-2.rds.amazonaws.com`,
        port: 5432,
        endpoint: `${name}.abc.us-west-2.rds.amazonaws.com:5432`,
        masterUserSecrets: [{ secretArn: arn('secretsmanager', `secret:rds!db-${name}`), kmsKeyId: inputs.masterUserSecretKmsKeyId, secretStatus: 'active' }],
      };
    case 'aws:s3/bucket:Bucket':
      return { arn: `arn:aws:s3:::${inputs.bucket ?? `${name}-bucket`}`, bucket: inputs.bucket ?? `${name}-bucket` };
    case 'aws:kms/key:Key':
      return { arn: arn('kms', `key/${name}`), keyId: `${name}-key` };
    case 'aws:iam/role:Role':
      return { arn: `arn:aws:iam::123456789012:role/${name}` };
    case 'aws:ec2/securityGroup:SecurityGroup':
      return { arn: arn('ec2', `security-group/${name}`) };
    case 'random:index/randomPassword:RandomPassword':
      return { result: `generated-${name}` };
    case 'aws:eks/nodeGroup:NodeGroup':
      return { arn: arn('eks', `nodegroup/${name}`), resources: [{ autoscalingGroups: [{ name: `eks-${name}-asg` }] }] };
    case 'aws:ec2/launchTemplate:LaunchTemplate':
      return { latestVersion: 1 };
    case 'aws:sqs/queue:Queue':
      return { arn: arn('sqs', inputs.name ?? name), url: `https://sqs.us-west-2.amazonaws.com/123456789012/${inputs.name ?? name}` };
    case 'aws:ecr/repository:Repository':
      return { arn: arn('ecr', `repository/${inputs.name}`), repositoryUrl: `123456789012.dkr.ecr.us-west-2.amazonaws.com/${inputs.name}` };
    case 'aws:sns/topic:Topic':
      return { arn: arn('sns', inputs.name ?? name) };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { arn: arn('logs', `log-group:${inputs.name ?? name}`) };
    default:
      return type.startsWith('aws:') ? { arn: arn(type.split(':')[1].split('/')[0], name) } : {};
  }
}

function answer(token: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (token) {
    case 'aws:index/getAvailabilityZones:getAvailabilityZones':
      return { names: ['us-west-2a', 'us-west-2b', 'us-west-2c', 'us-west-2d'], zoneIds: ['usw2-az1', 'usw2-az2', 'usw2-az3', 'usw2-az4'] };
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return { accountId: '123456789012', arn: 'arn:aws:iam::123456789012:user/ci', userId: 'AIDA' };
    case 'aws:index/getRegion:getRegion':
      return { name: 'us-west-2', region: 'us-west-2', id: 'us-west-2' };
    case 'aws:index/getPartition:getPartition':
      return { partition: 'aws', dnsSuffix: 'amazonaws.com' };
    case 'kubernetes:yaml:decode':
      return { result: parseAllDocuments(String(inputs.text)).map((d) => d.toJSON()).filter((d) => d) };
    default:
      throw new Error(`no mock for invoke ${token} (inputs ${JSON.stringify(inputs)}); add one to test/infra/support/pulumi-mocks.ts`);
  }
}

/** Resolves an Output in tests (mocks are not a preview, so every value is known). */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** Parses an IAM policy input that may be a JSON string or an object. */
export function policy(input: unknown): { Statement: any[] } {
  return typeof input === 'string' ? JSON.parse(input) : (input as { Statement: any[] });
}

export { parse as parseYaml };
