import { Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import { Workflow } from '../constructs';
import type { Tasks } from './tasks';

/** A thumbnail per item (Step Functions Map, cirrus split/merge): one single-item pod per feature, at most 8 at once, merged back and published. */
export function itemThumbnails(scope: Construct, tasks: Tasks) {
  const wf = new Workflow(scope, 'item-thumbnails', {
    description: 'Render a thumbnail of every item, one pod per item, and publish the items',
    version: '1.0.0',
    timeout: Duration.hours(1),
    assumedFanOut: 20,
  });
  const thumbnails = wf.addMap('thumbnail', tasks.thumbnail, {
    maxConcurrency: 8,
    // The payload's process.tasks.thumbnail.size, else 512 (filled by the submitter, no pod).
    parameters: { size: wf.payload.task('thumbnail').param('size').withDefault('512') },
  });
  wf.addStep('publish', tasks.publishStac, { input: thumbnails.output }); // the merged ItemCollection
  return wf;
}
