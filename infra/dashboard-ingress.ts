import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { STATE_DASHBOARD_ALB_PORT_NAME, STATE_SERVICE_NAME } from '../constructs/state-service';
import type { DashboardAlb } from '../stacks/environment';
import { ALB_SSL_POLICY } from './argo';
import type { Cluster } from './cluster';
import { ALB_INGRESS_CLASS, LOAD_BALANCER_CONTROLLER_NAMESPACE, LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT } from './load-balancer-controller';

/** The Ingress (namespace swoop) whose ALB serves the dashboard. */
export const DASHBOARD_INGRESS_NAME = 'swoop-dashboard';
/** The Secret the ALB controller reads the OIDC client from (keys clientID and clientSecret, as its auth-idp-oidc annotation requires). */
export const DASHBOARD_OIDC_SECRET = 'swoop-dashboard-oidc';
/**
 * What the ALB's health check asks for: the stylesheet, the one dashboard path served without
 * a signed-in user (a health check does not go through the OIDC sign-in).
 */
export const DASHBOARD_HEALTH_PATH = '/dashboard/style.css';

export interface DashboardIngressArgs {
  readonly cluster: Cluster;
  /** Where the state service runs (`swoop`). */
  readonly namespace: string;
  readonly alb: DashboardAlb;
  /** The OIDC client secret (a Pulumi secret). */
  readonly clientSecret: pulumi.Input<string>;
  /** Source CIDRs the ALB accepts (it is internal either way). */
  readonly inboundCidrs: pulumi.Input<string>[];
}

/**
 * Annotations of the dashboard's Ingress for the AWS Load Balancer Controller: an internal ALB
 * named `alb.loadBalancerName` (so the signer ARN the state service expects is known before it
 * exists), HTTPS with the stack's certificate, and the OIDC sign-in on every request
 * (auth-type oidc): the ALB forwards only signed-in users, with their claims signed in
 * `x-amzn-oidc-data`, to the state service's port `dashboard-alb`.
 */
export function dashboardIngressAnnotations(alb: DashboardAlb, inboundCidrs: string[]): Record<string, string> {
  return {
    'alb.ingress.kubernetes.io/scheme': 'internal',
    'alb.ingress.kubernetes.io/load-balancer-name': alb.loadBalancerName,
    'alb.ingress.kubernetes.io/target-type': 'ip',
    // The state service serves plain HTTP inside the VPC; the header it gets is signed.
    'alb.ingress.kubernetes.io/backend-protocol': 'HTTP',
    'alb.ingress.kubernetes.io/healthcheck-path': DASHBOARD_HEALTH_PATH,
    'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS":443}]',
    'alb.ingress.kubernetes.io/certificate-arn': alb.certificateArn,
    'alb.ingress.kubernetes.io/ssl-policy': ALB_SSL_POLICY,
    'alb.ingress.kubernetes.io/inbound-cidrs': inboundCidrs.join(','),
    'alb.ingress.kubernetes.io/auth-type': 'oidc',
    'alb.ingress.kubernetes.io/auth-idp-oidc': JSON.stringify({
      issuer: alb.oidc.issuer,
      authorizationEndpoint: alb.oidc.authorizationEndpoint,
      tokenEndpoint: alb.oidc.tokenEndpoint,
      userInfoEndpoint: alb.oidc.userInfoEndpoint,
      secretName: DASHBOARD_OIDC_SECRET,
    }),
    'alb.ingress.kubernetes.io/auth-on-unauthenticated-request': 'authenticate',
    // `email` and `profile` carry the claims the dashboard may be told to show.
    'alb.ingress.kubernetes.io/auth-scope': 'openid email profile',
  };
}

/**
 * The dashboard behind an internal ALB with OIDC sign-in: the client Secret, read access to it
 * (that one Secret) for the load balancer controller, and the Ingress to the state service's
 * `dashboard-alb` port. The NetworkPolicy opening that port to the VPC is
 * infra/network-policies.ts (dashboardAlb).
 */
export class DashboardIngress extends pulumi.ComponentResource {
  public readonly ingress: k8s.networking.v1.Ingress;

  constructor(name: string, args: DashboardIngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:DashboardIngress', name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const labels = { 'app.kubernetes.io/part-of': 'swoop-platform', 'app.kubernetes.io/component': 'dashboard-ingress' };
    const secret = new k8s.core.v1.Secret(`${name}-oidc`, {
      metadata: { name: DASHBOARD_OIDC_SECRET, namespace: args.namespace, labels },
      stringData: { clientID: args.alb.oidc.clientId, clientSecret: args.clientSecret },
    }, k8sOpts);
    // The controller's chart grants no Secret access here; it reads the client Secret with a
    // get by name (a missing grant fails as "cannot get resource secrets"): that, and only that.
    const role = new k8s.rbac.v1.Role(`${name}-oidc-reader`, {
      metadata: { name: 'aws-load-balancer-controller-dashboard-oidc', namespace: args.namespace, labels },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [DASHBOARD_OIDC_SECRET], verbs: ['get'] }],
    }, k8sOpts);
    const binding = new k8s.rbac.v1.RoleBinding(`${name}-oidc-reader`, {
      metadata: { name: 'aws-load-balancer-controller-dashboard-oidc', namespace: args.namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'aws-load-balancer-controller-dashboard-oidc' },
      subjects: [{ kind: 'ServiceAccount', name: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT, namespace: LOAD_BALANCER_CONTROLLER_NAMESPACE }],
    }, { ...k8sOpts, dependsOn: [role] });
    this.ingress = new k8s.networking.v1.Ingress(`${name}-ingress`, {
      metadata: {
        name: DASHBOARD_INGRESS_NAME,
        namespace: args.namespace,
        labels,
        annotations: pulumi.all(args.inboundCidrs).apply((cidrs) => dashboardIngressAnnotations(args.alb, cidrs)),
      },
      spec: {
        ingressClassName: ALB_INGRESS_CLASS,
        rules: [{
          host: args.alb.host,
          http: { paths: [{ path: '/dashboard', pathType: 'Prefix', backend: { service: { name: STATE_SERVICE_NAME, port: { name: STATE_DASHBOARD_ALB_PORT_NAME } } } }] },
        }],
      },
    }, { ...k8sOpts, dependsOn: [secret, binding] });
    this.registerOutputs({});
  }
}
