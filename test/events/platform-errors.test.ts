import { App, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ContainerTask, synthesize, TaskLibrary, validationErrors, Workflow } from '../../constructs';
import { CallbackTarget, PlatformEvents } from '../../constructs/events';

function workflows(...names: string[]) {
  const app = new App();
  const tool = new ContainerTask(new TaskLibrary(app, 'lib'), 'tool', { image: 'ghcr.io/example/stac-tools:2.1.0' });
  const make = (n: string, scope: Construct = app) => {
    const wf = new Workflow(scope, n);
    wf.addStep('work', tool);
    return wf;
  };
  return { app, wfs: names.map((n) => make(n)), make };
}

const problems = (app: App) => validationErrors(app).map((e) => `${e.path}: ${e.message}`);
const ingressTriggers = (app: App) => [...new Set([...(synthesize(app).get('events.yaml') ?? '').matchAll(/name: (start-[a-z0-9-]+-from-webhook)/g)].map((m) => m[1]))];

describe('PlatformEvents finds the workflows of its app itself', () => {
  it('routes every Workflow of the app, nested ones included, in construct-tree order', () => {
    const { app, make } = workflows('ingest', 'cog');
    make('thumbs', new Construct(app, 'team-b'));
    const events = new PlatformEvents(app, 'events');
    expect(events.workflows.map((w) => w.node.path)).toEqual(['ingest', 'cog', 'team-b/thumbs']);
    expect(problems(app)).toEqual([]);
    expect(ingressTriggers(app)).toEqual(['start-ingest-from-webhook', 'start-cog-from-webhook', 'start-thumbs-from-webhook']);
  });

  it('gives the same manifests as the explicit list it replaces', () => {
    const build = (explicit: boolean) => {
      const { app, wfs } = workflows('a', 'b', 'c');
      wfs[0].then(wfs[1]);
      new PlatformEvents(app, 'events', explicit ? { workflows: wfs } : {});
      return synthesize(app).get('events.yaml');
    };
    expect(build(false)).toBe(build(true));
  });

  it('a workflow created after the events layer is a synth error naming it', () => {
    const { app, make } = workflows('a');
    new PlatformEvents(app, 'events');
    make('late');
    expect(problems(app)).toEqual([
      'events: workflow late (late) was created after the events layer, so payloads naming it would be recorded INVALID; create PlatformEvents after every workflow',
    ]);
  });

  it('with an explicit list, a workflow of the app left out of it is a synth error naming it', () => {
    const { app, wfs } = workflows('a', 'forgotten');
    new PlatformEvents(app, 'events', { workflows: [wfs[0]] });
    expect(problems(app)).toEqual([expect.stringMatching(/^events: workflow forgotten \(forgotten\) is in the app but not in the workflows given to PlatformEvents, .*; add it, or leave `workflows` out/)]);
  });
});

describe('PlatformEvents configuration errors name the construct path and what to do', () => {
  it('no workflows', () => {
    const { app } = workflows();
    expect(() => new PlatformEvents(app, 'events')).toThrow(/^events: the app has no workflows .*Create the workflows before PlatformEvents/);
    expect(() => new PlatformEvents(app, 'events2', { workflows: [] })).toThrow(/^events2: the app has no workflows \(or workflows is empty\)/);
  });

  it('a then() link to a workflow left out of the explicit list', () => {
    const { app, wfs } = workflows('a', 'b');
    wfs[0].then(wfs[1]);
    new PlatformEvents(app, 'events', { workflows: [wfs[0]] });
    expect(problems(app)).toContainEqual('events/Chains: a.then() chains to workflow b (b), which is not routed by the events layer; add it to the workflows given to PlatformEvents, or leave that list out');
  });

  it('a then() link to a workflow of another App', () => {
    const { app, wfs } = workflows('a');
    const other = workflows('elsewhere').wfs[0];
    wfs[0].then(other);
    new PlatformEvents(app, 'events');
    expect(problems(app)).toEqual(['events/Chains: a.then() chains to workflow elsewhere, which belongs to another App; create it in this app']);
  });

  it('a callback on a workflow of another App', () => {
    const { app } = workflows('a');
    const other = workflows('elsewhere').wfs[0];
    const events = new PlatformEvents(app, 'events');
    expect(() => events.addCallback('cb', { workflow: other, when: ['successful'], target: CallbackTarget.log() }))
      .toThrow('events/Callbacks/cb: workflow elsewhere belongs to another App; create it in this app before PlatformEvents');
  });

  it('a then() link added after the events layer was built is reported at synthesis', () => {
    const { app, wfs } = workflows('a', 'b');
    const events = new PlatformEvents(app, 'events', { workflows: wfs });
    wfs[0].then(wfs[1]);
    expect(problems(app)).toContainEqual(expect.stringMatching(/^events\/Chains: a.then\(\) was called after the events layer was created/));
    expect(events.chains.sensor.name).toBe('swoop-chains');
  });

  it('an SQS region that is not one', () => {
    const { app, wfs } = workflows('a');
    expect(() => new PlatformEvents(app, 'events', { workflows: wfs, queue: { queue: 'q', region: 'Oregon' } })).toThrow(/^events\/PayloadQueue: region "Oregon" is not an AWS region name/);
  });

  it('a long poll beyond what SQS allows', () => {
    const { app, wfs } = workflows('a');
    expect(() => new PlatformEvents(app, 'events', { workflows: wfs, queue: { queue: 'q', region: 'us-west-2', waitTime: Duration.seconds(30) } })).toThrow(/waitTime is 30s; SQS long polling allows 0 to 20 seconds/);
  });
});
