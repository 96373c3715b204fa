import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { CHARTS, chartSource } from './charts';
import { podIdentityTrustPolicy, policyDocument, type Statement } from './iam';
import { SYSTEM_POOL } from './scheduling';
import type { Cluster } from './cluster';

export interface LoadBalancerControllerArgs {
  readonly cluster: Cluster;
  readonly clusterName: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  /**
   * The namespaces whose Ingresses the controller serves. One: it watches only that namespace
   * (`--watch-namespace`). More (the Argo server's and the dashboard's): the controller can
   * watch one namespace or all (controller-runtime), so it watches all, and its IngressClass
   * `alb` admits Ingresses of these namespaces only (IngressClassParams namespaceSelector).
   */
  readonly watchNamespaces: readonly string[];
  readonly tags?: Record<string, string>;
}

export const LOAD_BALANCER_CONTROLLER_NAMESPACE = 'kube-system';
export const LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT = 'aws-load-balancer-controller';
/** The IngressClass the controller serves (the chart's default); every Ingress of the platform names it. */
export const ALB_INGRESS_CLASS = 'alb';

/** Chart values that confine the controller to `namespaces` (see LoadBalancerControllerArgs.watchNamespaces). */
export function namespaceScope(namespaces: readonly string[]): Record<string, unknown> {
  if (namespaces.length === 0) throw new Error('LoadBalancerController: watchNamespaces is empty; name the namespaces whose Ingresses it serves');
  if (namespaces.length === 1) return { watchNamespace: namespaces[0] };
  return {
    watchNamespace: '',
    createIngressClassResource: true,
    ingressClass: ALB_INGRESS_CLASS,
    ingressClassParams: {
      create: true,
      name: ALB_INGRESS_CLASS,
      spec: { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [...namespaces].sort() }] } },
    },
  };
}

/** The tag the controller puts on every load balancer, target group and security group it creates, valued with the cluster name. */
export const CLUSTER_TAG = 'elbv2.k8s.aws/cluster';

/** Load balancers (CreateListener), listeners and listener rules: where listener and rule calls act. */
const LISTENER_RESOURCES = [
  'arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*',
  'arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*',
  'arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*',
  'arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*',
  'arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*/*',
  'arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*/*',
];

/**
 * The controller's IAM policy: the one the project documents (docs/install/iam_policy.json,
 * v2.x), narrowed for this platform. Where the documented policy only asks that a resource
 * carry the cluster tag (`Null: false`), this one asks that the tag name *this* cluster, so
 * two clusters in one account cannot modify each other's load balancers. Security group rule
 * changes and new security groups are limited to the cluster's VPC, and listener and rule calls
 * to load balancer, listener and rule ARNs (the documented policy allows them on "*"). WAF, Shield and Cognito permissions are left out
 * because the chart values switch those features off (enableWaf/enableWafv2/enableShield),
 * and the service-linked role may only be the Elastic Load Balancing one.
 */
export function loadBalancerControllerPolicy(clusterName: pulumi.Input<string>, vpcArn: pulumi.Input<string>): Statement[] {
  const ownTag = (kind: 'Resource' | 'Request') => ({ [`aws:${kind}Tag/${CLUSTER_TAG}`]: clusterName });
  return [
    {
      Sid: 'ElbServiceLinkedRole',
      Effect: 'Allow',
      Action: 'iam:CreateServiceLinkedRole',
      Resource: '*',
      Condition: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
    },
    {
      Sid: 'Describe',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses', 'ec2:DescribeAvailabilityZones', 'ec2:DescribeInternetGateways',
        'ec2:DescribeVpcs', 'ec2:DescribeVpcPeeringConnections', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups',
        'ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeTags', 'ec2:DescribeRouteTables',
        'ec2:DescribeIpamPools', 'ec2:GetSecurityGroupsForVpc', 'ec2:GetCoipPoolUsage', 'ec2:DescribeCoipPools',
        'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes',
        'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeListenerCertificates',
        'elasticloadbalancing:DescribeListenerAttributes', 'elasticloadbalancing:DescribeSSLPolicies',
        'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetGroupAttributes', 'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTrustStores',
        'elasticloadbalancing:DescribeCapacityReservation',
        'acm:ListCertificates', 'acm:DescribeCertificate',
      ],
      Resource: '*',
    },
    {
      Sid: 'SecurityGroupRulesInTheVpc',
      Effect: 'Allow',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
      Resource: '*',
      Condition: { ArnEquals: { 'ec2:Vpc': vpcArn } },
    },
    {
      Sid: 'CreateSecurityGroupInTheVpc',
      Effect: 'Allow',
      Action: 'ec2:CreateSecurityGroup',
      Resource: [vpcArn, 'arn:aws:ec2:*:*:security-group/*'],
    },
    {
      Sid: 'TagNewSecurityGroup',
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: 'arn:aws:ec2:*:*:security-group/*',
      Condition: { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup', ...ownTag('Request') } },
    },
    {
      Sid: 'RetagOwnSecurityGroups',
      Effect: 'Allow',
      Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
      Resource: 'arn:aws:ec2:*:*:security-group/*',
      Condition: { StringEquals: ownTag('Resource'), Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: 'true' } },
    },
    {
      Sid: 'OwnSecurityGroups',
      Effect: 'Allow',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
      Resource: '*',
      Condition: { StringEquals: ownTag('Resource') },
    },
    {
      Sid: 'CreateTaggedLoadBalancers',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
      Resource: '*',
      Condition: { StringEquals: ownTag('Request') },
    },
    {
      Sid: 'ListenersAndRules',
      Effect: 'Allow',
      Action: [
        'elasticloadbalancing:CreateListener', 'elasticloadbalancing:DeleteListener',
        'elasticloadbalancing:CreateRule', 'elasticloadbalancing:DeleteRule',
      ],
      Resource: LISTENER_RESOURCES,
    },
    {
      Sid: 'RetagOwnLoadBalancers',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
      Resource: [
        'arn:aws:elasticloadbalancing:*:*:targetgroup/*/*',
        'arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*',
        'arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*',
      ],
      Condition: { StringEquals: ownTag('Resource'), Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: 'true' } },
    },
    {
      Sid: 'TagOnCreate',
      Effect: 'Allow',
      Action: 'elasticloadbalancing:AddTags',
      Resource: [
        'arn:aws:elasticloadbalancing:*:*:targetgroup/*/*',
        'arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*',
        'arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*',
      ],
      Condition: { StringEquals: { 'elasticloadbalancing:CreateAction': ['CreateTargetGroup', 'CreateLoadBalancer'], ...ownTag('Request') } },
    },
    {
      Sid: 'ModifyOwnLoadBalancers',
      Effect: 'Allow',
      Action: [
        'elasticloadbalancing:ModifyLoadBalancerAttributes', 'elasticloadbalancing:SetIpAddressType',
        'elasticloadbalancing:SetSecurityGroups', 'elasticloadbalancing:SetSubnets',
        'elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:ModifyTargetGroupAttributes', 'elasticloadbalancing:DeleteTargetGroup',
        'elasticloadbalancing:ModifyListenerAttributes', 'elasticloadbalancing:ModifyCapacityReservation',
        'elasticloadbalancing:ModifyIpPools', 'elasticloadbalancing:RegisterTargets',
        'elasticloadbalancing:DeregisterTargets',
      ],
      Resource: '*',
      Condition: { StringEquals: ownTag('Resource') },
    },
    {
      Sid: 'ListenerSettings',
      Effect: 'Allow',
      Action: [
        'elasticloadbalancing:ModifyListener', 'elasticloadbalancing:AddListenerCertificates',
        'elasticloadbalancing:RemoveListenerCertificates', 'elasticloadbalancing:ModifyRule',
        'elasticloadbalancing:SetRulePriorities',
      ],
      Resource: LISTENER_RESOURCES,
    },
  ];
}

/**
 * The AWS Load Balancer Controller, which turns the Argo server's Ingress into an internal
 * ALB (and the dashboard's, infra/dashboard-ingress.ts). Scoped three ways: its IAM role (Pod
 * Identity, policy above) only touches load balancers and security groups tagged with this
 * cluster; it serves Ingresses of the platform's namespaces only (namespaceScope); and its
 * Service mutating webhook is off, so it does not take over `type: LoadBalancer` Services
 * cluster-wide. Runs two replicas on the system pool.
 */
export class LoadBalancerController extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:LoadBalancerController', name, {}, opts);
    const parent = { parent: this };
    const region = args.cluster.arn.apply((arn) => arn.split(':')[3]);
    const account = args.cluster.arn.apply((arn) => arn.split(':')[4]);
    const vpcArn = pulumi.interpolate`arn:aws:ec2:${region}:${account}:vpc/${args.vpcId}`;
    const role = new aws.iam.Role(`${name}-role`, {
      assumeRolePolicy: podIdentityTrustPolicy({ clusterName: args.clusterName, namespace: LOAD_BALANCER_CONTROLLER_NAMESPACE, serviceAccount: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT }),
      tags: args.tags,
    }, parent);
    new aws.iam.RolePolicy(`${name}-policy`, { role: role.name, policy: policyDocument(loadBalancerControllerPolicy(args.clusterName, vpcArn)) }, parent);
    const association = args.cluster.bindServiceAccount(`${name}-pod-identity`, LOAD_BALANCER_CONTROLLER_NAMESPACE, LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT, role.arn, this);

    this.release = new k8s.helm.v3.Release(`${name}-release`, {
      name: 'aws-load-balancer-controller',
      ...chartSource(CHARTS.awsLoadBalancerController),
      namespace: LOAD_BALANCER_CONTROLLER_NAMESPACE,
      values: {
        clusterName: args.clusterName,
        region,
        vpcId: args.vpcId,
        replicaCount: 2,
        serviceAccount: { create: true, name: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT },
        ...namespaceScope(args.watchNamespaces),
        enableServiceMutatorWebhook: false,
        enableShield: false,
        enableWaf: false,
        enableWafv2: false,
        // Pods are VPC addresses (VPC CNI): the ALB targets them directly, not node ports.
        defaultTargetType: 'ip',
        podDisruptionBudget: { maxUnavailable: 1 },
        ...SYSTEM_POOL,
      },
    }, { provider: args.cluster.provider, parent: this, dependsOn: [association] });
    this.roleArn = role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
