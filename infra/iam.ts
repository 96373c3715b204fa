import * as pulumi from '@pulumi/pulumi';

/** One IAM policy statement; `Resource` is required so nothing is granted on "*" by omission. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: pulumi.Input<string> | pulumi.Input<string>[];
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Serializes statements (which may hold outputs such as ARNs) into a policy JSON string. */
export function policyDocument(statements: Statement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: '2012-10-17', Statement: statements });
}

/** The one service account (and cluster, when known) an EKS Pod Identity role serves. */
export interface PodIdentityScope {
  readonly clusterName?: pulumi.Input<string>;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/**
 * Trust policy for an EKS Pod Identity role: only the Pod Identity agent may assume it
 * (sts:TagSession carries the pod's session tags), and the session tags EKS sets must name
 * this role's cluster, namespace and service account, so an association made elsewhere in
 * the account cannot borrow it.
 */
export function podIdentityTrustPolicy(scope: PodIdentityScope): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringEquals: {
            ...(scope.clusterName ? { 'aws:RequestTag/eks-cluster-name': scope.clusterName } : {}),
            'aws:RequestTag/kubernetes-namespace': scope.namespace,
            'aws:RequestTag/kubernetes-service-account': scope.serviceAccount,
          },
        },
      },
    ],
  });
}

/** Trust policy letting an AWS service (eks.amazonaws.com, ec2.amazonaws.com) assume a role. */
export function serviceTrustPolicy(service: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}
