/**
 * An SQS queue URL, `https://sqs.<region>.amazonaws.com/<account>/<queue>`: the contract of
 * task-token queues, read by synth, the stack settings and the state service. Group 1 is the
 * region, group 2 `.cn` for the China partition. A queue name is 1 to 80 letters, digits, `-`
 * and `_`, a FIFO queue's ending in `.fifo` within those 80 (SQS CreateQueue's QueueName rules).
 */
export const SQS_QUEUE_URL = /^https:\/\/sqs\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(\.cn)?\/\d{12}\/(?=[^/]{1,80}$)[A-Za-z0-9_-]+(?:\.fifo)?$/;

const SHAPE = /^https:\/\/sqs\.([^./]+)\.amazonaws\.com(?:\.cn)?\/([^/]*)\/([^/]*)$/;

/**
 * Why `url` is not an SQS queue URL, as `is not ...; give ...` (the caller names the field), or
 * undefined when it is one.
 */
export function sqsQueueUrlProblem(url: unknown): string | undefined {
  if (typeof url === 'string' && SQS_QUEUE_URL.test(url)) return undefined;
  const shown = JSON.stringify(url ?? null);
  const m = typeof url === 'string' ? SHAPE.exec(url) : null;
  if (!m) return `${shown} is not an SQS queue URL; give https://sqs.<region>.amazonaws.com/<account>/<queue>`;
  const [, region, account, name] = m as unknown as [string, string, string, string];
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) return `${shown} names region "${region}", which is not an AWS region such as us-west-2`;
  if (!/^\d{12}$/.test(account)) return `${shown} names account "${account}"; an AWS account id is 12 digits`;
  if (name.length > 80) return `${shown} names a queue of ${name.length} characters; SQS allows 80 (".fifo" included)`;
  return `${shown} names queue "${name}"; a queue name holds only letters, digits, "-" and "_", and a FIFO queue's ends in ".fifo"`;
}
