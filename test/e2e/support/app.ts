/**
 * The e2e suites' own app, independent of workflows/ (the organisation's, which users change):
 * three workflows covering what the platform must carry end to end -- an artifact hand-off
 * and a `when` over a step's output with an exit step and an explicit output (e2e-mask), a
 * fan-out/fan-in (e2e-cogs), a containerSet group and a warm service call (e2e-publish) --
 * chained e2e-mask -> e2e-cogs (filtered) -> e2e-publish, with two callbacks.
 */
import { App, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { Condition, ContainerTask, ServiceTask, TaskLibrary, Workflow, type WorkflowParameters } from '../../../constructs';
import { CallbackParameter, CallbackTarget, PlatformEvents } from '../../../constructs/events';
import { StateServiceChart } from '../../../constructs/state-service';

export interface E2eApp {
  readonly app: App;
  readonly events: PlatformEvents;
  readonly workflows: readonly Workflow<WorkflowParameters>[];
}

export const MASK = 'e2e-mask';
export const COGS = 'e2e-cogs';
export const PUBLISH = 'e2e-publish';

export function buildE2eApp(): E2eApp {
  const app = new App();
  const lib = new TaskLibrary(app, 'task-library');
  const tools = 'ghcr.io/example/stac-tools:2.1.0';
  const small = { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(256) } };
  const prepare = new ContainerTask(lib, 'e2e-prepare', { image: tools, outputs: { artifacts: { stack: { path: '/tmp/bands' } } }, resources: small });
  const mask = new ContainerTask(lib, 'e2e-cloud-mask', {
    image: 'ghcr.io/example/cloudmask:0.4.1',
    inputs: { parameters: { model: { default: 'a', enum: ['a', 'b'] } }, artifacts: { stack: { path: '/tmp/bands' } } },
    outputs: { parameters: { 'cloud-cover': { path: '/tmp/out/cloud_cover' } }, artifacts: { mask: { path: '/tmp/out/mask.tif' } } },
    gpus: 1,
    resources: { cpu: { request: Cpu.units(4) }, memory: { request: Size.gibibytes(16) } },
  });
  const addAsset = new ContainerTask(lib, 'e2e-add-asset', {
    image: tools,
    inputs: { parameters: { key: {}, property: { default: '' } }, artifacts: { file: { path: '/tmp/asset' } } },
    resources: small,
  });
  const split = new ContainerTask(lib, 'e2e-split', { image: tools, outputs: { parameters: { assets: { path: '/tmp/assets.json', list: true } } }, resources: small });
  const cogify = new ContainerTask(lib, 'e2e-cogify', { image: 'ghcr.io/osgeo/gdal:ubuntu-small-3.9.2', inputs: { parameters: { asset: {}, compression: { default: 'DEFLATE' } } }, resources: small });
  const merge = new ContainerTask(lib, 'e2e-merge', { image: tools, inputs: { parameters: { parts: {} } }, resources: small });
  const step = new ContainerTask(lib, 'e2e-step', { image: tools, resources: small });
  const publishStac = new ServiceTask(lib, 'e2e-publish-stac', { image: 'ghcr.io/example/publisher:1.0.4', path: '/publish', resources: small });
  const cleanup = new ContainerTask(lib, 'e2e-cleanup', { image: tools, inputs: { parameters: { prefix: {} } }, resources: small });

  const masking = new Workflow(app, MASK, {
    parameters: { model: { default: 'a', enum: ['a', 'b'] }, 'max-cloud-cover': { default: '80' } },
    timeout: Duration.hours(2),
  });
  const prepared = masking.addStep('prepare-scene', prepare);
  const masked = masking.addStep('cloud-mask', mask, { input: prepared.output, parameters: { model: masking.params.model }, artifacts: { stack: prepared.outputs.artifacts.stack } });
  const attached = masking.addStep('add-mask-asset', addAsset, {
    input: masked.output,
    parameters: { key: 'cloud-mask', property: `eo:cloud_cover=${masked.outputs.parameters['cloud-cover']}` },
    artifacts: { file: masked.outputs.artifacts.mask },
  });
  const clear = Condition.expression(
    `asFloat(${masked.outputs.parameters['cloud-cover'].expression}) <= asFloat(${masking.params['max-cloud-cover'].expression})`,
    masked.outputs.parameters['cloud-cover'],
  );
  masking.addStep('publish', publishStac, { input: attached.output, when: clear });
  masking.setOutput(attached);
  masking.addExitStep('cleanup-scratch', cleanup, { parameters: { prefix: '{{workflow.parameters.payload-store}}/{{workflow.name}}/' } });

  const cogs = new Workflow(app, COGS, { parameters: { compression: { default: 'DEFLATE', enum: ['DEFLATE', 'ZSTD'] } }, timeout: Duration.hours(3) });
  const splitted = cogs.addStep('split-assets', split);
  const converted = cogs.addStep('convert', cogify, {
    input: splitted.output,
    forEach: splitted.outputs.parameters.assets,
    parameters: { asset: cogs.item, compression: cogs.params.compression },
  });
  const merged = cogs.addStep('merge-assets', merge, { input: splitted.output, parameters: { parts: converted.output } });
  cogs.addStep('publish', publishStac, { input: merged.output });

  const publish = new Workflow(app, PUBLISH, { timeout: Duration.minutes(30) });
  const group = publish.addGroup('prepare');
  const validated = group.addStep('validate-payload', step);
  const copied = group.addStep('copy-assets', step, { input: validated.output });
  publish.addStep('publish', publishStac, { input: copied.output });

  masking.then(cogs, { filter: "@.properties.'eo:cloud_cover' < 50" });
  cogs.then(publish);

  const events = new PlatformEvents(app, 'events');
  events.addCallback('notify-failures', {
    workflow: masking,
    when: ['!successful'],
    parameters: { run: CallbackParameter.run('name'), state: CallbackParameter.run('state') },
    target: CallbackTarget.http({ url: 'https://hooks.example.org/alerts', auth: { secret: { name: 'swoop-alerts', key: 'authorization' } } }),
  });
  events.addCallback('audit-publish', { workflow: publish, when: ['successful', 'failed'], target: CallbackTarget.log() });
  new StateServiceChart(app, 'state-service', { image: 'ghcr.io/example/swoop-state:0.1.0' });
  return { app, events, workflows: events.workflows };
}
