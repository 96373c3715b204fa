import { Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import { TaskTokenTarget, Workflow } from '../constructs';
import type { Tasks } from './tasks';

/**
 * Cloudy scenes wait for a person: the scene goes to the review service with a task token
 * (Step Functions .waitForTaskToken), and the run resumes when the reviewer's tool answers
 * `POST /tasks/{token}/success` with the reviewed payload, which is published; a rejection
 * (`/failure`) or no answer within a day fails the run.
 */
export function reviewCloudyScenes(scope: Construct, tasks: Tasks) {
  const wf = new Workflow(scope, 'review-cloudy-scenes', {
    description: 'Human review of cloudy Sentinel-2 scenes before they are published',
    version: '1.0.0',
    parameters: { queue: { default: 'cloudy-scenes', description: 'review queue the scene is filed in' } },
    timeout: Duration.hours(26),
  });
  const review = wf.addWaitForCallback('review', {
    send: TaskTokenTarget.http({ url: 'https://review.example.org/swoop/tasks', auth: { secret: { name: 'swoop-review', key: 'authorization' } } }),
    parameters: { queue: wf.params.queue },
    heartbeat: Duration.hours(2),
    timeout: Duration.hours(24),
  });
  wf.addStep('publish', tasks.publishStac, { input: review.output });
  return wf;
}
