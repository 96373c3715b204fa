import { App } from 'cdk8s';
import { TaskLibrary, type Workflow, type WorkflowParameters } from '../constructs';
import { CallbackParameter, CallbackTarget, PlatformEvents } from '../constructs/events';
import { StateMonitoringChart } from '../constructs/state-monitoring';
import { StateServiceChart } from '../constructs/state-service';
import { loadEnvironment, type Environment } from '../stacks/environment';
import { archiveOriginals } from './archive-originals';
import { cogConversion } from './cog-conversion';
import { copyAndPublish } from './copy-and-publish';
import { ingestItems } from './ingest-items';
import { reviewCloudyScenes } from './review-cloudy-scenes';
import { itemThumbnails } from './item-thumbnails';
import { sentinel2CloudMask } from './sentinel2-cloud-mask';
import { defineTasks } from './tasks';

export interface SwoopApp {
  readonly app: App;
  readonly environment: Environment;
  readonly events: PlatformEvents;
  readonly state: StateServiceChart;
  readonly library: TaskLibrary;
  readonly workflows: readonly Workflow<WorkflowParameters>[];
}

/**
 * Builds the whole cdk8s app for one stack's environment (stacks/environment.ts: its queue,
 * region and state image; the dev stack's by default): task library, workflows and (below)
 * the platform charts.
 */
export function buildApp(environment: Environment = loadEnvironment('dev')): SwoopApp {
  const app = new App({ outdir: `dist/${environment.stack}` });
  const library = new TaskLibrary(app, 'task-library');
  const tasks = defineTasks(library);

  const cloudMask = sentinel2CloudMask(app, tasks);
  const cog = cogConversion(app, tasks);
  const publish = copyAndPublish(app, tasks);
  const review = reviewCloudyScenes(app, tasks);
  ingestItems(app, tasks);
  itemThumbnails(app, tasks);
  const archive = archiveOriginals(app);
  // Cirrus chaining: clear scenes go on to COG conversion, cloudy ones to a person's review;
  // every converted payload gets published, and every published one archived.
  cloudMask.then(cog, { filter: "@.properties.'eo:cloud_cover' < 50" });
  cloudMask.then(review, { filter: "@.properties.'eo:cloud_cover' >= 50" });
  cog.then(publish);
  publish.then(archive);

  // Platform charts: the events layer and the state service. The events layer routes every
  // Workflow of this app (it finds them itself), so it comes after every workflow and then().
  const events = new PlatformEvents(app, 'events', {
    // The stack's process queue (infra creates it and binds swoop-events-source to a role that reads it).
    queue: { queue: environment.queueName, region: environment.region },
  });
  events.addCallback('notify-failures', {
    workflow: cloudMask,
    when: ['!successful'],
    parameters: { run: CallbackParameter.run('name'), state: CallbackParameter.run('state'), error: CallbackParameter.run('error') },
    target: CallbackTarget.http({ url: 'https://hooks.example.org/swoop/alerts', auth: { secret: { name: 'swoop-alerts', key: 'authorization' } } }),
  });
  events.addCallback('audit-publish', { workflow: publish, when: ['successful', 'failed'], target: CallbackTarget.log() });

  // The only definition of the state service's Kubernetes objects; infra creates the
  // Secrets and ConfigMap it reads and delivers dist/ with everything else.
  // The image by digest, from the stack setting stateServiceImage; the dashboard links runs to
  // the stack's Argo UI (argoIngress) and believes the SSO proxy or the ALB of the stack setting dashboard.
  const state = new StateServiceChart(app, 'state-service', {
    image: environment.stateServiceImage,
    dashboard: {
      argoWorkflowUrl: environment.dashboard.argoWorkflowUrl,
      ...(environment.dashboard.sso?.ssoHeader ? { ssoHeader: environment.dashboard.sso.ssoHeader } : {}),
      // The ALB's signed user header, checked against the ALB the stack names (infra/dashboard-ingress.ts).
      ...(environment.dashboard.sso?.alb ? { albOidc: { region: environment.region, signer: environment.dashboard.sso.alb.signer, claim: environment.dashboard.sso.alb.claim } } : {}),
    },
  });
  // Its ServiceMonitor and alert rules (docs/metrics.md), applied where the stack has the
  // Prometheus operator (stack setting prometheusOperator).
  new StateMonitoringChart(app, 'state-monitoring');

  return { app, environment, events, state, library, workflows: events.workflows };
}
