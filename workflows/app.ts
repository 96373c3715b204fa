import { App } from 'cdk8s';
import { TaskLibrary, type Workflow, type WorkflowParameters } from '../constructs';
import { CallbackParameter, CallbackTarget, PlatformEvents } from '../constructs/events';
import { cogConversion } from './cog-conversion';
import { copyAndPublish } from './copy-and-publish';
import { sentinel2CloudMask } from './sentinel2-cloud-mask';
import { defineTasks } from './tasks';

export interface SwoopApp {
  readonly app: App;
  readonly events: PlatformEvents;
  readonly library: TaskLibrary;
  readonly workflows: readonly Workflow<WorkflowParameters>[];
}

/** Builds the whole cdk8s app: task library, workflows and (below) the platform charts. */
export function buildApp(outdir = 'dist'): SwoopApp {
  const app = new App({ outdir });
  const library = new TaskLibrary(app, 'task-library');
  const tasks = defineTasks(library);

  const cloudMask = sentinel2CloudMask(app, tasks);
  const cog = cogConversion(app, tasks);
  const publish = copyAndPublish(app, tasks);
  // Cirrus chaining: clear scenes go on to COG conversion, every converted payload gets published.
  cloudMask.then(cog, { filter: '@.properties.eo:cloud_cover < 50' });
  cog.then(publish);
  const workflows = [cloudMask, cog, publish];

  // Platform charts: the events layer (routing, chains and callbacks built from the
  // workflows, so it comes after every then()) and the state service.
  const events = new PlatformEvents(app, 'events', { workflows });
  events.addCallback('notify-failures', {
    workflow: cloudMask,
    when: ['!successful'],
    parameters: { run: CallbackParameter.run('name'), state: CallbackParameter.run('state'), error: CallbackParameter.run('error') },
    target: CallbackTarget.http({ url: 'https://hooks.example.org/swoop/alerts', auth: { secret: { name: 'swoop-alerts', key: 'authorization' } } }),
  });
  events.addCallback('audit-publish', { workflow: publish, when: ['successful', 'failed'], target: CallbackTarget.log() });

  return { app, events, library, workflows };
}
