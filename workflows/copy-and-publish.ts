import { Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import { Workflow } from '../constructs';
import { env } from './environment';
import type { Tasks } from './tasks';

/** Copy assets to the public bucket and publish: three small containers in one pod, then a warm service call. */
export function copyAndPublish(scope: Construct, tasks: Tasks) {
  const wf = new Workflow(scope, 'copy-and-publish', {
    description: 'Copy item assets to the public bucket and publish the items to the STAC API',
    version: '1.0.0',
    parameters: {
      // Per environment: ConfigMap swoop-platform, set by the stack's workflowValues.
      destination: { default: env.value('publish-bucket'), description: 'bucket (and prefix) that receives the assets' },
      'public-url': { default: env.value('public-url'), description: 'public URL of the destination' },
    },
    timeout: Duration.minutes(30),
    podGC: 'OnPodCompletion',
  });
  const prepare = wf.addGroup('prepare');
  const validated = prepare.addStep('validate-payload', tasks.validatePayload);
  const copied = prepare.addStep('copy-assets', tasks.copyAssets, { input: validated.output, parameters: { destination: wf.params.destination } });
  const rewritten = prepare.addStep('update-hrefs', tasks.updateHrefs, { input: copied.output, parameters: { prefix: wf.params['public-url'] } });
  wf.addStep('publish', tasks.publishStac, { input: rewritten.output });
  return wf;
}
