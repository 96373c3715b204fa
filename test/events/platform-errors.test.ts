import { App, Duration } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { ContainerTask, TaskLibrary, validationErrors, Workflow } from '../../constructs';
import { PlatformEvents } from '../../constructs/events';

function workflows(...names: string[]) {
  const app = new App();
  const tool = new ContainerTask(new TaskLibrary(app, 'lib'), 'tool', { image: 'ghcr.io/example/stac-tools:2.1.0' });
  const wfs = names.map((n) => {
    const wf = new Workflow(app, n);
    wf.addStep('work', tool);
    return wf;
  });
  return { app, wfs };
}

describe('PlatformEvents configuration errors name the construct path and what to do', () => {
  it('no workflows', () => {
    const { app } = workflows();
    expect(() => new PlatformEvents(app, 'events', { workflows: [] })).toThrow(/^events: workflows is empty; .*Pass the workflows payloads may name/);
  });

  it('a then() link to a workflow the events layer was not given', () => {
    const { app, wfs } = workflows('a', 'b');
    wfs[0].then(wfs[1]);
    expect(() => new PlatformEvents(app, 'events', { workflows: [wfs[0]] })).toThrow(/^a: then\(\) chains to workflow b \(b\), which is not in the workflows given to the events layer; add it/);
  });

  it('a then() link added after the events layer was built is reported at synthesis', () => {
    const { app, wfs } = workflows('a', 'b');
    const events = new PlatformEvents(app, 'events', { workflows: wfs });
    wfs[0].then(wfs[1]);
    expect(validationErrors(app).map((e) => `${e.path}: ${e.message}`)).toContainEqual(expect.stringMatching(/^events\/Chains: a.then\(\) was called after the events layer was created/));
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
