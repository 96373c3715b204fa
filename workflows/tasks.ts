import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { ContainerTask, EnvSource, ServiceTask, TaskLibrary } from '../constructs';

/**
 * The organisation's tasks. Each one is a WorkflowTemplate of the task library, shared by
 * every workflow that uses it. Images are pinned; bump a tag here and every workflow moves.
 */
export function defineTasks(library: TaskLibrary) {
  const prepareScene = new ContainerTask(library, 's2-prepare-scene', {
    description: 'Fetch the Sentinel-2 L2A bands the cloud model needs and stack them at 20 m',
    version: '1.3.2',
    image: 'ghcr.io/element84/swoop-s2-prepare:1.3.2',
    args: (io) => ['run', io.input, '--output', io.output, '--bands', io.parameters.bands, '--workdir', '/tmp/bands'],
    inputs: { parameters: { bands: { default: 'B02,B03,B04,B08,B11,B12', description: 'comma-separated band names' } } },
    outputs: { artifacts: { stack: { path: '/tmp/bands' } } },
    resources: { cpu: { request: Cpu.units(1) }, memory: { request: Size.gibibytes(4) }, ephemeralStorage: { request: Size.gibibytes(20) } },
  });

  const cloudMask = new ContainerTask(library, 's2-cloud-mask', {
    description: 'ML cloud and shadow mask of a Sentinel-2 scene on a GPU',
    version: '0.4.1',
    image: 'ghcr.io/element84/swoop-s2-cloudmask@sha256:8f2b1c9e4d7a6b3f0e5c2d1a9b8c7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d',
    command: ['python', '-m', 'cloudmask'],
    args: (io) => [io.input, io.output, '--model', io.parameters.model, '--stack', io.artifacts.stack, '--mask', '/tmp/out/mask.tif'],
    inputs: {
      parameters: { model: { default: 'omnicloudmask-1.0', enum: ['omnicloudmask-1.0', 's2cloudless-1.7'] } },
      artifacts: { stack: { path: '/tmp/bands' } },
    },
    outputs: {
      parameters: { 'cloud-cover': { path: '/tmp/out/cloud_cover', description: 'percentage of cloudy pixels' } },
      artifacts: { mask: { path: '/tmp/out/mask.tif' } },
    },
    gpus: 1,
    resources: { cpu: { request: Cpu.units(4) }, memory: { request: Size.gibibytes(16) } },
    env: { TORCH_HOME: '/tmp/torch', MODEL_BUCKET: EnvSource.configMap('swoop-platform', 'payload-store') },
    timeout: Duration.minutes(30),
  });

  const addAsset = new ContainerTask(library, 'stac-add-asset', {
    description: 'Upload an artifact next to the item and add it as an asset',
    version: '2.1.0',
    image: 'ghcr.io/element84/swoop-stac-tools:2.1.0',
    args: (io) => ['add-asset', io.input, io.output, '--key', io.parameters.key, '--file', io.artifacts.file, '--property', io.parameters.property],
    inputs: {
      parameters: { key: {}, property: { default: '' } },
      artifacts: { file: { path: '/tmp/asset' } },
    },
  });

  const splitAssets = new ContainerTask(library, 'split-assets', {
    description: 'List the raster assets of the payload items that are not yet cloud-optimized',
    version: '2.1.0',
    image: 'ghcr.io/element84/swoop-stac-tools:2.1.0',
    args: (io) => ['split-assets', io.input, io.output, '--media-type', io.parameters['media-type'], '--list', '/tmp/swoop/assets.json'],
    inputs: { parameters: { 'media-type': { default: 'image/tiff' } } },
    outputs: { parameters: { assets: { path: '/tmp/swoop/assets.json', list: true, description: 'JSON list of asset keys' } } },
    resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(256) } },
  });

  const cogify = new ContainerTask(library, 'cogify', {
    description: 'Convert one asset to a Cloud-Optimized GeoTIFF with GDAL',
    version: '3.9.2',
    image: 'ghcr.io/osgeo/gdal:ubuntu-small-3.9.2',
    command: ['swoop-cogify'],
    args: (io) => [io.input, io.output, '--asset', io.parameters.asset, '--compress', io.parameters.compression, '--blocksize', io.parameters.blocksize],
    inputs: { parameters: { asset: {}, compression: { default: 'DEFLATE' }, blocksize: { default: '512' } } },
    resources: { cpu: { request: Cpu.units(2) }, memory: { request: Size.gibibytes(6), limit: Size.gibibytes(8) }, ephemeralStorage: { request: Size.gibibytes(10) } },
    env: { GDAL_NUM_THREADS: 'ALL_CPUS', GDAL_CACHEMAX: '1024', AWS_REQUEST_PAYER: 'requester' },
    timeout: Duration.hours(1),
  });

  const mergeAssets = new ContainerTask(library, 'merge-assets', {
    description: 'Fold the per-asset outputs of a fan-out back into one payload',
    version: '2.1.0',
    image: 'ghcr.io/element84/swoop-stac-tools:2.1.0',
    args: (io) => ['merge-assets', io.input, io.output, '--parts', io.parameters.parts],
    inputs: { parameters: { parts: { description: 'JSON list of the per-asset output payload URLs' } } },
    resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(256) } },
  });

  const validatePayload = new ContainerTask(library, 'validate-payload', {
    description: 'Check the payload against the STAC and cirrus process schemas',
    version: '2.1.0',
    image: 'ghcr.io/element84/swoop-stac-tools:2.1.0',
    args: (io) => ['validate', io.input, io.output],
    resources: { cpu: { request: Cpu.millis(50) }, memory: { request: Size.mebibytes(128) } },
    // validate exits 65 (EX_DATAERR) when the payload is not valid STAC/cirrus: retrying cannot help, a catch can.
    errors: { invalid: 65 },
    retry: { limit: 0 },
  });

  const quarantinePayload = new ContainerTask(library, 'quarantine-payload', {
    description: 'Move a payload that cannot be processed to the quarantine prefix, with the reason, for a person to look at',
    version: '2.1.0',
    image: 'ghcr.io/element84/swoop-stac-tools:2.1.0',
    args: (io) => ['quarantine', io.input, io.output, '--reason', io.parameters.reason],
    inputs: { parameters: { reason: { description: 'why the payload was quarantined' } } },
    resources: { cpu: { request: Cpu.millis(50) }, memory: { request: Size.mebibytes(128) } },
  });

  const copyAssets = new ContainerTask(library, 'copy-assets', {
    description: 'Copy item assets to the public bucket',
    version: '2.17.50',
    image: 'amazon/aws-cli:2.17.50',
    command: ['/opt/swoop/copy-assets.sh'],
    args: (io) => [io.input, io.output, io.parameters['destination']],
    inputs: { parameters: { destination: {} } },
    resources: { cpu: { request: Cpu.millis(200) }, memory: { request: Size.mebibytes(256) } },
    // copy-assets.sh exits 75 (EX_TEMPFAIL) on S3 SlowDown and 77 (EX_NOPERM) on AccessDenied.
    errors: { throttled: 75, 'access-denied': 77 },
    retry: {
      rules: [
        { on: ['throttled'], limit: 6 },
        { on: ['transient', 'Error'], limit: 2 },
      ],
      backoff: { delay: Duration.seconds(10), factor: 2, cap: Duration.minutes(2), maxDuration: Duration.minutes(20) },
    },
  });

  const updateHrefs = new ContainerTask(library, 'update-hrefs', {
    description: 'Point asset hrefs at their copies',
    version: '2.1.0',
    image: 'ghcr.io/element84/swoop-stac-tools:2.1.0',
    args: (io) => ['update-hrefs', io.input, io.output, '--prefix', io.parameters.prefix],
    inputs: { parameters: { prefix: {} } },
    resources: { cpu: { request: Cpu.millis(50) }, memory: { request: Size.mebibytes(128) } },
  });

  const thumbnail = new ContainerTask(library, 'thumbnail', {
    description: 'Render a PNG thumbnail of the one item of its payload and add it as the item\'s thumbnail asset',
    version: '2.1.0',
    image: 'ghcr.io/element84/swoop-stac-tools:2.1.0',
    args: (io) => ['thumbnail', io.input, io.output, '--size', io.parameters.size],
    inputs: { parameters: { size: { default: '512', description: 'longest side, pixels' } } },
    resources: { cpu: { request: Cpu.millis(500) }, memory: { request: Size.gibibytes(1) } },
  });

  const publishStac = new ServiceTask(library, 'publish-stac', {
    description: 'Upsert the payload items into the STAC API (warm service, cirrus "lambda" task)',
    version: '1.0.4',
    image: 'ghcr.io/element84/swoop-stac-publisher:1.0.4',
    path: '/publish',
    readinessPath: '/healthz',
    inputs: { parameters: { 'stac-api': { default: 'http://stac-api.stac.svc.cluster.local:8080' } } },
    env: { STAC_API_TOKEN: EnvSource.secret('stac-api-credentials', 'token') },
    resources: { cpu: { request: Cpu.millis(250) }, memory: { request: Size.mebibytes(512) } },
    replicas: 2,
  });

  const cleanupScratch = new ContainerTask(library, 'cleanup-scratch', {
    description: 'Delete intermediate outputs of a run',
    version: '2.17.50',
    image: 'amazon/aws-cli:2.17.50',
    command: ['aws', 's3', 'rm', '--recursive'],
    args: (io) => [io.parameters.prefix],
    inputs: { parameters: { prefix: {} } },
    resources: { cpu: { request: Cpu.millis(50) }, memory: { request: Size.mebibytes(128) } },
  });

  return { prepareScene, cloudMask, addAsset, splitAssets, cogify, mergeAssets, validatePayload, quarantinePayload, copyAssets, updateHrefs, thumbnail, publishStac, cleanupScratch };
}

export type Tasks = ReturnType<typeof defineTasks>;
