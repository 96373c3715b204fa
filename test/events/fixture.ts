import { App } from 'cdk8s';
import { parse } from 'yaml';
import { ContainerTask, synthesize, TaskLibrary, Workflow, type WorkflowParameters } from '../../constructs';
import { PlatformEvents, type PlatformEventsProps } from '../../constructs/events';

export type Doc = Record<string, any>;

/** Small workflows of our own: ingest -> [cog, thumbs], cog -> publish (filtered), plus a callback handler. */
export function eventsFixture(options: { props?: Partial<PlatformEventsProps>; callbacks?: (events: PlatformEvents, wfs: Record<string, Workflow<WorkflowParameters>>) => void } = {}) {
  const app = new App();
  const lib = new TaskLibrary(app, 'lib');
  const tool = new ContainerTask(lib, 'stac-tool', {
    image: 'ghcr.io/example/stac-tools:2.1.0',
    args: (io) => ['run', io.input, '--output', io.output],
  });
  const make = (name: string, parameters?: WorkflowParameters) => {
    const wf = new Workflow(app, name, parameters ? { parameters } : {});
    wf.addStep('work', tool);
    return wf;
  };
  const ingest = make('ingest');
  const cog = make('cog');
  const thumbs = make('thumbs');
  const publish = make('publish');
  const notify = make('notify', { 'item-count': { default: '0' }, state: { default: '' } });
  // Payload projections the sensors fill (constructs/payload.ts), read by a condition.
  cog.addStep('batched', tool, { when: cog.payload.task('cog').param('batch').isTrue().and(cog.payload.itemCount.greaterThan(1)).and(cog.payload.collections.includes('sentinel-2-l2a')) });
  ingest.then([cog, thumbs]);
  cog.then(publish, { filter: "@.properties.'eo:cloud_cover' < 50" });
  const workflows = { ingest, cog, thumbs, publish, notify };
  const events = new PlatformEvents(app, 'events', {
    workflows: Object.values(workflows),
    queue: { queue: 'swoop-payloads', region: 'us-west-2' },
    ...options.props,
  });
  options.callbacks?.(events, workflows);
  const files = synthesize(app);
  const docs: Doc[] = [...files.values()].flatMap((text) => text.split(/^---$/m).map((d) => parse(d) as Doc).filter(Boolean));
  return { app, events, workflows, files, docs };
}

export function findDoc(docs: Doc[], kind: string, name: string): Doc {
  const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  if (!doc) throw new Error(`no ${kind}/${name} in ${docs.map((d) => `${d.kind}/${d.metadata?.name}`).join(', ')}`);
  return doc;
}
