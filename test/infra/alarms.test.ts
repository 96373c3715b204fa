import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ALERTS, cloudWatchAlarmName } from '../../constructs/alert-names';
import { ResourceRecorder, policy } from './support/pulumi-mocks';
import { testCluster } from './support/fixtures';
import { runStack, type StackRun } from './support/stack-run';

describe('Monitoring', () => {
  const rec = new ResourceRecorder();
  beforeAll(async () => {
    await rec.install('unit-monitoring');
    const { Monitoring } = await import('../../infra/alarms');
    const cluster = await testCluster('mon');
    new Monitoring('monitoring', {
      cluster, clusterName: 'mon', addonVersion: 'v4.6.0-eksbuild.1',
      database: { identifier: 'state-db', instanceClass: 'db.r7g.large', allocatedStorageGiB: 100 },
      alarmActions: ['arn:aws:sns:us-west-2:123456789012:oncall'],
    });
    await rec.settle();
  });
  const alarm = (id: string) => rec.one('aws:cloudwatch/metricAlarm:MetricAlarm', `monitoring-${id}`).inputs;

  it('installs Container Insights as the pinned add-on, its agent on a Pod Identity role', () => {
    const addon = rec.one('aws:eks/addon:Addon', 'monitoring-amazon-cloudwatch-observability').inputs;
    expect(addon).toMatchObject({ addonName: 'amazon-cloudwatch-observability', addonVersion: 'v4.6.0-eksbuild.1' });
    expect(addon.podIdentityAssociations[0].serviceAccount).toBe('cloudwatch-agent');
    expect(policy(rec.one('aws:iam/role:Role', 'monitoring-cloudwatch-agent').inputs.assumeRolePolicy).Statement[0].Condition.StringEquals['aws:RequestTag/kubernetes-service-account']).toBe('cloudwatch-agent');
    expect(rec.one('aws:iam/rolePolicyAttachment:RolePolicyAttachment', 'monitoring-cloudwatch-agent').inputs.policyArn).toBe('arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy');
  });

  it('alarms on RDS CPU, free storage and connections, scaled to the instance', () => {
    expect(alarm('rds-cpu')).toMatchObject({ namespace: 'AWS/RDS', metricName: 'CPUUtilization', dimensions: { DBInstanceIdentifier: 'state-db' }, threshold: 80, comparisonOperator: 'GreaterThanThreshold' });
    expect(alarm('rds-free-storage')).toMatchObject({ metricName: 'FreeStorageSpace', threshold: Math.round(100 * 2 ** 30 * 0.1), comparisonOperator: 'LessThanThreshold' });
    // db.r7g.large: 16 GiB -> LEAST(16 GiB / 9531392, 5000) = 1802 connections; alarm at 80%.
    expect(alarm('rds-connections')).toMatchObject({ metricName: 'DatabaseConnections', threshold: 1441, comparisonOperator: 'GreaterThanThreshold' });
  });

  it('alarms when the state service has no ready pod, treating silence as failure', () => {
    expect(alarm('state-service-ready')).toMatchObject({
      namespace: 'ContainerInsights', metricName: 'pod_status_ready', dimensions: { ClusterName: 'mon', Namespace: 'swoop', PodName: 'swoop-state' },
      threshold: 1, comparisonOperator: 'LessThanThreshold', treatMissingData: 'breaching',
    });
  });

  it('notifies the configured topic on alarm and on recovery', () => {
    for (const a of rec.ofType('aws:cloudwatch/metricAlarm:MetricAlarm')) {
      expect(a.inputs.alarmActions).toEqual(['arn:aws:sns:us-west-2:123456789012:oncall']);
      expect(a.inputs.okActions).toEqual(['arn:aws:sns:us-west-2:123456789012:oncall']);
    }
  });

  it('knows the memory of the classes it sizes connections for, and refuses others by name', async () => {
    const { instanceMemoryGiB, defaultMaxConnections } = await import('../../infra/alarms');
    expect([instanceMemoryGiB('db.t4g.medium'), instanceMemoryGiB('db.m7g.large'), instanceMemoryGiB('db.r7g.2xlarge')]).toEqual([4, 8, 64]);
    expect(defaultMaxConnections('db.t4g.medium')).toBe(450);
    expect(() => instanceMemoryGiB('db.x2g.large')).toThrow('Monitoring: no memory size known for db.x2g.large');
  });
});

describe('alarms in the stacks', () => {
  let dev: StackRun;
  let prod: StackRun;
  beforeAll(async () => {
    dev = await runStack('dev');
    prod = await runStack('prod', { 'swoop-platform:argoSsoClientSecret': 's', 'swoop-platform:dashboardOidcClientSecret': 's' });
  });

  it('are named as the alert catalogue names them; the readiness alarm as the PrometheusRule\'s alert', () => {
    for (const [stack, run] of [['dev', dev], ['prod', prod]] as const) {
      const cluster = `swoop-${stack}`;
      const names = run.resources.filter((r) => r.type === 'aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => a.inputs.name).sort();
      expect(names).toEqual([ALERTS.ingressDeadLetters, ALERTS.databaseConnections, ALERTS.databaseCpu, ALERTS.databaseStorage, ALERTS.serviceNotReady]
        .map((a) => cloudWatchAlarmName(cluster, a)).sort());
      const ready = run.resources.find((r) => r.type === 'aws:cloudwatch/metricAlarm:MetricAlarm' && r.inputs.metricName === 'pod_status_ready')!;
      const rule = parseAllDocuments(readFileSync(join(__dirname, '..', '..', 'dist', stack, 'state-monitoring.yaml'), 'utf8')).map((d) => d.toJS())
        .find((d) => d.kind === 'PrometheusRule');
      const alerts = rule.spec.groups.flatMap((g: { rules: { alert: string }[] }) => g.rules.map((r) => r.alert));
      expect(alerts).toContain(ready.inputs.name.slice(`${cluster}-`.length));
      // every other alarm watches what Prometheus does not scrape here (RDS, SQS): no rule of the same name
      expect(names.filter((n: string) => alerts.includes(n.slice(`${cluster}-`.length)))).toEqual([cloudWatchAlarmName(cluster, ALERTS.serviceNotReady)]);
    }
  });

  it('watch the DLQ, the database and the state service in both stacks; prod notifies its on-call topic', () => {
    for (const run of [dev, prod]) {
      const metrics = run.resources.filter((r) => r.type === 'aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => a.inputs.metricName).sort();
      expect(metrics).toEqual(['ApproximateNumberOfMessagesVisible', 'CPUUtilization', 'DatabaseConnections', 'FreeStorageSpace', 'pod_status_ready']);
    }
    const actions = (run: StackRun) => new Set(run.resources.filter((r) => r.type === 'aws:cloudwatch/metricAlarm:MetricAlarm').flatMap((a) => a.inputs.alarmActions));
    expect(actions(dev)).toEqual(new Set());
    expect(actions(prod)).toEqual(new Set(['arn:aws:sns:us-west-2:210987654321:swoop-prod-oncall']));
    const rds = prod.resources.find((r) => r.type === 'aws:rds/instance:Instance')!;
    const cpu = prod.resources.find((r) => r.type === 'aws:cloudwatch/metricAlarm:MetricAlarm' && r.inputs.metricName === 'CPUUtilization')!;
    expect(cpu.inputs.dimensions.DBInstanceIdentifier).toBe(rds.inputs.identifier ?? rds.name);
  });
});
