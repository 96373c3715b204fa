import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ALERTS, type AlertName, cloudWatchAlarmName } from '../constructs/alert-names';
import { podIdentityTrustPolicy } from './iam';
import type { Cluster } from './cluster';

export interface MonitoringArgs {
  readonly cluster: Cluster;
  readonly clusterName: string;
  /** Pinned version of the amazon-cloudwatch-observability add-on (Container Insights). */
  readonly addonVersion?: string;
  /** The state database the RDS alarms watch. */
  readonly database: {
    readonly identifier: pulumi.Input<string>;
    readonly instanceClass: string;
    readonly allocatedStorageGiB: number;
  };
  /** Namespace and Deployment of the state service (docs/contracts.md). Default `swoop`/`swoop-state`. */
  readonly stateService?: { readonly namespace: string; readonly name: string };
  /** SNS topic ARNs notified on alarm and recovery. Default none (alarm state only, visible in CloudWatch). */
  readonly alarmActions?: pulumi.Input<string>[];
  readonly tags?: Record<string, string>;
}

/** Memory of an RDS instance class in GiB, from its family and size (t: burstable, m: 4 GiB/vCPU, r: 8 GiB/vCPU). */
export function instanceMemoryGiB(instanceClass: string): number {
  const m = /^db\.([tmr])\d+[a-z]*\.(micro|small|medium|large|xlarge|(\d+)xlarge)$/.exec(instanceClass);
  if (!m) throw new Error(`Monitoring: no memory size known for ${instanceClass}; use a db.t*, db.m* or db.r* class, or add its family to instanceMemoryGiB in infra/alarms.ts`);
  const [, family, size, n] = m;
  const vcpus = size === 'large' ? 2 : size === 'xlarge' ? 4 : n ? 4 * Number(n) : 2;
  if (family === 't') return { micro: 1, small: 2, medium: 4, large: 8, xlarge: 16 }[size] ?? 4 * Number(n) * 4;
  return vcpus * (family === 'r' ? 8 : 4);
}

/**
 * RDS PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000)
 * (the parameter group formula), with the class's nominal memory.
 */
export function defaultMaxConnections(instanceClass: string): number {
  return Math.min(Math.floor((instanceMemoryGiB(instanceClass) * 2 ** 30) / 9_531_392), 5000);
}

/**
 * Container Insights (the amazon-cloudwatch-observability add-on, its agent on a Pod
 * Identity role) and the platform's CloudWatch alarms besides the DLQ's (IngressQueue): the
 * state database's CPU, free storage and connections, and the state service having no ready
 * pod. Each alarm notifies `alarmActions` on alarm and on recovery.
 */
export class Monitoring extends pulumi.ComponentResource {
  public readonly alarms: Record<string, aws.cloudwatch.MetricAlarm> = {};

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    const maxConnections = defaultMaxConnections(args.database.instanceClass);
    super('swoop:infra:Monitoring', name, {}, opts);
    const parent = { parent: this };

    const role = new aws.iam.Role(`${name}-cloudwatch-agent`, {
      assumeRolePolicy: podIdentityTrustPolicy({ clusterName: args.cluster.name, namespace: 'amazon-cloudwatch', serviceAccount: 'cloudwatch-agent' }),
      tags: args.tags,
    }, parent);
    new aws.iam.RolePolicyAttachment(`${name}-cloudwatch-agent`, { role: role.name, policyArn: 'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy' }, parent);
    new aws.eks.Addon(`${name}-amazon-cloudwatch-observability`, {
      clusterName: args.cluster.name,
      addonName: 'amazon-cloudwatch-observability',
      addonVersion: args.addonVersion,
      podIdentityAssociations: [{ roleArn: role.arn, serviceAccount: 'cloudwatch-agent' }],
      resolveConflictsOnCreate: 'OVERWRITE',
      resolveConflictsOnUpdate: 'PRESERVE',
      tags: args.tags,
    }, parent);

    const actions = args.alarmActions ?? [];
    // Named as the alert catalogue names them (constructs/alert-names.ts), like the PrometheusRule's.
    const alarm = (id: string, alert: AlertName, props: Omit<aws.cloudwatch.MetricAlarmArgs, 'name' | 'alarmActions' | 'okActions' | 'tags'>) => {
      this.alarms[id] = new aws.cloudwatch.MetricAlarm(`${name}-${id}`, {
        ...props, name: cloudWatchAlarmName(args.clusterName, alert), alarmActions: actions, okActions: actions, tags: args.tags,
      }, parent);
    };
    const db = { DBInstanceIdentifier: args.database.identifier };
    alarm('rds-cpu', ALERTS.databaseCpu, {
      alarmDescription: `State database CPU above 80% for 15 minutes (${args.database.instanceClass})`,
      namespace: 'AWS/RDS', metricName: 'CPUUtilization', dimensions: db, statistic: 'Average',
      period: 300, evaluationPeriods: 3, threshold: 80, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'missing',
    });
    alarm('rds-free-storage', ALERTS.databaseStorage, {
      alarmDescription: `State database free storage under 10% of ${args.database.allocatedStorageGiB} GiB`,
      namespace: 'AWS/RDS', metricName: 'FreeStorageSpace', dimensions: db, statistic: 'Minimum',
      period: 300, evaluationPeriods: 1, threshold: Math.round(args.database.allocatedStorageGiB * 2 ** 30 * 0.1), comparisonOperator: 'LessThanThreshold', treatMissingData: 'missing',
    });
    alarm('rds-connections', ALERTS.databaseConnections, {
      alarmDescription: `State database connections above 80% of max_connections (${maxConnections} by default on ${args.database.instanceClass})`,
      namespace: 'AWS/RDS', metricName: 'DatabaseConnections', dimensions: db, statistic: 'Maximum',
      period: 300, evaluationPeriods: 2, threshold: Math.floor(maxConnections * 0.8), comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'missing',
    });
    const state = args.stateService ?? { namespace: 'swoop', name: 'swoop-state' };
    alarm('state-service-ready', ALERTS.serviceNotReady, {
      alarmDescription: `No ready pod of ${state.namespace}/${state.name} for 5 minutes (its /readyz fails or it is not running): nothing records runs or claims payloads`,
      namespace: 'ContainerInsights', metricName: 'pod_status_ready',
      dimensions: { ClusterName: args.clusterName, Namespace: state.namespace, PodName: state.name }, statistic: 'Sum',
      period: 60, evaluationPeriods: 5, threshold: 1, comparisonOperator: 'LessThanThreshold',
      // No data means no pod reports at all: as bad as none ready.
      treatMissingData: 'breaching',
    });
    this.registerOutputs({});
  }
}
