import { Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import { TaskTokenTarget, Workflow } from '../constructs';
import { env } from './environment';

/**
 * Published items go to the archive system, Step Functions' SQS `.waitForTaskToken` as in
 * FilmDrop: the state service puts the payload and a task token on the archive's SQS queue
 * (each stack names its own: `archive-queue`, which must be one of the stack's
 * taskTokenQueues, or synth fails); the archive beats `POST /tasks/{token}/heartbeat` while it
 * copies and answers `/success` with the payload it archived, which is the run's output. No
 * answer within 12 hours, or no heartbeat for 30 minutes, fails the run.
 */
export function archiveOriginals(scope: Construct) {
  const wf = new Workflow(scope, 'archive-originals', {
    description: 'Hand published items to the archive system and wait for its receipt',
    version: '1.0.0',
    timeout: Duration.hours(13),
  });
  wf.addWaitForCallback('archive', {
    send: TaskTokenTarget.sqs({ queueUrl: env.value('archive-queue') }),
    heartbeat: Duration.minutes(30),
    timeout: Duration.hours(12),
  });
  return wf;
}
