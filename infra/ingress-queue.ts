import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { encryptionKey } from './kms';
import { podIdentityTrustPolicy, policyDocument, type Statement } from './iam';
import type { Cluster } from './cluster';
import { ALERTS, cloudWatchAlarmName } from '../constructs/alert-names';

/** Where the Argo Events SQS EventSource runs (constructs/events/names.ts, docs/contracts.md). */
export const EVENT_SOURCE_NAMESPACE = 'swoop';
export const EVENT_SOURCE_SERVICE_ACCOUNT = 'swoop-events-source';

/**
 * What the argo-events SQS event source calls (pkg/eventsources/sources/awssqs/start.go):
 * GetQueueUrl once at start (it is configured with the queue *name*), ReceiveMessage in a
 * loop, DeleteMessage after the event reached the bus. Nothing else, so nothing else is granted.
 */
export const EVENT_SOURCE_QUEUE_ACTIONS = ['sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'] as const;

/**
 * The visibility timeout the event source asks for on every ReceiveMessage (start.go, 120 s):
 * the queue's default is the same, so a consumer that does not set one behaves alike.
 */
export const EVENT_SOURCE_VISIBILITY_SECONDS = 120;

/** Longest SQS retention (14 days): a dead letter waits two weekends for an operator. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

export interface IngressQueueArgs {
  /** Names: queue `<clusterName>-process`, DLQ `<clusterName>-process-dlq`, topic `<clusterName>-process`. */
  readonly clusterName: string;
  /** Binds the event-source role to `swoop/swoop-events-source`. Without it the role is made but not bound. */
  readonly cluster?: Cluster;
  /** Receives before a message moves to the DLQ. Default 5. */
  readonly maxReceiveCount?: number;
  /** Queue visibility timeout in seconds. Default 120 (what the event source requests). */
  readonly visibilityTimeoutSeconds?: number;
  /** Create the SNS process topic subscribed to the queue (cirrus' entry point). Default false. */
  readonly topic?: boolean;
  /** Alarm actions (SNS topic ARNs) of the DLQ depth alarm. Default none (alarm state only). */
  readonly alarmActions?: pulumi.Input<string>[];
  readonly keyDeletionWindowDays?: number;
  readonly tags?: Record<string, string>;
}

/**
 * The process queue of an environment: SSE-KMS with its own key, long polling (20 s), a
 * redrive to a dead-letter queue kept 14 days, optionally an SNS topic delivering raw
 * payloads to it (the queue policy admits only that topic), a CloudWatch alarm as soon as a
 * message is dead-lettered, and the Pod Identity role of the SQS EventSource, allowed only
 * the calls the event source makes, on this queue and its key.
 */
export class IngressQueue extends pulumi.ComponentResource {
  public readonly queueName: pulumi.Output<string>;
  public readonly queueUrl: pulumi.Output<string>;
  public readonly queueArn: pulumi.Output<string>;
  public readonly dlqName: pulumi.Output<string>;
  public readonly dlqUrl: pulumi.Output<string>;
  public readonly keyArn: pulumi.Output<string>;
  public readonly topicArn?: pulumi.Output<string>;
  public readonly eventSourceRoleArn: pulumi.Output<string>;
  public readonly dlqAlarm: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: IngressQueueArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering, so a refused argument leaves no half-made component.
    const maxReceiveCount = args.maxReceiveCount ?? 5;
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw new Error(`IngressQueue ${name}: maxReceiveCount must be a whole number from 1 to 1000 (got ${maxReceiveCount})`);
    }
    const visibility = args.visibilityTimeoutSeconds ?? EVENT_SOURCE_VISIBILITY_SECONDS;
    if (!Number.isInteger(visibility) || visibility < 0 || visibility > 43_200) {
      throw new Error(`IngressQueue ${name}: visibilityTimeoutSeconds must be 0 to 43200 (got ${visibility})`);
    }
    super('swoop:infra:IngressQueue', name, {}, opts);
    const parent = { parent: this };
    const queueName = `${args.clusterName}-process`;
    const dlqName = `${args.clusterName}-process-dlq`;

    // ARNs built from names, so the key policy can name the topic the key encrypts for.
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const topicArn = pulumi.interpolate`arn:aws:sns:${region}:${account}:${queueName}`;

    const key = encryptionKey(`${args.clusterName}-ingress`, `SQS/SNS ${queueName} server-side encryption`, this, args.keyDeletionWindowDays, args.tags, args.topic ? pulumi.jsonStringify({
      Version: '2012-10-17',
      Statement: [
        // The default key policy: IAM policies of the account decide who uses the key.
        { Sid: 'AccountIam', Effect: 'Allow', Principal: { AWS: pulumi.interpolate`arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
        // SNS encrypts what it delivers to the (encrypted) queue, only for our topic.
        {
          Sid: 'TopicDelivers', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' },
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: '*',
          Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
        },
      ],
    }) : undefined);
    this.keyArn = key.arn;

    const dlq = new aws.sqs.Queue(`${name}-dlq`, {
      name: dlqName,
      messageRetentionSeconds: DLQ_RETENTION_SECONDS,
      kmsMasterKeyId: key.arn,
      kmsDataKeyReusePeriodSeconds: 300,
      tags: args.tags,
    }, parent);
    const queue = new aws.sqs.Queue(name, {
      name: queueName,
      visibilityTimeoutSeconds: visibility,
      receiveWaitTimeSeconds: 20,
      messageRetentionSeconds: 4 * 24 * 3600,
      kmsMasterKeyId: key.arn,
      kmsDataKeyReusePeriodSeconds: 300,
      redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
      tags: args.tags,
    }, parent);
    // Only the process queue may dead-letter here.
    new aws.sqs.RedriveAllowPolicy(`${name}-dlq`, {
      queueUrl: dlq.url,
      redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: 'byQueue', sourceQueueArns: [queue.arn] }),
    }, parent);

    const denyPlainHttp = (resource: pulumi.Input<string>, action: string): Statement => ({
      Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: action, Resource: resource,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const queueStatements: Statement[] = [denyPlainHttp(queue.arn, 'sqs:*')];
    if (args.topic) {
      const topic = new aws.sns.Topic(name, { name: queueName, kmsMasterKeyId: key.arn, tags: args.tags }, parent);
      this.topicArn = topic.arn;
      new aws.sns.TopicPolicy(name, {
        arn: topic.arn,
        policy: policyDocument([
          // Publishing stays with principals of this account that IAM allows to.
          { Sid: 'AccountPublishes', Effect: 'Allow', Principal: { AWS: pulumi.interpolate`arn:aws:iam::${account}:root` }, Action: 'sns:Publish', Resource: topic.arn },
          denyPlainHttp(topic.arn, 'sns:Publish'),
        ]),
      }, parent);
      queueStatements.push({
        Sid: 'TopicSends', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queue.arn,
        Condition: { ArnEquals: { 'aws:SourceArn': topic.arn } },
      });
      const queuePolicy = new aws.sqs.QueuePolicy(name, { queueUrl: queue.url, policy: policyDocument(queueStatements) }, parent);
      // Raw delivery: the queue receives the payload as published (the sensors also unwrap SNS envelopes).
      new aws.sns.TopicSubscription(name, { topic: topic.arn, protocol: 'sqs', endpoint: queue.arn, rawMessageDelivery: true }, { parent: this, dependsOn: [queuePolicy] });
    } else {
      new aws.sqs.QueuePolicy(name, { queueUrl: queue.url, policy: policyDocument(queueStatements) }, parent);
    }

    this.dlqAlarm = new aws.cloudwatch.MetricAlarm(`${name}-dlq-depth`, {
      name: cloudWatchAlarmName(args.clusterName, ALERTS.ingressDeadLetters),
      alarmDescription: `Payloads in ${dlqName}: they failed ${maxReceiveCount} deliveries to the event bus; inspect and redrive them`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: dlq.name },
      statistic: 'Maximum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
      alarmActions: args.alarmActions ?? [],
      okActions: args.alarmActions ?? [],
      tags: args.tags,
    }, parent);

    const role = new aws.iam.Role(`${name}-event-source`, {
      assumeRolePolicy: podIdentityTrustPolicy({ clusterName: args.cluster?.name, namespace: EVENT_SOURCE_NAMESPACE, serviceAccount: EVENT_SOURCE_SERVICE_ACCOUNT }),
      tags: args.tags,
    }, parent);
    new aws.iam.RolePolicy(`${name}-event-source`, {
      role: role.id,
      policy: policyDocument([
        { Sid: 'ConsumeProcessQueue', Effect: 'Allow', Action: [...EVENT_SOURCE_QUEUE_ACTIONS], Resource: queue.arn },
        { Sid: 'DecryptMessages', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: key.arn },
      ]),
    }, parent);
    args.cluster?.bindServiceAccount(`${name}-event-source`, EVENT_SOURCE_NAMESPACE, EVENT_SOURCE_SERVICE_ACCOUNT, role.arn, this);
    this.eventSourceRoleArn = role.arn;

    this.queueName = queue.name;
    this.queueUrl = queue.url;
    this.queueArn = queue.arn;
    this.dlqName = dlq.name;
    this.dlqUrl = dlq.url;
    this.registerOutputs({
      queueName: this.queueName, queueUrl: this.queueUrl, queueArn: this.queueArn, dlqUrl: this.dlqUrl,
      topicArn: this.topicArn, eventSourceRoleArn: this.eventSourceRoleArn,
    });
  }
}
