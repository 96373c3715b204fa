import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { policyDocument, type Statement } from './iam';
import { SQS_QUEUE_URL } from '../state/sqs-queue-url';
import type { TaskTokenQueue } from '../stacks/environment';

export type { TaskTokenQueue };

/** `arn:aws:sqs:<region>:<account>:<name>` of a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>). */
export function queueArn(url: string): string {
  const m = SQS_QUEUE_URL.exec(url);
  if (!m) throw new Error(`not an SQS queue URL: ${url}`);
  const [, region, cn] = m;
  const [account, name] = new URL(url).pathname.slice(1).split('/');
  return `arn:${cn ? 'aws-cn' : 'aws'}:sqs:${region}:${account}:${name}`;
}

export interface StateServiceIdentityArgs {
  /** The state service's Pod Identity role (ArtifactBucket's `swoop/swoop-state` binding, which reads payloads): EKS allows one association per service account, so the grants go onto it. */
  readonly roleName: pulumi.Input<string>;
  readonly taskTokenQueues: readonly TaskTokenQueue[];
}

/**
 * The state service's task-token grants on its Pod Identity role (swoop/swoop-state): it sends
 * tokens with its own credentials (state/sqs-delivery.ts, SendMessage and nothing else) to the
 * queues in TASK_TOKEN_QUEUES, so the role may `sqs:SendMessage` on exactly those queues and,
 * for SSE-KMS queues, `kms:GenerateDataKey` + `kms:Decrypt` on their keys, only through SQS
 * (what the SQS Developer Guide asks of a producer, "Configuring AWS KMS permissions").
 * Nothing is added without queues.
 */
export class StateServiceIdentity extends pulumi.ComponentResource {
  constructor(name: string, args: StateServiceIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:StateServiceIdentity', name, {}, opts);
    const queues = args.taskTokenQueues;
    if (queues.length === 0) {
      this.registerOutputs({});
      return;
    }
    const statements: Statement[] = [{ Sid: 'SendTaskTokens', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: queues.map((q) => queueArn(q.url)) }];
    const keys = [...new Set(queues.flatMap((q) => (q.kmsKeyArn ? [q.kmsKeyArn] : [])))];
    if (keys.length > 0) {
      const regions = [...new Set(queues.filter((q) => q.kmsKeyArn).map((q) => SQS_QUEUE_URL.exec(q.url)![1]))];
      statements.push({
        Sid: 'EncryptTaskTokens', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keys,
        Condition: { StringEquals: { 'kms:ViaService': regions.map((r) => `sqs.${r}.amazonaws.com`) } },
      });
    }
    new aws.iam.RolePolicy(name, { role: args.roleName, policy: policyDocument(statements) }, { parent: this });
    this.registerOutputs({});
  }
}
