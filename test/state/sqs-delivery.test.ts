/**
 * Task tokens by SQS: the state service sends them with @aws-sdk/client-sqs. Against a
 * loopback endpoint that checks the request is the SQS JSON protocol's SendMessage (target
 * header, content type, a SigV4 signature for the queue's region and service sqs, the body's
 * fields) and answers as SQS does, including the body's MD5, which the SDK verifies. This
 * proves the request the service sends and that it accepts SQS's answer; not that AWS
 * accepts the signature, nor IAM (infra's grant is not built, see docs/callbacks.md).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../state/config';
import { SqsSender } from '../../state/sqs-delivery';
import { SqsEndpoint, sqsSignature } from '../support/sqs-endpoint';

const QUEUE = 'https://sqs.us-west-2.amazonaws.com/123456789012/review-tasks';
const FIFO = 'https://sqs.us-west-2.amazonaws.com/123456789012/review-tasks.fifo';

describe('task tokens by SQS', () => {
  const sqs = new SqsEndpoint();
  const received = sqs.received;
  let endpoint: string;

  beforeAll(async () => {
    await sqs.start();
    endpoint = sqs.url;
  });
  afterAll(() => sqs.stop());

  const sender = () => new SqsSender({ allowedQueues: [QUEUE, FIFO], endpoint, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
  const message = { taskToken: 'swt1_x', workflow: 'review', run: 'review-abc', step: 'review', input: 's3://b/in.json', parameters: {}, heartbeatSeconds: null, timeoutSeconds: 60 };

  it('sends SendMessage in the SQS JSON protocol, signed for the queue\'s region, the token message as the body', async () => {
    await sender().send(QUEUE, message, 'uid-1/review', 'swt1_x');
    const { headers, body } = received.at(-1)!;
    expect(headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    expect(headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(headers.authorization).toMatch(sqsSignature('AKIDEXAMPLE', 'us-west-2'));
    expect(body).toEqual({
      QueueUrl: QUEUE,
      MessageBody: JSON.stringify(message),
      MessageAttributes: { 'Idempotency-Key': { DataType: 'String', StringValue: 'uid-1/review' } },
    });
  });

  it('gives a FIFO queue a group per run and a deduplication id per token', async () => {
    await sender().send(FIFO, message, 'uid-1/review', 'swt1_x');
    const { body } = received.at(-1)!;
    expect(body.MessageGroupId).toBe('uid-1');
    expect(body.MessageDeduplicationId).toBe(createHash('sha256').update('swt1_x').digest('hex'));
  });

  it('fails with SQS\'s reason when the queue refuses', async () => {
    sqs.status = 400;
    try {
      await expect(sender().send(QUEUE, message, 'uid-1/review', 'swt1_x')).rejects.toThrow(/does not exist/);
    } finally {
      sqs.status = 200;
    }
  });

  it('sends only to the queues TASK_TOKEN_QUEUES lists, each an SQS queue URL', () => {
    expect(sender().allows(QUEUE)).toBe(true);
    expect(sender().allows('https://sqs.us-west-2.amazonaws.com/123456789012/other')).toBe(false);
    const base = { STATE_WRITE_TOKEN: 'w', STATE_READ_TOKEN: 'r' };
    expect(configFromEnv({ ...base, TASK_TOKEN_QUEUES: `${QUEUE}, ${FIFO}` }).taskTokenQueues).toEqual([QUEUE, FIFO]);
    expect(configFromEnv(base).taskTokenQueues).toEqual([]);
    expect(() => configFromEnv({ ...base, TASK_TOKEN_QUEUES: 'review-tasks' })).toThrow(
      'TASK_TOKEN_QUEUES holds "review-tasks", which is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)',
    );
  });

  it('as the service builds it (no endpoint option), sends to AWS_ENDPOINT_URL_SQS when set, not to the queue URL\'s host, with the env credentials (what test/e2e/wait.test.ts relies on)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: endpoint, AWS_ACCESS_KEY_ID: 'AKIDENVEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
    try {
      await new SqsSender({ allowedQueues: [QUEUE] }).send(QUEUE, message, 'uid-2/review', 'swt1_y');
    } finally {
      for (const k of ['AWS_ENDPOINT_URL_SQS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
    const { headers, body } = received.at(-1)!;
    expect(headers.authorization).toMatch(sqsSignature('AKIDENVEXAMPLE', 'us-west-2'));
    expect(body.QueueUrl).toBe(QUEUE);
  });

  it('refuses in TASK_TOKEN_QUEUES a queue name SQS would not create (over 80 characters with ".fifo")', () => {
    const base = { STATE_WRITE_TOKEN: 'w', STATE_READ_TOKEN: 'r' };
    const long = `https://sqs.us-west-2.amazonaws.com/123456789012/${'q'.repeat(76)}.fifo`;
    expect(() => configFromEnv({ ...base, TASK_TOKEN_QUEUES: long })).toThrow(`TASK_TOKEN_QUEUES holds "${long}", which is not an SQS queue URL`);
    expect(configFromEnv({ ...base, TASK_TOKEN_QUEUES: long.replace('q.fifo', '.fifo') }).taskTokenQueues).toHaveLength(1);
  });
});
