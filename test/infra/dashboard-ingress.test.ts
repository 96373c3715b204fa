/**
 * The dashboard's internal ALB with OIDC sign-in (infra/dashboard-ingress.ts), through Pulumi
 * mocks: the Ingress the AWS Load Balancer Controller reads (its OIDC annotations, the fixed
 * load balancer name the state service's expected signer is built from), the client Secret
 * and the controller's read access to it alone, and the controller's namespace scope.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { STATE_DASHBOARD_ALB_PORT_NAME, STATE_SERVICE_NAME } from '../../constructs/state-service';
import { loadEnvironment } from '../../stacks/environment';
import { ALB_SSL_POLICY } from '../../infra/argo';
import { DASHBOARD_HEALTH_PATH, DASHBOARD_OIDC_SECRET, dashboardIngressAnnotations } from '../../infra/dashboard-ingress';
import { namespaceScope } from '../../infra/load-balancer-controller';
import { ResourceRecorder, valueOf } from './support/pulumi-mocks';
import { testCluster } from './support/fixtures';

const alb = loadEnvironment('prod').dashboard.sso!.alb!;
const rec = new ResourceRecorder();

beforeAll(async () => {
  await rec.install('dashboard-ingress');
  const { DashboardIngress } = await import('../../infra/dashboard-ingress');
  const cluster = await testCluster('dash');
  const ingress = new DashboardIngress('dashboard', { cluster, namespace: 'swoop', alb, clientSecret: 'client-secret-value', inboundCidrs: ['10.30.0.0/16'] });
  await valueOf(ingress.ingress.id);
  await rec.settle();
});

describe('the dashboard\'s ALB Ingress (prod stack settings)', () => {
  it('names the ALB after the cluster, so the signer the state service expects is its ARN up to the id', () => {
    expect(alb.loadBalancerName).toBe('swoop-prod-dashboard');
    expect(alb.signer).toBe('arn:aws:elasticloadbalancing:us-west-2:210987654321:loadbalancer/app/swoop-prod-dashboard/');
    const [ingress] = rec.kube('Ingress', 'swoop-dashboard');
    expect(ingress!.inputs.metadata.annotations['alb.ingress.kubernetes.io/load-balancer-name']).toBe(alb.loadBalancerName);
  });

  it('routes https://<host>/dashboard to the state service\'s ALB port, in its namespace, through the controller\'s class', () => {
    const [ingress] = rec.kube('Ingress', 'swoop-dashboard');
    expect(ingress!.inputs.metadata.namespace).toBe('swoop');
    expect(ingress!.inputs.spec).toEqual({
      ingressClassName: 'alb',
      rules: [{ host: 'dashboard.example.com', http: { paths: [{ path: '/dashboard', pathType: 'Prefix', backend: { service: { name: STATE_SERVICE_NAME, port: { name: STATE_DASHBOARD_ALB_PORT_NAME } } } }] } }],
    });
  });

  it('signs every request in with the IdP of the stack (auth-type oidc), internal, HTTPS with the certificate, health-checked on the one page served without a user', () => {
    const [ingress] = rec.kube('Ingress', 'swoop-dashboard');
    const a = ingress!.inputs.metadata.annotations;
    expect(a).toEqual(dashboardIngressAnnotations(alb, ['10.30.0.0/16']));
    expect(a).toMatchObject({
      'alb.ingress.kubernetes.io/scheme': 'internal',
      'alb.ingress.kubernetes.io/target-type': 'ip',
      'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS":443}]',
      'alb.ingress.kubernetes.io/certificate-arn': 'arn:aws:acm:us-west-2:210987654321:certificate/00000000-0000-0000-0000-000000000000',
      'alb.ingress.kubernetes.io/ssl-policy': ALB_SSL_POLICY,
      'alb.ingress.kubernetes.io/inbound-cidrs': '10.30.0.0/16',
      'alb.ingress.kubernetes.io/auth-type': 'oidc',
      'alb.ingress.kubernetes.io/auth-on-unauthenticated-request': 'authenticate',
      'alb.ingress.kubernetes.io/healthcheck-path': DASHBOARD_HEALTH_PATH,
    });
    expect(a['alb.ingress.kubernetes.io/auth-scope'].split(' ')).toContain(alb.claim);
    expect(JSON.parse(a['alb.ingress.kubernetes.io/auth-idp-oidc'])).toEqual({
      issuer: 'https://login.example.com',
      authorizationEndpoint: 'https://login.example.com/oauth2/v1/authorize',
      tokenEndpoint: 'https://login.example.com/oauth2/v1/token',
      userInfoEndpoint: 'https://login.example.com/oauth2/v1/userinfo',
      secretName: DASHBOARD_OIDC_SECRET,
    });
  });

  it('keeps the client in a Secret beside the Ingress (clientID, clientSecret), readable by the controller (get, that Secret only)', () => {
    const [secret] = rec.kube('Secret', DASHBOARD_OIDC_SECRET);
    expect(secret!.inputs.metadata.namespace).toBe('swoop');
    expect(secret!.inputs.stringData).toEqual({ clientID: 'swoop-dashboard', clientSecret: 'client-secret-value' });
    const [role] = rec.kube('Role', 'aws-load-balancer-controller-dashboard-oidc');
    expect(role!.inputs.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: [DASHBOARD_OIDC_SECRET], verbs: ['get'] }]);
    const [binding] = rec.kube('RoleBinding', 'aws-load-balancer-controller-dashboard-oidc');
    expect(binding!.inputs.subjects).toEqual([{ kind: 'ServiceAccount', name: 'aws-load-balancer-controller', namespace: 'kube-system' }]);
  });
});

describe('the load balancer controller\'s namespaces', () => {
  it('watches the one namespace when one has an ALB (the Argo server\'s); with two, watches all but admits Ingresses of those two only', () => {
    expect(namespaceScope(['argo'])).toEqual({ watchNamespace: 'argo' });
    expect(namespaceScope(['swoop', 'argo'])).toEqual({
      watchNamespace: '',
      createIngressClassResource: true,
      ingressClass: 'alb',
      ingressClassParams: { create: true, name: 'alb', spec: { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['argo', 'swoop'] }] } } },
    });
    expect(() => namespaceScope([])).toThrow(/watchNamespaces is empty/);
  });
});
