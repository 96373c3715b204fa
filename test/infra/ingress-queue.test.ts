import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceRecorder, policy, valueOf } from './support/pulumi-mocks';
import { testCluster } from './support/fixtures';

const ARN = (service: string, resource: string) => `arn:aws:${service}:us-west-2:123456789012:${resource}`;

describe('IngressQueue with an SNS topic', () => {
  const rec = new ResourceRecorder();
  beforeAll(async () => {
    await rec.install('unit');
    const { IngressQueue } = await import('../../infra/ingress-queue');
    const cluster = await testCluster('swoop-t');
    const q = new IngressQueue('ingress', { clusterName: 'swoop-t', cluster, topic: true, maxReceiveCount: 3, alarmActions: ['arn:aws:sns:us-west-2:123456789012:alarms'] });
    await valueOf(q.eventSourceRoleArn);
    await rec.settle();
  });
  const queue = () => rec.ofType('aws:sqs/queue:Queue').find((q) => q.inputs.name === 'swoop-t-process')!.inputs;
  const dlq = () => rec.ofType('aws:sqs/queue:Queue').find((q) => q.inputs.name === 'swoop-t-process-dlq')!.inputs;

  it('names the queue, DLQ and topic after the cluster (docs/contracts.md)', () => {
    expect(rec.ofType('aws:sqs/queue:Queue').map((q) => q.inputs.name).sort()).toEqual(['swoop-t-process', 'swoop-t-process-dlq']);
    expect(rec.one('aws:sns/topic:Topic').inputs.name).toBe('swoop-t-process');
  });

  it('long-polls, times visibility like the event source, encrypts both queues with its rotating key', () => {
    expect(queue()).toMatchObject({ receiveWaitTimeSeconds: 20, visibilityTimeoutSeconds: 120, kmsMasterKeyId: ARN('kms', 'key/swoop-t-ingress') });
    expect(dlq()).toMatchObject({ kmsMasterKeyId: ARN('kms', 'key/swoop-t-ingress'), messageRetentionSeconds: 14 * 24 * 3600 });
    expect(rec.one('aws:kms/key:Key', 'swoop-t-ingress').inputs.enableKeyRotation).toBe(true);
  });

  it('redrives to the DLQ after the configured receives, and the DLQ accepts only this queue', () => {
    expect(JSON.parse(queue().redrivePolicy)).toEqual({ deadLetterTargetArn: ARN('sqs', 'swoop-t-process-dlq'), maxReceiveCount: 3 });
    const allow = JSON.parse(rec.one('aws:sqs/redriveAllowPolicy:RedriveAllowPolicy').inputs.redriveAllowPolicy);
    expect(allow).toEqual({ redrivePermission: 'byQueue', sourceQueueArns: [ARN('sqs', 'swoop-t-process')] });
  });

  it('subscribes the queue to the topic, raw, and admits SendMessage only from that topic', () => {
    expect(rec.one('aws:sns/topicSubscription:TopicSubscription').inputs).toMatchObject({
      topic: ARN('sns', 'swoop-t-process'), protocol: 'sqs', endpoint: ARN('sqs', 'swoop-t-process'), rawMessageDelivery: true,
    });
    const statements = policy(rec.one('aws:sqs/queuePolicy:QueuePolicy').inputs.policy).Statement;
    expect(statements.find((s: any) => s.Effect === 'Allow')).toEqual({
      Sid: 'TopicSends', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: ARN('sqs', 'swoop-t-process'),
      Condition: { ArnEquals: { 'aws:SourceArn': ARN('sns', 'swoop-t-process') } },
    });
    expect(statements.find((s: any) => s.Effect === 'Deny').Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('lets SNS use the key only for this topic', () => {
    const key = policy(rec.one('aws:kms/key:Key', 'swoop-t-ingress').inputs.policy).Statement;
    expect(key.find((s: any) => s.Principal.Service === 'sns.amazonaws.com').Condition).toEqual({ ArnEquals: { 'aws:SourceArn': ARN('sns', 'swoop-t-process') } });
  });

  it('alarms as soon as one message is dead-lettered', () => {
    const alarm = rec.one('aws:cloudwatch/metricAlarm:MetricAlarm').inputs;
    expect(alarm).toMatchObject({
      namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: 'swoop-t-process-dlq' },
      threshold: 0, comparisonOperator: 'GreaterThanThreshold', alarmActions: ['arn:aws:sns:us-west-2:123456789012:alarms'],
    });
  });

  it('gives swoop/swoop-events-source a role that may only consume this queue and decrypt with its key', () => {
    const role = rec.one('aws:iam/role:Role', 'ingress-event-source').inputs;
    expect(policy(role.assumeRolePolicy).Statement[0].Condition.StringEquals).toEqual({
      'aws:RequestTag/eks-cluster-name': 'swoop-t', 'aws:RequestTag/kubernetes-namespace': 'swoop', 'aws:RequestTag/kubernetes-service-account': 'swoop-events-source',
    });
    expect(policy(rec.one('aws:iam/rolePolicy:RolePolicy', 'ingress-event-source').inputs.policy).Statement).toEqual([
      { Sid: 'ConsumeProcessQueue', Effect: 'Allow', Action: ['sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'], Resource: ARN('sqs', 'swoop-t-process') },
      { Sid: 'DecryptMessages', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: ARN('kms', 'key/swoop-t-ingress') },
    ]);
    expect(rec.one('aws:eks/podIdentityAssociation:PodIdentityAssociation', 'ingress-event-source').inputs).toMatchObject({
      namespace: 'swoop', serviceAccount: 'swoop-events-source', roleArn: 'arn:aws:iam::123456789012:role/ingress-event-source',
    });
  });
});

describe('IngressQueue without a topic', () => {
  it('keeps the default key policy and no statement admitting anyone to send', async () => {
    const rec = new ResourceRecorder();
    await rec.install('unit-no-topic');
    const { IngressQueue } = await import('../../infra/ingress-queue');
    new IngressQueue('ingress', { clusterName: 'swoop-u' });
    await rec.settle();
    expect(rec.ofType('aws:sns/topic:Topic')).toEqual([]);
    expect(rec.one('aws:kms/key:Key').inputs.policy).toBeUndefined();
    expect(policy(rec.one('aws:sqs/queuePolicy:QueuePolicy').inputs.policy).Statement.map((s: any) => s.Effect)).toEqual(['Deny']);
    expect(JSON.parse(rec.one('aws:sqs/queue:Queue', 'ingress').inputs.redrivePolicy).maxReceiveCount).toBe(5);
  });

  it.each([0, 1001, 2.5])('refuses maxReceiveCount %s by name', async (n) => {
    const rec = new ResourceRecorder();
    await rec.install('unit-bad');
    const { IngressQueue } = await import('../../infra/ingress-queue');
    expect(() => new IngressQueue('ingress', { clusterName: 'swoop-v', maxReceiveCount: n })).toThrow(`IngressQueue ingress: maxReceiveCount must be a whole number from 1 to 1000 (got ${n})`);
  });
});
