/** An SQS queue URL, `https://sqs.<region>.amazonaws.com/<account>/<queue>`: the contract of task-token queues, read by synth and the state service. */
export const SQS_QUEUE_URL = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
