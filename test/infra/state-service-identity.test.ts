import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceRecorder, policy } from './support/pulumi-mocks';
import { builtStackConfig, runStack, type StackRun } from './support/stack-run';
import { loadStackConfig } from '../../stacks/config';
import { queueArn } from '../../infra/state-service-identity';
import { configFromEnv } from '../../state/config';
import { loadEnvironment } from '../../stacks/environment';

const P = 'swoop-platform';
const KEY = 'arn:aws:kms:us-west-2:123456789012:key/0b9a3c1e-1111-2222-3333-444455556666';
const REVIEW = 'https://sqs.us-west-2.amazonaws.com/123456789012/review-tasks';
const FIFO = 'https://sqs.eu-central-1.amazonaws.com/210987654321/approvals.fifo';
/** The queues stacks/Pulumi.dev.yaml lists (whatever its workflows need). */
const COMMITTED = loadEnvironment('dev').taskTokenQueues;

describe('StateServiceIdentity', () => {
  const rec = new ResourceRecorder();
  beforeAll(async () => {
    await rec.install('unit-state-identity');
    const { StateServiceIdentity } = await import('../../infra/state-service-identity');
    new StateServiceIdentity('state-service', { roleName: 'state-role', taskTokenQueues: [{ url: REVIEW, kmsKeyArn: KEY }, { url: FIFO }] });
    new StateServiceIdentity('no-queues', { roleName: 'state-role', taskTokenQueues: [] });
    await rec.settle();
  });

  it('adds its grants to the state service\'s own role (one Pod Identity association per service account), making no role', () => {
    expect(rec.ofType('aws:iam/role:Role')).toEqual([]);
    expect(rec.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation')).toEqual([]);
    expect(rec.one('aws:iam/rolePolicy:RolePolicy').inputs.role).toBe('state-role');
  });

  it('may send to exactly the listed queues, and use the listed key only through SQS in its queue\'s region', () => {
    expect(policy(rec.one('aws:iam/rolePolicy:RolePolicy').inputs.policy).Statement).toEqual([
      { Sid: 'SendTaskTokens', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: ['arn:aws:sqs:us-west-2:123456789012:review-tasks', 'arn:aws:sqs:eu-central-1:210987654321:approvals.fifo'] },
      { Sid: 'EncryptTaskTokens', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: [KEY], Condition: { StringEquals: { 'kms:ViaService': ['sqs.us-west-2.amazonaws.com'] } } },
    ]);
  });

  it('creates nothing without queues (the service then calls no AWS API)', () => {
    expect(rec.resources.filter((r) => r.name.startsWith('no-queues') && r.type !== 'swoop:infra:StateServiceIdentity')).toEqual([]);
  });

  it('derives each queue ARN from its URL', () => {
    expect(queueArn('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q')).toBe('arn:aws-cn:sqs:cn-north-1:123456789012:q');
    expect(() => queueArn('https://example.com/q')).toThrow('not an SQS queue URL: https://example.com/q');
  });
});

describe('taskTokenQueues config', () => {
  const errorOf = (value: unknown): string => {
    try {
      loadStackConfig({ ...builtStackConfig('dev'), [`${P}:taskTokenQueues`]: JSON.stringify(value) }, P, 't');
    } catch (e) {
      return (e as Error).message.split('\n').slice(1).join('\n');
    }
    throw new Error('expected a refusal');
  };

  it('reads the list, default none', () => {
    const { [`${P}:taskTokenQueues`]: _committed, ...withoutQueues } = builtStackConfig('dev');
    expect(loadStackConfig(withoutQueues, P, 't').taskTokenQueues).toEqual([]);
    expect(loadStackConfig({ ...builtStackConfig('dev'), [`${P}:taskTokenQueues`]: JSON.stringify([{ url: REVIEW, kmsKeyArn: KEY }, { url: FIFO }]) }, P, 't').taskTokenQueues)
      .toEqual([{ url: REVIEW, kmsKeyArn: KEY }, { url: FIFO }]);
  });

  it.each([
    [[{ url: 'review-tasks' }], `${P}:taskTokenQueues[0].url must be an SQS queue URL https://sqs.<region>.amazonaws.com/<account>/<queue> (got "review-tasks")`],
    [[{ url: REVIEW, kmsKeyArn: 'alias/aws/sqs' }], `${P}:taskTokenQueues[0].kmsKeyArn must be a KMS key ARN`],
    [[{ url: REVIEW }, { url: REVIEW }], `${P}:taskTokenQueues[1].url ${REVIEW} is listed twice`],
    [[{ url: REVIEW, key: KEY }], `${P}:taskTokenQueues[0].key is not a known field; known: url, kmsKeyArn`],
    [{ url: REVIEW }, `${P}:taskTokenQueues must be a list of {url, kmsKeyArn?}`],
  ])('refuses %j in one line', (value, message) => {
    const error = errorOf(value);
    expect(error).toContain(message);
    expect(error.split('\n')).toHaveLength(1);
  });
});

describe('a stack with task-token queues', () => {
  let run: StackRun;
  beforeAll(async () => {
    // The dev stack's own queues (its workflows send to them: the manifest check requires them) and two more.
    run = await runStack('dev', { [`${P}:taskTokenQueues`]: JSON.stringify([...COMMITTED, { url: REVIEW, kmsKeyArn: KEY }, { url: FIFO }]) });
  });

  it('hands the same queues to the state service (TASK_TOKEN_QUEUES from ConfigMap swoop-platform), which accepts them', () => {
    const data = run.resources.find((r) => r.type.endsWith(':ConfigMap') && r.inputs.metadata.name === 'swoop-platform')!.inputs.data;
    expect(data['task-token-queues']).toBe([...COMMITTED.map((q) => q.url), REVIEW, FIFO].join(','));
    const deployment = run.resources.find((r) => r.type.endsWith(':Deployment') && r.inputs.metadata.name === 'swoop-state')!;
    const env = deployment.inputs.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'TASK_TOKEN_QUEUES');
    expect(env.valueFrom.configMapKeyRef).toEqual({ name: 'swoop-platform', key: 'task-token-queues' });
    const base = { DATABASE_URL: 'postgres://x', STATE_WRITE_TOKEN: 'w', STATE_READ_TOKEN: 'r' };
    expect(configFromEnv({ ...base, TASK_TOKEN_QUEUES: data['task-token-queues'] }).taskTokenQueues).toEqual([...COMMITTED.map((q) => q.url), REVIEW, FIFO]);
    expect(configFromEnv({ ...base, TASK_TOKEN_QUEUES: '' }).taskTokenQueues).toEqual([]);
  });

  it('attaches the grants to the role the state service\'s one Pod Identity association names', () => {
    const associations = run.resources.filter((r) => r.type === 'aws:eks/podIdentityAssociation:PodIdentityAssociation' && r.inputs.serviceAccount === 'swoop-state');
    expect(associations).toHaveLength(1);
    const roleName = associations[0]!.inputs.roleArn.replace(/^.*role\//, '');
    const grants = run.resources.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === 'state-service')!;
    expect(roleName).toContain(grants.inputs.role);
  });
});
