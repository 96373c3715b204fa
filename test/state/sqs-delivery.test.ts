/**
 * Task tokens by SQS: the state service sends them with @aws-sdk/client-sqs. Against a
 * loopback endpoint that checks the request is the SQS JSON protocol's SendMessage (target
 * header, content type, a SigV4 signature for the queue's region and service sqs, the body's
 * fields) and answers as SQS does, including the body's MD5, which the SDK verifies. This
 * proves the request the service sends and that it accepts SQS's answer; not that AWS
 * accepts the signature, nor IAM (infra's grant is not built, see docs/callbacks.md).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../state/config';
import { SqsSender } from '../../state/sqs-delivery';

const QUEUE = 'https://sqs.us-west-2.amazonaws.com/123456789012/review-tasks';
const FIFO = 'https://sqs.us-west-2.amazonaws.com/123456789012/review-tasks.fifo';

describe('task tokens by SQS', () => {
  let server: Server;
  let endpoint: string;
  let status = 200;
  const received: { headers: IncomingHttpHeaders; body: any }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c));
      req.on('end', () => {
        const body = JSON.parse(text);
        received.push({ headers: req.headers, body });
        if (status !== 200) {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' }));
          return;
        }
        const md5 = createHash('md5').update(body.MessageBody).digest('hex');
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ MessageId: 'm-1', MD5OfMessageBody: md5 }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  const sender = () => new SqsSender({ allowedQueues: [QUEUE, FIFO], endpoint, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
  const message = { taskToken: 'swt1_x', workflow: 'review', run: 'review-abc', step: 'review', input: 's3://b/in.json', parameters: {}, heartbeatSeconds: null, timeoutSeconds: 60 };

  it('sends SendMessage in the SQS JSON protocol, signed for the queue\'s region, the token message as the body', async () => {
    await sender().send(QUEUE, message, 'uid-1/review', 'swt1_x');
    const { headers, body } = received.at(-1)!;
    expect(headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    expect(headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-west-2\/sqs\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/);
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
    status = 400;
    try {
      await expect(sender().send(QUEUE, message, 'uid-1/review', 'swt1_x')).rejects.toThrow(/does not exist/);
    } finally {
      status = 200;
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
});
