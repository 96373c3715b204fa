import { Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import { Condition, Workflow } from '../constructs';
import type { Tasks } from './tasks';

/** ML cloud masking of a Sentinel-2 L2A scene: prepare bands, mask on a GPU, attach the mask, publish clear-enough scenes. */
export function sentinel2CloudMask(scope: Construct, tasks: Tasks) {
  const wf = new Workflow(scope, 'sentinel2-cloud-mask', {
    description: 'Cloud and shadow mask for Sentinel-2 L2A scenes (GPU)',
    version: '1.0.0',
    parameters: {
      model: { default: 'omnicloudmask-1.0', enum: ['omnicloudmask-1.0', 's2cloudless-1.7'], description: 'mask model' },
      'max-cloud-cover': { default: '80', description: 'scenes cloudier than this (percent) are not published' },
    },
    timeout: Duration.hours(2),
  });
  const prepare = wf.addStep('prepare-scene', tasks.prepareScene);
  const mask = wf.addStep('cloud-mask', tasks.cloudMask, {
    input: prepare.output,
    // The payload chooses the model (process.tasks.cloud-mask.model), else the workflow's default.
    parameters: { model: wf.payload.task('cloud-mask').param('model').withDefault(wf.params.model) },
    artifacts: { stack: prepare.outputs.artifacts.stack },
  });
  const attach = wf.addStep('add-mask-asset', tasks.addAsset, {
    input: mask.output,
    parameters: { key: 'cloud-mask', property: `eo:cloud_cover=${mask.outputs.parameters['cloud-cover']}` },
    artifacts: { file: mask.outputs.artifacts.mask },
  });
  const clearEnough = Condition.expression(
    `asFloat(${mask.outputs.parameters['cloud-cover'].expression}) <= asFloat(${wf.params['max-cloud-cover'].expression})`,
    mask.outputs.parameters['cloud-cover'],
  );
  wf.addStep('publish', tasks.publishStac, { input: attach.output, when: clearEnough });
  // Cloudy scenes are not published but still carry their mask: the masked item is the output.
  wf.setOutput(attach);
  wf.addExitStep('cleanup-scratch', tasks.cleanupScratch, {
    parameters: { prefix: `{{workflow.parameters.payload-store}}/{{workflow.name}}/prepare-scene/` },
  });
  return wf;
}
