import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runStack, stackConfig, type StackRun } from './support/stack-run';
import { ResourceRecorder, type Registered } from './support/pulumi-mocks';

const DIST = join(__dirname, '..', '..', 'dist');

let dev: StackRun;
let prod: StackRun;

const one = (run: StackRun, type: string, name?: string): Registered => {
  const found = run.resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ''}, found ${found.length}`);
  return found[0];
};
const count = (run: StackRun, type: string) => run.resources.filter((r) => r.type === type).length;

describe('stacks (whole program under mocks)', () => {
  beforeAll(async () => {
    dev = await runStack('dev');
    prod = await runStack('prod', { 'swoop-platform:argoSsoClientSecret': 'sso-client-secret', 'swoop-platform:dashboardOidcClientSecret': 's' });
  });

  it('exports cluster name and kubeconfig, bucket, database endpoint and secret ARN, Argo server URL, the ingress queue', () => {
    for (const run of [dev, prod]) {
      expect(Object.keys(run.outputs).sort()).toEqual(expect.arrayContaining([
        'argoServerUrl', 'bucketName', 'clusterName', 'databaseEndpoint', 'databaseSecretArn', 'ingressDeadLetterQueueUrl', 'ingressQueueUrl', 'ingressTopicArn', 'kubeconfig',
        'stateImageRepositoryUrl',
      ]));
      for (const [name, value] of Object.entries(run.outputs)) if (name !== 'ingressTopicArn') expect(value, name).toBeTruthy();
      const kubeconfig = JSON.parse(run.outputs.kubeconfig as string);
      expect(kubeconfig.users[0].user.exec.command).toBe('aws');
      expect(run.outputs.databaseSecretArn).toMatch(/^arn:aws:secretsmanager:/);
    }
    expect(dev.outputs.clusterName).toBe('swoop-dev');
    expect(prod.outputs.clusterName).toBe('swoop-prod');
    expect(prod.outputs.bucketName).toBe('swoop-prod-artifacts-210987654321');
    expect(dev.outputs.ingressQueueUrl).toBe('https://sqs.us-west-2.amazonaws.com/123456789012/swoop-dev-process');
    expect(dev.outputs.ingressTopicArn).toBe('');
    expect(prod.outputs.stateImageRepositoryUrl).toBe('123456789012.dkr.ecr.us-west-2.amazonaws.com/swoop-prod/swoop-state');
    expect(prod.outputs.ingressTopicArn).toBe('arn:aws:sns:us-west-2:123456789012:swoop-prod-process');
  });

  it('builds every part of the platform in both stacks', () => {
    for (const run of [dev, prod]) {
      for (const type of [
        'swoop:infra:Network', 'swoop:infra:Cluster', 'swoop:infra:NodePools', 'swoop:infra:ArtifactBucket',
        'swoop:infra:StateDatabase', 'swoop:infra:SecretsSync', 'swoop:infra:Argo', 'swoop:infra:Platform',
      ]) expect(count(run, type), type).toBe(1);
      expect(count(run, 'aws:eks/cluster:Cluster')).toBe(1);
      expect(count(run, 'aws:rds/instance:Instance')).toBe(1);
      // The artifact bucket and the one data bucket each stack creates.
      expect(run.resources.filter((r) => r.type === 'aws:s3/bucket:Bucket').map((b) => b.name).sort()).toEqual(['artifacts', expect.stringMatching(/^data-swoop-(dev|prod)-public-data-\d{12}$/)]);
      expect(run.resources.filter((r) => r.type === 'kubernetes:helm.sh/v3:Release').map((r) => r.inputs.chart)).toEqual(
        expect.arrayContaining(['argo-workflows', 'argo-events', 'external-secrets', 'cluster-autoscaler', 'nvidia-device-plugin']),
      );
    }
  });

  it('dev is cheaper: one NAT gateway, single-AZ database without deletion protection, disposable bucket', () => {
    expect(count(dev, 'aws:ec2/natGateway:NatGateway')).toBe(1);
    expect(count(prod, 'aws:ec2/natGateway:NatGateway')).toBe(3);
    const devDb = one(dev, 'aws:rds/instance:Instance').inputs;
    const prodDb = one(prod, 'aws:rds/instance:Instance').inputs;
    expect([devDb.multiAz, devDb.deletionProtection, devDb.skipFinalSnapshot]).toEqual([false, false, true]);
    expect([prodDb.multiAz, prodDb.deletionProtection, prodDb.skipFinalSnapshot]).toEqual([true, true, false]);
    expect(prodDb.finalSnapshotIdentifier).toBeTruthy();
    expect(devDb.backupRetentionPeriod).toBe(7);
    expect(prodDb.backupRetentionPeriod).toBe(14);
    expect(prodDb.instanceClass).toBe('db.r7g.large');
    expect(one(dev, 'aws:s3/bucket:Bucket', 'artifacts').inputs.forceDestroy).toBe(true);
    expect(one(prod, 'aws:s3/bucket:Bucket', 'artifacts').inputs.forceDestroy).toBe(false);
    const kmsWindows = (run: StackRun) => new Set(run.resources.filter((r) => r.type === 'aws:kms/key:Key').map((k) => k.inputs.deletionWindowInDays));
    expect(kmsWindows(dev)).toEqual(new Set([7]));
    expect(kmsWindows(prod)).toEqual(new Set([30]));
  });

  it('keeps the state service image in an ECR repository per environment: scanned on push, immutable tags', () => {
    for (const [run, name] of [[dev, 'swoop-dev/swoop-state'], [prod, 'swoop-prod/swoop-state']] as const) {
      expect(one(run, 'aws:ecr/repository:Repository').inputs).toMatchObject({
        name, imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true }, forceDelete: run === dev,
      });
    }
  });

  it('pins every EKS add-on to the version in the stack config', () => {
    for (const [run, stack] of [[dev, 'dev'], [prod, 'prod']] as const) {
      const pinned = JSON.parse(stackConfig(stack)['swoop-platform:addonVersions']);
      const addons = run.resources.filter((r) => r.type === 'aws:eks/addon:Addon');
      expect(addons.map((a) => a.inputs.addonName).sort()).toEqual(Object.keys(pinned).sort());
      for (const a of addons) expect(a.inputs.addonVersion, a.inputs.addonName).toBe(pinned[a.inputs.addonName]);
    }
  });

  it('keeps S3 traffic off NAT in both stacks; prod adds ECR and STS interface endpoints', () => {
    const endpoints = (run: StackRun) => run.resources.filter((r) => r.type === 'aws:ec2/vpcEndpoint:VpcEndpoint').map((e) => e.inputs.serviceName.split('.').slice(3).join('.')).sort();
    expect(endpoints(dev)).toEqual(['s3']);
    expect(endpoints(prod)).toEqual(['ecr.api', 'ecr.dkr', 's3', 'sts']);
  });

  it('enables the VPC CNI network policy agent', () => {
    for (const run of [dev, prod]) {
      const cni = run.resources.find((r) => r.type === 'aws:eks/addon:Addon' && r.inputs.addonName === 'vpc-cni')!;
      expect(JSON.parse(cni.inputs.configurationValues)).toEqual({ enableNetworkPolicy: 'true' });
    }
  });

  it('expires archived workflows: 30 days in dev, 365 in prod', () => {
    const ttl = (run: StackRun) => run.resources.find((r) => r.type === 'kubernetes:helm.sh/v3:Release' && r.inputs.chart === 'argo-workflows')!.inputs.values.controller.persistence.archiveTTL;
    expect([ttl(dev), ttl(prod)]).toEqual(['30d', '365d']);
  });

  it('dev exposes the API to its configured CIDR only; prod keeps the endpoint private', () => {
    const devVpc = one(dev, 'aws:eks/cluster:Cluster').inputs.vpcConfig;
    const prodVpc = one(prod, 'aws:eks/cluster:Cluster').inputs.vpcConfig;
    expect(devVpc).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ['203.0.113.0/24'] });
    expect(prodVpc).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: false });
    expect(prodVpc.publicAccessCidrs).toBeUndefined();
  });

  it('prod adds the memory pool; dev leaves it out (compute classes chosen per stack)', () => {
    const classes = (run: StackRun) => new Set(run.resources.filter((r) => r.type === 'aws:eks/nodeGroup:NodeGroup').map((g) => g.inputs.labels['swoop.dev/compute-class']));
    expect(classes(dev)).toEqual(new Set(['system', 'general', 'gpu']));
    expect(classes(prod)).toEqual(new Set(['system', 'general', 'memory', 'gpu']));
  });

  it('every compute class the synthesized manifests select has a node pool in their stack', () => {
    const pools = (run: StackRun) => new Set(run.resources.filter((r) => r.type === 'aws:eks/nodeGroup:NodeGroup').map((g) => g.inputs.labels['swoop.dev/compute-class']));
    for (const [stack, run] of [['dev', dev], ['prod', prod]] as const) {
      const selected = new Set<string>();
      for (const file of readdirSync(join(DIST, stack)).filter((f) => f.endsWith('.yaml'))) {
        const text = readFileSync(join(DIST, stack, file), 'utf8');
        for (const m of text.matchAll(/swoop\.dev\/compute-class: (\S+)/g)) selected.add(m[1]);
      }
      expect(selected.size).toBeGreaterThan(0);
      for (const cls of selected) expect(pools(run), `pool for compute class "${cls}"`).toContain(cls);
    }
  });

  it('dev applies dist/dev/ with Pulumi; prod syncs dist/prod/ with an Argo CD Application', () => {
    expect(count(dev, 'kubernetes:yaml:ConfigGroup')).toBe(1);
    expect(dev.resources.some((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Application')).toBe(false);
    expect(count(prod, 'kubernetes:yaml:ConfigGroup')).toBe(0);
    const app = one(prod, 'kubernetes:argoproj.io/v1alpha1:Application').inputs;
    expect(app.spec.source).toMatchObject({ repoURL: 'https://github.com/swoop-platform/swoop-platform.git', targetRevision: 'main', path: 'dist/prod' });
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
  });

  it('dev applies the state service from dist/ exactly once; prod leaves it to the Argo CD sync', () => {
    const state = (run: StackRun) => run.resources.filter((r) => r.type.startsWith('kubernetes:') && r.inputs.metadata?.labels?.['app.kubernetes.io/name'] === 'swoop-state');
    expect(state(dev).map((r) => r.name).sort()).toEqual([
      'swoop/swoop-state', 'swoop/swoop-state', 'swoop/swoop-state', 'swoop/swoop-state',
      'swoop/swoop-state-create-workflows', 'swoop/swoop-state-create-workflows', expect.stringMatching(/^swoop\/swoop-state-migrate-[0-9a-f]{10}$/),
    ]);
    expect(state(dev).filter((r) => r.type === 'kubernetes:apps/v1:Deployment')).toHaveLength(1);
    expect(state(prod)).toEqual([]);
  });

  it('prod turns on SSO for the Argo server, with the client secret kept out of the values', () => {
    const values = (run: StackRun) => run.resources.find((r) => r.type === 'kubernetes:helm.sh/v3:Release' && r.inputs.chart === 'argo-workflows')!.inputs.values;
    expect(values(dev).server.authModes).toEqual(['client']);
    expect(values(dev).server.sso).toBeUndefined();
    expect(values(prod).server.authModes).toEqual(['sso', 'client']);
    expect(values(prod).server.sso).toMatchObject({ enabled: true, issuer: 'https://login.example.com' });
    expect(JSON.stringify(values(prod))).not.toContain('sso-client-secret');
    const sso = prod.resources.find((r) => r.type === 'kubernetes:core/v1:Secret' && r.inputs.metadata.name === 'argo-server-sso')!;
    expect(sso.inputs.metadata.namespace).toBe('argo');
  });

  it('prod reaches Argo through an internal ALB (Load Balancer Controller) with its SSO groups; dev through port-forward', () => {
    const values = (run: StackRun) => run.resources.find((r) => r.type === 'kubernetes:helm.sh/v3:Release' && r.inputs.chart === 'argo-workflows')!.inputs.values;
    expect(count(prod, 'swoop:infra:LoadBalancerController')).toBe(1);
    expect(count(dev, 'swoop:infra:LoadBalancerController')).toBe(0);
    expect(values(prod).server.ingress.annotations).toMatchObject({
      'alb.ingress.kubernetes.io/scheme': 'internal',
      'alb.ingress.kubernetes.io/certificate-arn': 'arn:aws:acm:us-west-2:210987654321:certificate/00000000-0000-0000-0000-000000000000',
      'alb.ingress.kubernetes.io/inbound-cidrs': '10.30.0.0/16',
    });
    expect(values(dev).server.ingress).toBeUndefined();
    expect(prod.outputs.argoUrl).toBe('https://argo.example.com');
    expect(dev.outputs.argoUrl).toBe('https://localhost:2746');
    const rules = prod.resources.filter((r) => r.type === 'kubernetes:core/v1:ServiceAccount' && r.inputs.metadata.annotations?.['workflows.argoproj.io/rbac-rule'])
      .map((r) => [r.inputs.metadata.name, r.inputs.metadata.annotations['workflows.argoproj.io/rbac-rule']]);
    expect(rules).toEqual([['argo-sso-admin', '"swoop-platform-admins" in groups'], ['argo-sso-read-only', '"swoop-platform-viewers" in groups']]);
    expect(dev.resources.filter((r) => r.type === 'kubernetes:core/v1:ServiceAccount' && r.inputs.metadata.annotations?.['workflows.argoproj.io/rbac-rule'])).toEqual([]);
  });

  it('puts the workflow namespace behind its NetworkPolicies in both stacks, with the stack\'s VPC', () => {
    for (const [run, vpc] of [[dev, '10.20.0.0/16'], [prod, '10.30.0.0/16']] as const) {
      const names = run.resources.filter((r) => r.type === 'kubernetes:networking.k8s.io/v1:NetworkPolicy').map((r) => r.inputs.metadata.name);
      expect(names).toEqual(expect.arrayContaining(['default-deny', 'allow-dns', 'state-service', 'sensors', 'workflow-pods', 'workflow-agent', 'lifecycle-webhook', 'event-bus']));
      const state = run.resources.find((r) => r.type === 'kubernetes:networking.k8s.io/v1:NetworkPolicy' && r.inputs.metadata.name === 'state-service')!;
      expect(state.inputs.spec.egress[0]).toEqual({ to: [{ ipBlock: { cidr: vpc } }], ports: [{ protocol: 'TCP', port: 5432 }] });
    }
  });

  it('declares every Kubernetes object once, counting the applied dist/ manifests', () => {
    for (const run of [dev, prod]) {
      const keys = run.resources
        .filter((r) => r.type.startsWith('kubernetes:') && r.custom && r.inputs.metadata?.name && r.type !== 'kubernetes:helm.sh/v3:Release')
        .map((r) => `${r.type} ${r.inputs.metadata.namespace ?? ''}/${r.inputs.metadata.name}`);
      expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    }
  });

  it('leaves the EventBus to the synthesized manifests by default', () => {
    for (const run of [dev, prod]) {
      expect(run.resources.filter((r) => r.name === 'argo-eventbus')).toEqual([]);
    }
  });

  it('creates the EventBus itself when the stack says eventBus: infra', async () => {
    const run = await runStack('dev', { 'swoop-platform:eventBus': 'infra' });
    const bus = run.resources.filter((r) => r.name === 'argo-eventbus');
    expect(bus.map((b) => b.inputs.spec.jetstream.replicas)).toEqual([3]);
  });

  it('refuses the example digest the stack files are committed with, naming the key, before declaring anything', async () => {
    for (const stack of ['dev', 'prod']) {
      const committed = stackConfig(stack)['swoop-platform:stateServiceImage'];
      expect(committed).toMatch(/@sha256:0{64}$/);
      const recorder = new ResourceRecorder();
      await expect(runStack(stack, { 'swoop-platform:stateServiceImage': committed, 'swoop-platform:argoSsoClientSecret': 's', 'swoop-platform:dashboardOidcClientSecret': 's' }, recorder)).rejects.toThrow(
        /swoop-platform:stateServiceImage is the example digest the stack file is committed with \(sha256:0{64}\), not a build: push the image and set it with `pulumi config set stateServiceImage/,
      );
      await recorder.settle();
      expect(recorder.resources).toEqual([]);
    }
  });

  it('with deployManifests false, the first run creates the infrastructure and the manifests\' inputs, and deploys no dist/', async () => {
    const run = await runStack('dev', { 'swoop-platform:deployManifests': 'false' });
    const kinds = (kind: string, name: string) => run.resources.filter((r) => r.type.endsWith(`:${kind}`) && r.inputs.metadata?.name === name);
    expect(kinds('Deployment', 'swoop-state')).toEqual([]);
    expect(run.resources.filter((r) => r.type === 'kubernetes:yaml/v2:ConfigGroup' || r.type === 'kubernetes:yaml:ConfigGroup')).toEqual([]);
    expect(kinds('ConfigMap', 'swoop-platform')).toHaveLength(1);
    expect(kinds('Secret', 'swoop-state-tokens')).toHaveLength(1);
    expect(run.resources.some((r) => r.type === 'aws:ecr/repository:Repository')).toBe(true);
    // A built stack deploys the state service from dist/ (the runs above).
    expect(dev.resources.filter((r) => r.type.endsWith(':Deployment') && r.inputs.metadata?.name === 'swoop-state')).toHaveLength(1);
  });

  it('stops before declaring any resource when the config is invalid', async () => {
    const recorder = new ResourceRecorder();
    await expect(runStack('dev', { 'swoop-platform:natGateways': 'none' }, recorder)).rejects.toThrow(
      /invalid configuration for stack "dev":\n  - swoop-platform:natGateways must be "single" or "perAz"/,
    );
    await recorder.settle();
    expect(recorder.resources).toEqual([]);
  });
});
