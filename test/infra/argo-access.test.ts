/**
 * Argo access: SSO RBAC that maps OIDC groups to accounts, evaluated by the expr library Argo
 * uses (tools/argo-sso-rbac-oracle), and the internal ALB Ingress through a scoped AWS Load
 * Balancer Controller.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceRecorder, policy, valueOf } from './support/pulumi-mocks';
import { testCluster } from './support/fixtures';
import { HAVE_SSO_ORACLE, MISSING_SSO_ORACLE, argoSsoAccounts, type OracleAccount } from './support/sso-oracle';
import { RBAC_RULE, RBAC_RULE_PRECEDENCE, groupsRule } from '../../infra/argo-sso-rbac';
import { CLUSTER_TAG } from '../../infra/load-balancer-controller';

if (!HAVE_SSO_ORACLE && process.env.CI) throw new Error(MISSING_SSO_ORACLE);

const database = {
  host: 'db.internal', port: 5432,
  secretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db',
  archiveSecretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:argo-archive',
};
const CERT = 'arn:aws:acm:us-west-2:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const SSO = {
  issuer: 'https://idp.example.com', clientId: 'argo', clientSecret: 's', redirectUrl: 'https://argo.example.com/oauth2/callback',
  // A group name with a quote and a backslash: it must stay one string literal in the rule.
  // And one written to look like an expression: it must not let group "ops" in.
  adminGroups: ['platform-admins', 'ops "on call" \\ team', 'x" in groups || "ops'],
  readOnlyGroups: ['platform-viewers'],
};

const rec = new ResourceRecorder();
let accounts: OracleAccount[];
const serverValues = () => rec.ofType('kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'argo-workflows')!.inputs.values.server;

beforeAll(async () => {
  await rec.install('argo-access');
  const { Argo } = await import('../../infra/argo');
  const { SecretsSync } = await import('../../infra/secrets-sync');
  const { LoadBalancerController } = await import('../../infra/load-balancer-controller');
  const cluster = await testCluster('access');
  const secrets = new SecretsSync('secrets', { cluster, secretArns: [database.secretArn, database.archiveSecretArn], keyArns: ['arn:aws:kms:us-west-2:123456789012:key/db'], namespaces: ['swoop', 'argo'] });
  const lbc = new LoadBalancerController('lbc', { cluster, clusterName: 'access', vpcId: 'vpc-1', watchNamespaces: ['argo'] });
  const argo = new Argo('argo', {
    cluster, bucketName: 'b', bucketKeyArn: 'arn:aws:kms:us-west-2:123456789012:key/art', database, secrets,
    serverAuthModes: ['sso', 'client'], sso: SSO,
    ingress: { host: 'argo.example.com', certificateArn: CERT, inboundCidrs: ['10.20.0.0/16'] },
  });
  await valueOf(argo.url);
  await valueOf(lbc.roleArn);
  await rec.settle();
  accounts = rec.kube('ServiceAccount').filter((s) => s.inputs.metadata.annotations?.[RBAC_RULE]).map((s) => ({ name: s.inputs.metadata.name, annotations: s.inputs.metadata.annotations }));
});

describe('Argo SSO RBAC', () => {
  it('requests the groups scope and enables RBAC, reading only the SSO accounts\' token Secrets', () => {
    expect(serverValues().sso.scopes).toEqual(['groups']);
    expect(serverValues().sso.rbac).toEqual({ enabled: true, secretWhitelist: ['argo-sso-admin.service-account-token', 'argo-sso-read-only.service-account-token'] });
  });

  it('annotates an admin and a read-only account in the server namespace, admin first', () => {
    expect(accounts.map((a) => [a.name, a.annotations[RBAC_RULE_PRECEDENCE]])).toEqual([['argo-sso-admin', '2'], ['argo-sso-read-only', '1']]);
    for (const sa of rec.kube('ServiceAccount').filter((s) => s.inputs.metadata.name.startsWith('argo-sso-'))) {
      expect(sa.inputs.metadata.namespace).toBe('argo');
      expect(sa.inputs.automountServiceAccountToken).toBe(false);
    }
  });

  it('gives each account the token Secret Argo reads (<name>.service-account-token) and a Role in the workflow namespace', () => {
    for (const { name } of accounts) {
      const token = rec.kube('Secret', `${name}.service-account-token`)[0].inputs;
      expect(token).toMatchObject({ type: 'kubernetes.io/service-account-token', metadata: { namespace: 'argo', annotations: { 'kubernetes.io/service-account.name': name } } });
      const binding = rec.kube('RoleBinding', name)[0].inputs;
      expect(binding.metadata.namespace).toBe('swoop');
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name, namespace: 'argo' }]);
    }
    const verbs = (name: string) => new Set<string>(rec.kube('Role', name)[0].inputs.rules.flatMap((r: any) => r.verbs));
    expect([...verbs('argo-sso-read-only')].sort()).toEqual(['get', 'list', 'watch']);
    expect(verbs('argo-sso-admin')).toEqual(new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']));
    // Nobody gets Secrets or exec through the UI.
    const resources = rec.kube('Role').filter((r) => r.inputs.metadata.name.startsWith('argo-sso-')).flatMap((r) => r.inputs.rules.flatMap((x: any) => x.resources));
    expect(resources).not.toContain('secrets');
    expect(resources).not.toContain('pods/exec');
  });

  it('refuses empty group lists and control characters in group names', () => {
    expect(() => groupsRule([])).toThrow(/at least one group/);
    expect(() => groupsRule(['a\nb'])).toThrow(/control characters/);
  });

  describe.skipIf(!HAVE_SSO_ORACLE)('evaluated as Argo Server does (expr, precedence, first match)', () => {
    const users = {
      admin: { sub: 'ada', groups: ['platform-admins'] },
      viewer: { sub: 'vic', groups: ['platform-viewers', 'unrelated'] },
      both: { sub: 'bo', groups: ['platform-viewers', 'platform-admins'] },
      quoted: { sub: 'q', groups: ['ops "on call" \\ team'] },
      unknown: { sub: 'eve', email: 'eve@example.com', groups: ['marketing'] },
      // Without a groups claim (omitted when empty), the rules cannot compile: Argo denies.
      noGroups: { sub: 'nog', email: 'nog@example.com' },
      // Custom claims are not visible to rules (Argo marshals its own Claims struct).
      customClaim: { sub: 'c', roles: ['platform-admins'] },
      // A name made to look like an expression only matches as that exact string.
      injection: { sub: 'i', groups: ['ops'] },
    };
    const choose = (accts: OracleAccount[] = accounts) => Object.fromEntries(argoSsoAccounts(accts, Object.values(users)).map((c, i) => [Object.keys(users)[i], c.serviceAccount]));

    it('admin group -> admin account, read-only group -> read-only, both -> admin (precedence), anyone else -> denied', () => {
      expect(choose()).toEqual({
        admin: 'argo-sso-admin', viewer: 'argo-sso-read-only', both: 'argo-sso-admin', quoted: 'argo-sso-admin',
        unknown: null, noGroups: null, customClaim: null, injection: null,
      });
    });

    it('a denied user is denied for the reason Argo gives', () => {
      const [unknown, noGroups] = argoSsoAccounts(accounts, [users.unknown, users.noGroups]);
      expect(unknown.error).toBe('no service account rule matches');
      expect(noGroups.error).toMatch(/unknown name groups/);
    });

    it('can fail: with the precedences swapped, a user in both groups gets read-only; a catch-all rule lets the unknown user in', () => {
      const swapped = accounts.map((a) => ({ ...a, annotations: { ...a.annotations, [RBAC_RULE_PRECEDENCE]: a.name === 'argo-sso-admin' ? '1' : '2' } }));
      expect(choose(swapped).both).toBe('argo-sso-read-only');
      const open = [...accounts, { name: 'everyone', annotations: { [RBAC_RULE]: 'true', [RBAC_RULE_PRECEDENCE]: '0' } }];
      expect(choose(open).unknown).toBe('everyone');
      // Quoting the names by hand would let the made-up name break out of its literal.
      const naive = accounts.map((a) => (a.name !== 'argo-sso-admin' ? a : { ...a, annotations: { ...a.annotations, [RBAC_RULE]: [SSO.adminGroups[0], SSO.adminGroups[2]].map((g) => `"${g}" in groups`).join(' || ') } }));
      expect(choose(naive).injection).toBe('argo-sso-admin');
    });
  });
});

describe('Argo ingress (internal ALB)', () => {
  it('exposes argo-server through an internal ALB with TLS from ACM, re-encrypting to the server', () => {
    const ingress = serverValues().ingress;
    expect(ingress).toMatchObject({ enabled: true, ingressClassName: 'alb', hosts: ['argo.example.com'], paths: ['/'], pathType: 'Prefix' });
    expect(ingress.annotations).toEqual({
      'alb.ingress.kubernetes.io/scheme': 'internal',
      'alb.ingress.kubernetes.io/target-type': 'ip',
      'alb.ingress.kubernetes.io/backend-protocol': 'HTTPS',
      'alb.ingress.kubernetes.io/healthcheck-path': '/',
      'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS":443}]',
      'alb.ingress.kubernetes.io/certificate-arn': CERT,
      'alb.ingress.kubernetes.io/ssl-policy': 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      'alb.ingress.kubernetes.io/inbound-cidrs': '10.20.0.0/16',
    });
    expect(serverValues().secure).toBe(true);
  });

  it('installs the AWS Load Balancer Controller watching only the argo namespace, without the Service webhook, WAF or Shield', () => {
    const release = rec.ofType('kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'aws-load-balancer-controller')!;
    expect(release.inputs).toMatchObject({ namespace: 'kube-system', version: '1.16.0', repositoryOpts: { repo: 'https://aws.github.io/eks-charts' } });
    expect(release.inputs.values).toMatchObject({
      clusterName: 'access', region: 'us-west-2', vpcId: 'vpc-1', watchNamespace: 'argo', enableServiceMutatorWebhook: false,
      enableShield: false, enableWaf: false, enableWafv2: false, defaultTargetType: 'ip', replicaCount: 2,
      serviceAccount: { create: true, name: 'aws-load-balancer-controller' },
    });
    expect(release.inputs.values.nodeSelector).toEqual({ 'swoop.dev/compute-class': 'system' });
  });

  it('binds the controller through Pod Identity to a role pinned to kube-system/aws-load-balancer-controller', () => {
    const assoc = rec.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation').find((a) => a.inputs.serviceAccount === 'aws-load-balancer-controller')!;
    expect(assoc.inputs.namespace).toBe('kube-system');
    const role = rec.ofType('aws:iam/role:Role').find((r) => r.name === 'lbc-role')!;
    expect(policy(role.inputs.assumeRolePolicy).Statement[0].Condition.StringEquals).toEqual({
      'aws:RequestTag/eks-cluster-name': 'access', 'aws:RequestTag/kubernetes-namespace': 'kube-system', 'aws:RequestTag/kubernetes-service-account': 'aws-load-balancer-controller',
    });
  });

  it('scopes every changing call: to this cluster\'s tag, the VPC, or load balancer ARNs; never all of a service', () => {
    const statements = policy(rec.ofType('aws:iam/rolePolicy:RolePolicy').find((p) => p.name === 'lbc-policy')!.inputs.policy).Statement;
    const unscoped: string[] = [];
    for (const s of statements) {
      const actions: string[] = [s.Action].flat();
      const onStar = [s.Resource].flat().includes('*');
      const readOnly = actions.every((a) => /:(Describe|Get|List)/.test(a));
      if (onStar && !readOnly && !s.Condition) unscoped.push(...actions);
      expect(actions.some((a) => a.endsWith(':*') || a === '*'), s.Sid).toBe(false);
    }
    expect(unscoped).toEqual([]);
    const tagged = statements.filter((s: any) => JSON.stringify(s.Condition ?? {}).includes(CLUSTER_TAG));
    for (const s of tagged) {
      const tagValues = Object.values(s.Condition.StringEquals ?? {}).flat();
      expect(tagValues, s.Sid).toContain('access');
    }
    expect(tagged.map((s: any) => s.Sid).sort()).toEqual(['CreateTaggedLoadBalancers', 'ModifyOwnLoadBalancers', 'OwnSecurityGroups', 'RetagOwnLoadBalancers', 'RetagOwnSecurityGroups', 'TagNewSecurityGroup', 'TagOnCreate']);
    expect(statements.find((s: any) => s.Sid === 'SecurityGroupRulesInTheVpc').Condition).toEqual({ ArnEquals: { 'ec2:Vpc': 'arn:aws:ec2:us-west-2:123456789012:vpc/vpc-1' } });
    expect(statements.flatMap((s: any) => [s.Action].flat()).filter((a: string) => /^(wafv2?|waf-regional|shield|cognito-idp):/.test(a))).toEqual([]);
  });
});

