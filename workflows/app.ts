import { App } from 'cdk8s';
import { TaskLibrary, type Workflow, type WorkflowParameters } from '../constructs';
import { cogConversion } from './cog-conversion';
import { copyAndPublish } from './copy-and-publish';
import { sentinel2CloudMask } from './sentinel2-cloud-mask';
import { defineTasks } from './tasks';

export interface SwoopApp {
  readonly app: App;
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

  // ---- PLATFORM CHARTS (added by the lead) -------------------------------------------
  // The events layer (event bus, ingress/chain/callback sensors built from `workflows`) and
  // the state-service chart are added here, as charts of `app`, so `npm run synth` writes
  // them to dist/ with the workflows.
  // -----------------------------------------------------------------------------------

  return { app, library, workflows };
}
