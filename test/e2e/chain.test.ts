import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackParameter, CallbackTarget } from '../../constructs/events';
import { Simulator, type Firing } from '../../tools/simulator';
import { workflowFailures } from './support/argo';
import { cirrusId, cirrusPayload, expectedRunName } from './support/fixtures';
import { BACKEND, LIFECYCLE_TOKEN, startPlatform, synthesizeManifests, webhookOf, type Received, type RunningPlatform } from './support/platform';
import { submissions } from '../support/submissions';
import { type ArgoRun, runToEnd } from './support/run';

const CALLBACK_URL = 'https://hooks.example.org/swoop';
/** Callbacks this suite adds; the app's own callbacks may fire too and are not asserted here. */
const OUR_CALLBACKS = ['callback-notify-failure', 'callback-published'];

const manifests = synthesizeManifests((events, swoop) => {
  const [, cog, publish] = swoop.workflows;
  events.addCallback('notify-failure', {
    workflow: cog!,
    when: ['!successful'],
    target: CallbackTarget.http({ url: CALLBACK_URL, auth: { secret: { name: 'swoop-callback-token', key: 'token' } } }),
    parameters: { run: CallbackParameter.run('name'), state: CallbackParameter.run('state'), error: CallbackParameter.run('error') },
  });
  events.addCallback('published', { workflow: publish!, when: ['successful'], target: CallbackTarget.log() });
});

interface Started {
  readonly trigger: string;
  readonly name: string;
  readonly template: string;
  readonly params: Record<string, string>;
}

/** The runs the chain sensor hands to the state service, as the service reads them. */
function started(firings: Firing[]): Started[] {
  return submissions(firings).map(({ trigger, name, template, params }) => ({ trigger, name, template, params }));
}

describe(`run.finished from the real state service drives the synthesized chain and callback sensors (${BACKEND})`, () => {
  let platform: RunningPlatform;
  const sim = new Simulator(manifests.docs);
  beforeAll(async () => {
    platform = await startPlatform(manifests);
  });
  afterAll(async () => platform?.stop());

  /** Runs `name` to its end and returns what the state service forwarded for it. */
  async function finished(name: string, args: Record<string, string>, phase: 'Succeeded' | 'Failed' = 'Succeeded', message = ''): Promise<{ run: ArgoRun; received: Received }> {
    const run = await platform.start(name, args);
    const failures = phase === 'Succeeded' ? [] : [{ displayName: 'convert(0:B04)', message, templateName: 'main', phase: 'Failed' as const, podName: 'p', finishedAt: '2026-03-02T10:40:00Z' }];
    await runToEnd(run, phase, workflowFailures(failures));
    return { run, received: await platform.lifecycle.waitFor((r) => r.body.run === run.run.name) };
  }

  it('a successful e2e-mask run starts e2e-cogs once, with its output and the chain filter', async () => {
    const input = JSON.stringify(cirrusPayload([{ workflow: 'e2e-mask' }]));
    const { run, received } = await finished('e2e-mask', { input, 'payload-id': cirrusId('e2e-mask', 'CHAIN') });
    expect(received.path).toBe(webhookOf(manifests.find('EventSource', 'swoop-lifecycle')).endpoint);
    expect(received.headers.authorization).toBe(`Bearer ${LIFECYCLE_TOKEN}`);

    const delivery = sim.deliver(received.event);
    const link = 'e2e-mask-then-e2e-cogs';
    const cogName = expectedRunName('e2e-cogs', `${run.run.uid}/${link}`);
    // Only the chain link starts a run; callbacks of the app may log, none may start a workflow.
    const [link1, ...more] = started(delivery.firings);
    expect(more).toEqual([]);
    expect(link1).toEqual({ trigger: link, name: cogName, template: 'e2e-cogs', params: { input: expect.any(String), 'parent-run': run.run.name } });
    expect(JSON.parse(link1!.params.input!)).toEqual({ url: received.body.output, chain_filter: "@.properties.'eo:cloud_cover' < 50" });

    // The state service claims and creates it; the Workflow is one Argo accepts: its arguments fit the template's parameters.
    const link1Firing = delivery.firings.find((f) => f.trigger === link)!;
    const created = await platform.deliverSubmit(link1Firing);
    expect([created.status, created.body.created, created.body.run]).toEqual([201, true, cogName]);
    expect(created.run!.parameters).toMatchObject({ 'parent-run': run.run.name, 'payload-id': '', replace: 'false', 'state-url': platform.stateUrl });

    // A redelivery of the same run.finished gives the same name: the service answers 200, nothing new starts.
    const again = sim.deliver(received.event).firings.filter((f) => f.trigger === link);
    expect(started(again).map((s) => s.name)).toEqual([cogName]);
    const workflows = platform.kube.workflows.size;
    expect((await platform.deliverSubmit(again[0]!)).body).toEqual({ created: false, claimed: true, reason: `Workflow ${cogName} already exists (a repeated delivery)`, run: cogName });
    expect(platform.kube.workflows.size).toBe(workflows);
    // ...also after the chained run finished and its Workflow was garbage-collected: the run is final in SQL.
    await runToEnd(created.run!, 'Succeeded', workflowFailures([]));
    platform.kube.collect('swoop', cogName);
    expect((await platform.deliverSubmit(again[0]!)).body).toEqual({ created: false, claimed: true, reason: `run ${cogName} already finished SUCCESSFUL`, run: cogName });
    expect(platform.kube.workflows.has(`swoop/${cogName}`)).toBe(false);
    const outbox = await platform.state.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE run = $1', [cogName]);
    expect(outbox[0]!.n).toBe(1);
  });

  it('the run a chain starts (payload-id empty) is claimed by the state service before it is created', async () => {
    const input = JSON.stringify(cirrusPayload([{ workflow: 'e2e-mask' }], { item: 'S2A_CLAIM' }));
    const { received } = await finished('e2e-mask', { input, 'payload-id': cirrusId('e2e-mask', 'S2A_CLAIM') });
    const firing = sim.deliver(received.event).firings.find((f) => submissions([f]).length > 0)!;
    const [next] = started([firing]);
    const answer = await platform.deliverSubmit(firing);
    expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 201, body: { created: true, claimed: true, run: next!.name } });
    expect((await platform.read(`/runs/${next!.name}`)).parentRun).toBe(received.body.run);
  });

  it('a successful e2e-cogs run starts e2e-publish with its output URL as input; no failure callback', async () => {
    const { run, received } = await finished('e2e-cogs', { input: 's3://in/cog.json', 'payload-id': cirrusId('e2e-cogs', 'CHAIN2') });
    const delivery = sim.deliver(received.event);
    expect(started(delivery.firings)).toEqual([{
      trigger: 'e2e-cogs-then-e2e-publish',
      name: expectedRunName('e2e-publish', `${run.run.uid}/e2e-cogs-then-e2e-publish`),
      template: 'e2e-publish',
      params: { input: received.body.output, 'parent-run': run.run.name },
    }]);
    expect(received.body.output.startsWith(`${run.parameters['payload-store']}/${run.run.name}/`)).toBe(true);
    expect(delivery.firings.map((f) => f.trigger)).not.toContain('callback-notify-failure');
  });

  it.each([
    ['FAILED', 'Error (exit code 2)'],
    ['TIMED_OUT', 'Max duration limit exceeded'],
    ['CANCELED', "Stopped with strategy 'Stop'"],
  ])('a %s e2e-cogs run fires the !successful callback with run, state and error, and chains nothing', async (state, message) => {
    const { run, received } = await finished('e2e-cogs', { input: 's3://in/bad.json', 'payload-id': cirrusId('e2e-cogs', `FAIL-${state}`) }, 'Failed', message);
    expect(received.body.state).toBe(state);
    const delivery = sim.deliver(received.event);
    expect(started(delivery.firings)).toEqual([]);
    expect(delivery.firings.filter((f) => OUR_CALLBACKS.includes(f.trigger)).map((f) => [f.trigger, f.action])).toEqual([['callback-notify-failure', {
      type: 'http',
      method: 'POST',
      url: CALLBACK_URL,
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `${run.run.uid}/notify-failure` },
      secureHeaders: { Authorization: 'secret swoop-callback-token/token' },
      body: { run: run.run.name, state, error: received.body.error },
      allowedStatuses: [200, 201, 202, 204], // a 5xx from the receiver is retried, not counted as delivered
    }]]);
    expect(received.body.error).toContain(message);
  });

  it('a successful e2e-publish run fires its "successful" log callback and not the failure one', async () => {
    const { received } = await finished('e2e-publish', { input: 's3://in/pub.json', 'payload-id': cirrusId('e2e-publish', 'PUB') });
    const fired = sim.deliver(received.event).firings.filter((f) => OUR_CALLBACKS.includes(f.trigger));
    expect(fired.map((f) => [f.trigger, f.action.type])).toEqual([['callback-published', 'log']]);
  });

  it('payload-driven chain: the next element of the process array starts with the output payload', async () => {
    const process = [{ workflow: 'e2e-publish' }, { workflow: 'e2e-cogs', replace: false }];
    const { run, received } = await finished('e2e-publish', { input: JSON.stringify(cirrusPayload(process)), 'payload-id': cirrusId('e2e-publish', 'NEXT') });
    expect(received.body.next).toEqual(process.slice(1));
    const next = started(sim.deliver(received.event).firings).filter((s) => s.trigger === 'next-e2e-cogs');
    expect(next).toEqual([{
      trigger: 'next-e2e-cogs',
      name: expectedRunName('e2e-cogs', `${run.run.uid}/next-e2e-cogs`),
      template: 'e2e-cogs',
      params: { input: expect.any(String), 'parent-run': run.run.name },
    }]);
    expect(JSON.parse(next[0]!.params.input!)).toEqual({ url: received.body.output, process: process.slice(1) });
  });
});
