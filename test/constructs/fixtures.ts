import { App, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { ContainerTask, ServiceTask, TaskLibrary, validationErrors, Workflow } from '../../constructs';

/** A fresh app with a task library of small, valid tasks. */
export function fixture() {
  const app = new App();
  const lib = new TaskLibrary(app, 'lib');
  const split = new ContainerTask(lib, 'split', {
    image: 'ghcr.io/example/stac-tools:2.1.0',
    args: (io) => ['split', io.input, io.output],
    outputs: { parameters: { assets: { path: '/tmp/assets.json', list: true } } },
  });
  const convert = new ContainerTask(lib, 'convert', {
    image: 'ghcr.io/osgeo/gdal:ubuntu-small-3.9.2',
    inputs: { parameters: { asset: {}, compression: { default: 'DEFLATE' } } },
    args: (io) => ['cogify', io.input, io.output, io.parameters.asset, io.parameters.compression],
    resources: { cpu: { request: Cpu.units(2) }, memory: { request: Size.gibibytes(4) } },
  });
  const merge = new ContainerTask(lib, 'merge', {
    image: 'ghcr.io/example/stac-tools:2.1.0',
    inputs: { parameters: { parts: {} } },
  });
  const mask = new ContainerTask(lib, 'mask', {
    image: 'ghcr.io/example/cloudmask@sha256:' + 'a'.repeat(64),
    gpus: 1,
    inputs: { artifacts: { stack: { path: '/tmp/stack' } } },
    outputs: { parameters: { 'cloud-cover': { path: '/tmp/cc' } }, artifacts: { mask: { path: '/tmp/mask.tif' } } },
    resources: { cpu: { request: Cpu.units(4) }, memory: { request: Size.gibibytes(16) } },
  });
  const stack = new ContainerTask(lib, 'stack', {
    image: 'ghcr.io/example/stac-tools:2.1.0',
    outputs: { artifacts: { stack: { path: '/tmp/stack' } } },
  });
  const small = new ContainerTask(lib, 'small', {
    image: 'ghcr.io/example/stac-tools:2.1.0',
    resources: { cpu: { request: Cpu.millis(50) }, memory: { request: Size.mebibytes(64) } },
  });
  const publish = new ServiceTask(lib, 'publish', {
    image: 'ghcr.io/example/publisher:1.0.4',
    path: '/publish',
    inputs: { parameters: { collection: { default: 'sentinel-2-l2a' } } },
  });
  return { app, lib, tasks: { split, convert, merge, mask, stack, small, publish } };
}

/** A workflow with one valid step, so only the problem under test is reported. */
export function workflowWithStep(app: App, id = 'wf', small?: ContainerTask) {
  const wf = new Workflow(app, id);
  if (small) wf.addStep('first', small);
  return wf;
}

/** Problems as `<construct path>: <message>`: validation errors, or the error a constructor threw. */
export function problemsOf(build: () => App): string[] {
  let app: App;
  try {
    app = build();
  } catch (e) {
    return [(e as Error).message];
  }
  return validationErrors(app).map((e) => `${e.path}: ${e.message}`);
}
