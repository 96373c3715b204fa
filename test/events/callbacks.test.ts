import { submissions } from '../support/submissions';
import { describe, expect, it } from 'vitest';
import { CallbackParameter, CallbackTarget, FINAL_STATES, resolveWhen, type StateSelector } from '../../constructs/events';
import { Simulator, webhookEvent } from '../../tools/simulator';
import { eventsFixture, type Doc } from './fixture';

const STATES = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID'];

function finished(state: string, uid: string, extra: Record<string, unknown> = {}) {
  return webhookEvent('swoop-lifecycle', 'run-finished', {
    event: 'run.finished', state, workflow: 'publish', run: `publish-${uid}`, uid, payloadId: 'c/workflow-publish/item-1', parentRun: '',
    startedAt: '2026-01-01T10:00:00Z', finishedAt: '2026-01-01T10:05:00Z', error: state === 'SUCCESSFUL' ? '' : 'boom',
    input: JSON.stringify({ type: 'FeatureCollection', features: [{ id: 'item-1', collection: 'c' }], process: [{ workflow: 'publish' }] }),
    output: state === 'SUCCESSFUL' ? `s3://payloads/publish-${uid}/output.json` : '', next: [], ...extra,
  });
}

describe('callbacks for each final state, with negation', () => {
  const selectors: StateSelector[][] = [...FINAL_STATES.map((s) => [s] as StateSelector[]), ['!failed'], ['!successful', '!invalid'], ['successful', 'timed_out']];
  const id = (sel: StateSelector[]) => `on-${sel.join('-').replace(/!/g, 'not-').replace(/_/g, '-')}`;
  const { docs } = eventsFixture({
    callbacks: (events, wf) => {
      for (const when of selectors) events.addCallback(id(when), { workflow: wf.publish, when, target: CallbackTarget.log() });
    },
  });

  for (const state of STATES) {
    it(`a ${state} run fires exactly the callbacks whose when selects it`, () => {
      const sim = new Simulator(docs);
      const fired = sim.deliver(finished(state, `u-${state}`)).firings.filter((f) => f.sensor === 'swoop-callbacks').map((f) => f.trigger).sort();
      const expected = selectors.filter((sel) => resolveWhen(sel, 'x').includes(state)).map((sel) => `callback-${id(sel)}`).sort();
      expect(fired).toEqual(expected);
      expect(fired).toContain(`callback-on-${state.toLowerCase().replace(/_/g, '-')}`);
    });
  }

  it('resolves negations as SWOOP does', () => {
    expect(resolveWhen(['!failed'], 'p')).toEqual(['SUCCESSFUL', 'CANCELED', 'TIMED_OUT', 'INVALID']);
    expect(resolveWhen(['!successful', '!invalid'], 'p')).toEqual(['FAILED', 'CANCELED', 'TIMED_OUT']);
    expect(resolveWhen(undefined, 'p')).toEqual(STATES);
  });

  it('does not fire for runs of other workflows', () => {
    const sim = new Simulator(docs);
    const event = finished('SUCCESSFUL', 'u-x');
    (event.data as Doc).body.workflow = 'cog';
    expect(sim.deliver(event).firings.filter((f) => f.sensor === 'swoop-callbacks')).toEqual([]);
  });
});

describe('callback targets and parameters', () => {
  const { docs } = eventsFixture({
    callbacks: (events, wf) => {
      events.addCallback('stac-api', {
        workflow: wf.publish,
        when: ['successful'],
        parameters: {
          run: CallbackParameter.run('name'),
          status: CallbackParameter.run('state'),
          finished: CallbackParameter.run('finishedAt'),
          item: CallbackParameter.input('features.0.id'),
          missing: CallbackParameter.input('features.9.id'),
          output: CallbackParameter.output(),
          source: CallbackParameter.fixed('swoop'),
        },
        target: CallbackTarget.http({ url: 'https://stac.example.org/hooks', auth: { secret: { name: 'stac-api', key: 'authorization' } } }),
      });
      events.addCallback('notify-failure', {
        workflow: wf.publish,
        when: ['!successful'],
        parameters: { input: CallbackParameter.input(), state: CallbackParameter.run('state') },
        target: CallbackTarget.workflow(wf.notify),
      });
      events.addCallback('each-item', {
        workflow: wf.publish,
        when: ['successful'],
        type: 'perFeature',
        featureFilter: "@.properties.'eo:cloud_cover' < 10",
        target: CallbackTarget.workflow(wf.thumbs),
      });
    },
  });

  it('HTTP: posts the parameters as JSON with the auth header from a Secret and an idempotency key per run', () => {
    const sim = new Simulator(docs);
    const firing = sim.deliver(finished('SUCCESSFUL', 'u1')).firings.find((f) => f.trigger === 'callback-stac-api')!;
    const action = firing.action as { method: string; url: string; body: Doc; secureHeaders: Doc; headers: Doc };
    expect(action.method).toBe('POST');
    expect(action.url).toBe('https://stac.example.org/hooks');
    expect(action.secureHeaders).toEqual({ Authorization: 'secret stac-api/authorization' });
    expect(action.headers).toEqual({ 'Content-Type': 'application/json', 'Idempotency-Key': 'u1/stac-api' });
    expect(action.body).toEqual({
      run: 'publish-u1', status: 'SUCCESSFUL', finished: '2026-01-01T10:05:00Z', item: 'item-1', missing: '', output: 's3://payloads/publish-u1/output.json', source: 'swoop',
    });
    const sensor = docs.find((d) => d.metadata?.name === 'swoop-callbacks')!;
    const trigger = (sensor.spec.triggers as Doc[]).find((t) => t.template.name === 'callback-stac-api')!;
    expect(trigger.template.http.dynamicHeaders[0]).toEqual({ src: { dependencyName: 'stac-api-publish', dataTemplate: '{{ .Input.body.uid }}/stac-api' }, dest: 'Idempotency-Key' });
    expect(trigger.policy).toEqual({ status: { allow: [200, 201, 202, 204] } });
  });

  it('workflow: submits the handler with the callback parameters, once per finished run', () => {
    const sim = new Simulator(docs);
    const run = () => submissions(sim.deliver(finished('FAILED', 'u2')).firings).find((f) => f.trigger === 'callback-notify-failure')!;
    const first = run();
    expect([first.resource.spec.workflowTemplateRef.name, first.claim, first.startedBy]).toEqual(['notify', true, 'callback']);
    expect(first.resource.spec.arguments.parameters).toEqual([
      { name: 'input', value: JSON.stringify({ type: 'FeatureCollection', features: [{ id: 'item-1', collection: 'c' }], process: [{ workflow: 'publish' }] }) },
      { name: 'state', value: 'FAILED' },
      { name: 'parent-run', value: 'publish-u2' },
    ]);
    expect(run().name).toBe(first.name); // a repeated run.finished: the same run, created once by the state service
  });

  it('perFeature: the handler workflow receives the output URL and the feature filter, and fans out itself', () => {
    const sim = new Simulator(docs);
    const action = submissions(sim.deliver(finished('SUCCESSFUL', 'u3')).firings).find((f) => f.trigger === 'callback-each-item')!;
    const input = (action.resource.spec.arguments.parameters as Doc[]).find((p) => p.name === 'input')!.value;
    expect(JSON.parse(input)).toEqual({ url: 's3://payloads/publish-u3/output.json', feature_filter: "@.properties.'eo:cloud_cover' < 10" });
  });
});

describe('callback configuration errors name the construct path', () => {
  const build = (add: Parameters<typeof eventsFixture>[0]) => () => eventsFixture(add);

  it('a state mixed with its own negation', () => {
    expect(build({ callbacks: (e, wf) => e.addCallback('bad', { workflow: wf.publish, when: ['failed', '!failed'], target: CallbackTarget.log() }) })).toThrow(
      /^events\/Callbacks\/bad: when mixes failed and !failed/,
    );
  });

  it('an unknown state', () => {
    expect(build({ callbacks: (e, wf) => e.addCallback('bad', { workflow: wf.publish, when: ['done' as StateSelector], target: CallbackTarget.log() }) })).toThrow(/when has "done"; use successful, failed/);
  });

  it('perFeature with a log target, or on states without output', () => {
    expect(build({ callbacks: (e, wf) => e.addCallback('pf', { workflow: wf.publish, when: ['successful'], type: 'perFeature', target: CallbackTarget.log() }) })).toThrow(
      /events\/Callbacks\/pf: type perFeature needs an HTTP or a workflow target/,
    );
    expect(build({ callbacks: (e, wf) => e.addCallback('pf', { workflow: wf.publish, when: ['!invalid'], type: 'perFeature', target: CallbackTarget.workflow(wf.thumbs) }) })).toThrow(
      /only successful runs have/,
    );
  });

  it('a workflow target given a parameter it does not declare, or no input', () => {
    expect(build({ callbacks: (e, wf) => e.addCallback('w', { workflow: wf.publish, parameters: { input: CallbackParameter.output(), colour: CallbackParameter.fixed('red') }, target: CallbackTarget.workflow(wf.notify) }) })).toThrow(
      /events\/Callbacks\/w: passes parameter "colour" to workflow notify, which declares only input, payload-id/,
    );
    expect(build({ callbacks: (e, wf) => e.addCallback('w', { workflow: wf.publish, target: CallbackTarget.workflow(wf.notify) }) })).toThrow(/needs an "input" parameter/);
  });

  it('a callback on something the events layer does not route', () => {
    expect(
      build({
        callbacks: (e) => e.addCallback('c', { workflow: { templateName: 'stranger' } as never, target: CallbackTarget.log() }),
      }),
    ).toThrow(/events\/Callbacks\/c: workflow stranger is not routed by the events layer; create it in this app before PlatformEvents/);
  });
});
