import { Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import { Workflow } from '../constructs';
import type { Tasks } from './tasks';

/** Per-asset conversion to Cloud-Optimized GeoTIFF: fan out over the assets, fan back in, publish. */
export function cogConversion(scope: Construct, tasks: Tasks) {
  const wf = new Workflow(scope, 'cog-conversion', {
    description: 'Convert every GeoTIFF asset of the items to COG, one pod per asset',
    version: '1.0.0',
    parameters: {
      compression: { default: 'DEFLATE', enum: ['DEFLATE', 'ZSTD', 'LZW'] },
      blocksize: { default: '512', enum: ['256', '512', '1024'] },
    },
    timeout: Duration.hours(3),
    parallelism: 50,
    assumedFanOut: 12,
  });
  const split = wf.addStep('split-assets', tasks.splitAssets);
  const convert = wf.addStep('convert', tasks.cogify, {
    input: split.output,
    forEach: split.outputs.parameters.assets, // no assets: the step is skipped and merge-assets gets an empty `parts`
    // The payload's process.tasks.convert.compression wins over the workflow's default (filled by the submitter, no pod).
    parameters: { asset: wf.item, compression: wf.payload.task('convert').param('compression').withDefault(wf.params.compression), blocksize: wf.params.blocksize },
  });
  const merge = wf.addStep('merge-assets', tasks.mergeAssets, { input: split.output, parameters: { parts: convert.output } });
  wf.addStep('publish', tasks.publishStac, { input: merge.output });
  return wf;
}
