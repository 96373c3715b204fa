import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHARTS } from '../../infra/charts';
import { loadStackConfig } from '../../stacks/config';
import { TEST_BUILD_DIGEST, stackConfig } from './support/stack-run';

const P = 'swoop-platform';
const ADDONS = JSON.stringify({ 'vpc-cni': 'v1.20.4-eksbuild.1', 'kube-proxy': 'v1.35.0-eksbuild.2', 'eks-pod-identity-agent': 'v1.3.9-eksbuild.3', coredns: 'v1.12.4-eksbuild.1', 'aws-ebs-csi-driver': 'v1.51.1-eksbuild.1', 'amazon-cloudwatch-observability': 'v4.6.0-eksbuild.1' });
const minimal = {
  [`${P}:environment`]: 'dev',
  [`${P}:adminPrincipalArns`]: '["arn:aws:iam::123456789012:role/admin"]',
  [`${P}:stateServiceImage`]: `123456789012.dkr.ecr.us-west-2.amazonaws.com/swoop-test/swoop-state@sha256:${'0123456789abcdef'.repeat(4)}`,
  [`${P}:addonVersions`]: ADDONS,
};
const CERT = 'arn:aws:acm:us-west-2:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const SSO = { issuer: 'https://idp.example.com', clientId: 'argo', redirectUrl: 'https://argo.example.com/oauth2/callback', adminGroups: ['admins'] };
const SSO_ON = { [`${P}:argoServerAuthModes`]: '["sso","client"]', [`${P}:argoSsoClientSecret`]: 's', [`${P}:dashboardOidcClientSecret`]: 's', [`${P}:argoSso`]: JSON.stringify(SSO) };
const load = (extra: Record<string, string>, stack = 'test') => loadStackConfig({ ...minimal, ...extra }, P, stack);
const errorOf = (extra: Record<string, string>, stack?: string): string => {
  try {
    load(extra, stack);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the config to be refused');
};

describe('stack config', () => {
  it('reads the dev and prod stack files (with a built image in place of the committed example)', () => {
    const built = (stack: string) => {
      const config = stackConfig(stack);
      const image = config[`${P}:stateServiceImage`];
      expect(() => loadStackConfig(config, P, stack)).toThrow(`${P}:stateServiceImage is the example digest`);
      return { ...config, [`${P}:stateServiceImage`]: `${image.split('@')[0]}@${TEST_BUILD_DIGEST}` };
    };
    const dev = loadStackConfig(built('dev'), P, 'dev');
    expect(dev).toMatchObject({ environment: 'dev', clusterName: 'swoop-dev', natGateways: 'single', delivery: { mode: 'pulumi' }, apiAccessCidrs: ['203.0.113.0/24'], protectData: false });
    expect(dev.database).toMatchObject({ multiAz: false, deletionProtection: false, backupRetentionDays: 7 });
    const prod = loadStackConfig({ ...built('prod'), [`${P}:argoSsoClientSecret`]: 's', [`${P}:dashboardOidcClientSecret`]: 's' }, P, 'prod');
    expect(prod).toMatchObject({ environment: 'prod', natGateways: 'perAz', apiAccessCidrs: [], argoServerAuthModes: ['sso', 'client'], protectData: true });
    expect(prod.database).toMatchObject({ multiAz: true, deletionProtection: true, backupRetentionDays: 14 });
    expect(prod.delivery).toEqual({ mode: 'gitops', repoUrl: 'https://github.com/swoop-platform/swoop-platform.git', revision: 'main', path: 'dist/prod' });
    expect(dev.delivery).toEqual({ mode: 'pulumi', manifestsDir: 'dist/dev' });
    expect(dev.stateServiceImage).toMatch(/^123456789012\.dkr\.ecr\.us-west-2\.amazonaws\.com\/swoop-dev\/swoop-state@sha256:[0-9a-f]{64}$/);
  });

  it('fills defaults from the environment', () => {
    const dev = load({});
    expect(dev).toMatchObject({
      clusterName: 'swoop-test', kubernetesVersion: '1.35', vpcCidr: '10.20.0.0/16', natGateways: 'single', argoServerAuthModes: ['client'],
      delivery: { mode: 'pulumi' }, eventBus: false, logRetentionDays: 30, keyDeletionWindowDays: 7,
    });
    expect(load({ [`${P}:eventBus`]: 'infra' }).eventBus).toEqual({ replicas: 3 });
    expect(dev.prometheusOperator).toBe(false);
    expect(load({ [`${P}:prometheusOperator`]: 'true' }).prometheusOperator).toBe(true);
    expect(dev.computeClasses).toEqual(['system', 'general', 'memory', 'gpu']);
    const prod = load({ [`${P}:environment`]: 'prod' });
    expect(prod).toMatchObject({ natGateways: 'perAz', logRetentionDays: 365, keyDeletionWindowDays: 30, protectData: true });
    expect(prod.database).toMatchObject({ multiAz: true, deletionProtection: true, backupRetentionDays: 14 });
    expect(prod.artifacts).toEqual({ intermediateExpiryDays: 30, forceDestroy: false });
  });

  it.each([
    [{ [`${P}:environment`]: 'staging' }, `${P}:environment must be "dev" or "prod" (got "staging")`],
    [{ [`${P}:kubernetesVersion`]: '1.29' }, `${P}:kubernetesVersion must be "1.34", "1.35", "1.36" (got "1.29")`],
    [{ [`${P}:natGateways`]: 'none' }, `${P}:natGateways must be "single" or "perAz"`],
    [{ [`${P}:vpcCidr`]: '10.0.0.0/8' }, `${P}:vpcCidr must be an IPv4 /16 such as "10.20.0.0/16" (got "10.0.0.0/8")`],
    [{ [`${P}:apiAccessCidrs`]: '["0.0.0.0/0"]' }, `${P}:apiAccessCidrs must be a list of IPv4 CIDRs allowed to reach the public API endpoint; [] keeps it private (0.0.0.0/0 refused) (got ["0.0.0.0/0"])`],
    [{ [`${P}:adminPrincipalArns`]: '[]' }, `${P}:adminPrincipalArns must be a non-empty list of IAM role/user ARNs`],
    [{ [`${P}:computeClasses`]: '["general","tpu"]' }, `${P}:computeClasses must be a list of "system", "general", "memory", "gpu" including "system"`],
    [{ [`${P}:computeClasses`]: '["general"]' }, `${P}:computeClasses must be a list of`],
    [{ [`${P}:database`]: '{"backupRetentionDays": 3}' }, `${P}:database.backupRetentionDays must be a whole number of days from 7 to 35 (got 3)`],
    [{ [`${P}:database`]: '{"postgresVersion": "15"}' }, `${P}:database.postgresVersion must be one of "16", "17" (got "15")`],
    [{ [`${P}:database`]: '{"multiAZ": true}' }, `${P}:database.multiAZ is not a known field; known: instanceClass, allocatedStorageGiB, postgresVersion, backupRetentionDays, multiAz, deletionProtection`],
    [{ [`${P}:argoServerAuthModes`]: '["server"]' }, `${P}:argoServerAuthModes must be a non-empty list of "client", "sso" ("server" is refused) (got ["server"])`],
    [{ [`${P}:argoServerAuthModes`]: '[]' }, `${P}:argoServerAuthModes must be a non-empty list of "client", "sso"`],
    [{ [`${P}:argoServerAuthModes`]: '["sso"]' }, `${P}:argoSso.issuer must be an https:// OIDC issuer URL (got null)`],
    [{ [`${P}:stateImage`]: 'ghcr.io/x/state:1.0.0' }, `${P}:stateImage is no longer a setting: the state service image is the stateServiceImage setting (an image by digest)`],
    [{ [`${P}:stateServiceImage`]: 'ghcr.io/x/state:1.0.0' }, `${P}:stateServiceImage must be the state service image by digest, "<registry>/<repository>@sha256:<64 hex>"`],
    [{ [`${P}:stateServiceImage`]: `ghcr.io/x/state@sha256:${'A'.repeat(64)}` }, `${P}:stateServiceImage must be the state service image by digest`],
    [{ [`${P}:workflowValues`]: '{"publish bucket": "s3://b"}' }, `${P}:workflowValues.publish bucket is not a ConfigMap key`],
    [{ [`${P}:workflowValues`]: '{"payload-store": "s3://b"}' }, `${P}:workflowValues.payload-store is set by the platform itself; remove it`],
    [{ [`${P}:workflowValues`]: '{"publish-bucket": 3}' }, `${P}:workflowValues.publish-bucket must be a non-empty string (got 3)`],
    [{ [`${P}:workflowValues`]: '["s3://b"]' }, `${P}:workflowValues must be an object of ConfigMap swoop-platform keys`],
    [{ [`${P}:manifestDelivery`]: 'gitops', [`${P}:gitops`]: '{"repoUrl": "https://git.example.com/s.git", "path": "dist"}' }, `${P}:gitops.path must be "dist/test", the folder \`npm run synth\` writes for this stack (got "dist")`],
    [{ [`${P}:manifestDelivery`]: 'flux' }, `${P}:manifestDelivery must be "pulumi" or "gitops" (got "flux")`],
    [{ [`${P}:manifestDelivery`]: 'gitops' }, `${P}:gitops.repoUrl must be the Git URL of this repository (https://, ssh:// or git@) (got null)`],
    [{ [`${P}:eventBus`]: 'both' }, `${P}:eventBus must be "manifests" (dist/ brings the EventBus, the default) or "infra"`],
    [{ [`${P}:logRetentionDays`]: '100' }, `${P}:logRetentionDays must be days of EKS control plane logs, one of CloudWatch's 1, 3, 5`],
    [{ [`${P}:keyDeletionWindowDays`]: '3' }, `${P}:keyDeletionWindowDays must be days before a deleted KMS key is destroyed, 7 to 30 (default: 7 in dev, 30 in prod) (got 3)`],
 [{ [`${P}:prometheusOperator`]: 'yes' }, `${P}:prometheusOperator must be true when the cluster runs the Prometheus operator (its monitoring.coreos.com CRDs installed), so dist/<stack>/state-monitoring.yaml (the state service's ServiceMonitor and alert rules) is delivered; default false (got "yes")`],
    [{ [`${P}:clusterNmae`]: 'x' }, `${P}:clusterNmae is not a known key; known keys: environment, clusterName,`],
    [{ ...SSO_ON, [`${P}:argoSso`]: JSON.stringify({ ...SSO, adminGroups: [] }) }, `${P}:argoSso.adminGroups must be a non-empty list of OIDC group names (no control characters) whose members administer workflows (got [])`],
    [{ ...SSO_ON, [`${P}:argoSso`]: JSON.stringify({ ...SSO, readOnlyGroups: ['a\nb'] }) }, `${P}:argoSso.readOnlyGroups must be a list of OIDC group names (no control characters)`],
    [{ ...SSO_ON, [`${P}:argoSso`]: JSON.stringify({ ...SSO, groups: ['a'] }) }, `${P}:argoSso.groups is not a known field; known: issuer, clientId, redirectUrl, adminGroups, readOnlyGroups`],
    [{ ...SSO_ON, [`${P}:argoIngress`]: JSON.stringify({ host: 'argo.other.com', certificateArn: CERT }) }, `${P}:argoSso.redirectUrl must be https://argo.other.com/oauth2/callback, the Argo ingress host (got "https://argo.example.com/oauth2/callback")`],
    [{ [`${P}:argoIngress`]: JSON.stringify({ host: 'https://argo.example.com', certificateArn: CERT }) }, `${P}:argoIngress.host must be a DNS name such as "argo.example.com"`],
    [{ [`${P}:argoIngress`]: JSON.stringify({ host: 'argo.example.com', certificateArn: 'arn:aws:iam::123456789012:server-certificate/x' }) }, `${P}:argoIngress.certificateArn must be an ACM certificate ARN covering the host`],
    [{ [`${P}:argoIngress`]: JSON.stringify({ host: 'argo.example.com', certificateArn: CERT, inboundCidrs: ['0.0.0.0/0'] }) }, `${P}:argoIngress.inboundCidrs must be a non-empty list of IPv4 CIDRs (0.0.0.0/0 refused)`],
    [{ [`${P}:argoIngress`]: JSON.stringify({ host: 'argo.example.com', certificateArn: CERT, scheme: 'internet-facing' }) }, `${P}:argoIngress.scheme is not a known field; known: host, certificateArn, inboundCidrs`],
  ])('refuses %j naming the key and what it accepts', (extra, message) => {
    expect(errorOf(extra)).toContain(message);
  });

  it('holds prod to multi-AZ, deletion protection and a bucket that is not force-destroyed', () => {
    const message = errorOf({ [`${P}:environment`]: 'prod', [`${P}:database`]: '{"multiAz": false, "deletionProtection": false}', [`${P}:artifacts`]: '{"forceDestroy": true}' }, 'prod');
    expect(message).toContain(`${P}:database.multiAz must be true in prod (got false)`);
    expect(message).toContain(`${P}:database.deletionProtection must be true in prod (got false)`);
    expect(message).toContain(`${P}:artifacts.forceDestroy must be false in prod (got true)`);
  });

  it('reports every problem at once, for the stack named', () => {
    const message = errorOf({ [`${P}:environment`]: 'qa', [`${P}:natGateways`]: 'x', [`${P}:vpcCidr`]: 'nope' }, 'broken');
    expect(message.split('\n')[0]).toBe('invalid configuration for stack "broken":');
    expect(message.split('\n  - ')).toHaveLength(4);
  });

  it('requires the admin principals (no default)', () => {
    expect(() => loadStackConfig({ [`${P}:environment`]: 'dev', [`${P}:stateServiceImage`]: minimal[`${P}:stateServiceImage`], [`${P}:addonVersions`]: ADDONS }, P, 'bare')).toThrow(
      new RegExp(`invalid configuration for stack "bare":\n  - ${P}:adminPrincipalArns must be a non-empty list[^\n]*$`),
    );
  });

  it('requires the state service image by digest (no default), and takes workflow values', () => {
    const { [`${P}:stateServiceImage`]: _image, ...withoutImage } = minimal;
    expect(() => loadStackConfig(withoutImage, P, 'bare')).toThrow(`invalid configuration for stack "bare":\n  - ${P}:stateServiceImage must be the state service image by digest`);
    expect(load({ [`${P}:workflowValues`]: '{"publish-bucket": "s3://pub"}' }).workflowValues).toEqual({ 'publish-bucket': 's3://pub' });
  });

  it('requires every EKS add-on version pinned, each named when missing or malformed', () => {
    expect(load({}).addonVersions).toEqual(JSON.parse(ADDONS));
    expect(errorOf({ [`${P}:addonVersions`]: undefined as unknown as string })).toContain(`${P}:addonVersions must be an object pinning every EKS add-on's version`);
    const partial = JSON.stringify({ ...JSON.parse(ADDONS), coredns: undefined, 'kube-proxy': 'latest', metrics: 'v1.0.0-eksbuild.1' });
    const message = errorOf({ [`${P}:addonVersions`]: partial });
    expect(message).toContain(`${P}:addonVersions.coredns must be an EKS add-on version such as "v1.20.4-eksbuild.1" (got null)`);
    expect(message).toContain(`${P}:addonVersions.kube-proxy must be an EKS add-on version such as "v1.20.4-eksbuild.1" (got "latest")`);
    expect(message).toContain(`${P}:addonVersions.metrics is not an add-on the stack installs`);
  });

  it('reads the Argo ingress and SSO groups (read-only groups optional; inbound CIDRs default to the VPC in the program)', () => {
    const cfg = load({ ...SSO_ON, [`${P}:argoIngress`]: JSON.stringify({ host: 'argo.example.com', certificateArn: CERT }) });
    expect(cfg.argoIngress).toEqual({ host: 'argo.example.com', certificateArn: CERT });
    expect(cfg.argoSso).toMatchObject({ adminGroups: ['admins'], readOnlyGroups: [] });
    expect(load({}).argoIngress).toBeUndefined();
  });

  it('knows an example digest (one hex digit 64 times) from a build\'s', async () => {
    const { isExampleDigest } = await import('../../stacks/environment');
    expect(isExampleDigest(`r.example/x/y@sha256:${'0'.repeat(64)}`)).toBe(true);
    expect(isExampleDigest(`r.example/x/y@sha256:${'a'.repeat(64)}`)).toBe(true);
    expect(isExampleDigest(`r.example/x/y@sha256:${'a'.repeat(63)}b`)).toBe(false);
    expect(errorOf({ [`${P}:deployManifests`]: '"no"' })).toContain(`${P}:deployManifests must be true (default) or false`);
    expect(load({ [`${P}:stateServiceImage`]: `r.example/x/y@sha256:${'0'.repeat(64)}`, [`${P}:deployManifests`]: 'false' }).deployManifests).toBe(false);
  });

  it('reads the dashboard\'s SSO proxy (for the NetworkPolicy opening its port to the proxy alone), refusing one without a proxy', () => {
    expect(load({}).dashboardSso).toBeUndefined();
    const sso = { ssoHeader: 'x-auth-request-email', ssoProxy: { namespace: 'auth', podLabels: { 'app.kubernetes.io/name': 'oauth2-proxy' } } };
    expect(load({ [`${P}:dashboard`]: JSON.stringify(sso) }).dashboardSso).toEqual(sso);
    expect(errorOf({ [`${P}:dashboard`]: JSON.stringify({ ssoHeader: 'Authorization', ssoProxy: { namespace: 'Auth' } }) }))
      .toContain(`  - ${P}:dashboard.ssoHeader must be the header your SSO proxy sets to the user, such as x-auth-request-email (got "Authorization")\n  - ${P}:dashboard.ssoProxy.namespace must be a namespace name (got "Auth")`);
  });

  it('reads the dashboard\'s ALB (its name and expected signer from the cluster and the certificate), refusing it without the client secret or with an IdP endpoint that is not https', () => {
    const alb = { host: 'dash.example.com', certificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/11111111-2222-3333-4444-555555555555', oidc: { issuer: 'https://idp.example.com', authorizationEndpoint: 'https://idp.example.com/authorize', tokenEndpoint: 'https://idp.example.com/token', userInfoEndpoint: 'https://idp.example.com/userinfo', clientId: 'dash' } };
    const cfg = load({ 'aws:region': 'us-west-2', [`${P}:dashboard`]: JSON.stringify({ alb }), [`${P}:dashboardOidcClientSecret`]: 'shh' });
    expect(cfg.dashboardSso?.alb).toEqual({ ...alb, claim: 'email', loadBalancerName: 'swoop-test-dashboard', signer: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/swoop-test-dashboard/' });
    expect(cfg.dashboardOidcClientSecret).toBe('shh');
    expect(errorOf({ [`${P}:dashboard`]: JSON.stringify({ alb }) })).toContain(`  - ${P}:dashboardOidcClientSecret must be set with \`pulumi config set --secret dashboardOidcClientSecret <secret>\``);
    expect(errorOf({ [`${P}:dashboard`]: JSON.stringify({ alb: { ...alb, oidc: { ...alb.oidc, tokenEndpoint: 'http://idp.example.com/token' } } }), [`${P}:dashboardOidcClientSecret`]: 's' }))
      .toContain(`  - ${P}:dashboard.alb.oidc.tokenEndpoint must be an https URL of your IdP (got "http://idp.example.com/token")`);
    expect(errorOf({ [`${P}:clusterName`]: 'a-cluster-name-of-twenty-five', [`${P}:dashboard`]: JSON.stringify({ alb }), [`${P}:dashboardOidcClientSecret`]: 's' }))
      .toContain(`${P}:dashboard.alb needs a load balancer name of at most 32 characters, and a-cluster-name-of-twenty-five-dashboard (<clusterName>-dashboard) is longer; shorten clusterName`);
  });

  it('ignores keys of other namespaces (aws:region, provider settings)', () => {
    expect(() => load({ 'aws:region': 'eu-west-1', 'kubernetes:context': 'x' })).not.toThrow();
  });
});

describe('the add-on and chart versions docs/infra.md cites', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'infra.md'), 'utf8');
  const table = Object.fromEntries([...doc.matchAll(/^\| ([a-z-]+) \| (v\d+\.\d+\.\d+-eksbuild\.\d+) \|/gm)].map((m) => [m[1], m[2]]));

  it.each(['dev', 'prod'])('are the versions stacks/Pulumi.%s.yaml pins, every add-on listed', (stack) => {
    expect(JSON.parse(stackConfig(stack)[`${P}:addonVersions`])).toEqual(table);
  });

  it('name the load balancer controller chart infra/charts.ts pins', () => {
    expect(doc).toContain(`chart is pinned at ${CHARTS.awsLoadBalancerController.version} `);
  });
});
