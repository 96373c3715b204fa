import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goJsonMarshal } from '../../tools/simulator/go-values';
import { marshalRawMessage } from '../../tools/simulator/json-text';
import { Simulator, type Firing } from '../../tools/simulator';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';
import type { Doc } from './support/argo';
import { cirrusId, cirrusPayload, expectedRunName } from './support/fixtures';
import { BACKEND, startPlatform, synthesizeManifests, webhookOf, WebhookReceiver, type RunningPlatform } from './support/platform';
import { isSubmit, submissions } from '../support/submissions';
import { webhookEvent } from '../../tools/simulator';

const manifests = synthesizeManifests();
const WORKFLOW = 'e2e-mask';

/** The cirrus example of cirrus-swoop-semantics.md, routed to a workflow of the suite's app. */
function payload(options: { id?: string; item?: string; first?: string } = {}): Doc {
  return cirrusPayload([
    {
      workflow: options.first ?? WORKFLOW,
      upload_options: { path_template: '/${collection}/${year}/${month}/${id}', collections: { 'sentinel-2-l2a-cogs': '.*' }, public_assets: [], s3_urls: false },
      tasks: { 'cloud-mask': { model: 's2cloudless' } },
      replace: false,
    },
    { workflow: 'e2e-publish', chain_filter: "@.properties.'eo:cloud_cover' < 50" },
  ], options);
}

describe(`a cirrus payload from the webhook through the state service's claim to its Workflow (${BACKEND})`, () => {
  let platform: RunningPlatform;
  let ingress: WebhookReceiver;
  const sim = new Simulator(manifests.docs);
  beforeAll(async () => {
    platform = await startPlatform(manifests);
    const spec = webhookOf(manifests.find('EventSource', 'swoop-ingress'));
    ingress = new WebhookReceiver(spec, platform.cluster.secrets[spec.authSecret.name]![spec.authSecret.key]!);
    await ingress.start();
  });
  afterAll(async () => {
    await ingress?.stop();
    await platform?.stop();
  });

  /** The body as the ingress webhook publishes it, with an Idempotency-Key (a new delivery of the same content). */
  function webhookEventOf(body: unknown, key: string) {
    return webhookEvent('swoop-ingress', 'payload', body, { Authorization: 'Bearer t', 'Idempotency-Key': key });
  }

  /** POSTs a body to the payload webhook as a producer would, and returns what the sensor does with it. */
  async function deliver(body: unknown, token = platform.cluster.secrets['swoop-ingress-token']!.token!): Promise<{ status: number; firings: Firing[] }> {
    const before = ingress.accepted.length;
    const res = await fetch(ingress.endpointUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    await res.text();
    if (ingress.accepted.length === before) return { status: res.status, firings: [] };
    return { status: res.status, firings: sim.deliver(ingress.accepted[ingress.accepted.length - 1]!.event).firings };
  }

  /** The runs the sensor hands to the state service, as the service reads them. */
  function submitted(firings: Firing[]): { name: string; template: string; params: Record<string, string> }[] {
    return submissions(firings).map(({ name, template, params }) => ({ name, template, params }));
  }

  /** Hands each submission of the firings to the real state service, as Argo Events would. */
  async function handOver(firings: Firing[]) {
    return Promise.all(firings.filter(isSubmit).map((f) => platform.deliverSubmit(f)));
  }

  it('the webhook refuses a delivery without the ingress token', async () => {
    expect((await deliver(payload(), 'wrong-token')).status).toBe(401);
  });

  it('routes the payload to its first process workflow with a deterministic name; the state service claims it and creates the Workflow once', async () => {
    const body = payload({ item: 'S2B_ROUTE' });
    const { status, firings } = await deliver(body);
    expect(status).toBe(200);
    const [wf, ...others] = submitted(firings);
    expect(others).toEqual([]);
    expect(wf).toEqual({
      name: expectedRunName(WORKFLOW, `/${WORKFLOW}${goJsonMarshal(body)}`),
      template: WORKFLOW,
      params: { input: expect.any(String), 'payload-id': '', replace: 'false' },
    });
    expect(JSON.parse(wf!.params.input!)).toEqual(body);
    const [created] = await handOver(firings);
    expect([created!.status, created!.body]).toEqual([201, { created: true, claimed: true, reason: 'new payload', run: wf!.name }]);
    const run = created!.run!;
    expect(run.run.name).toBe(wf!.name);
    expect(run.parameters).toMatchObject({ input: wf!.params.input, 'payload-store': expect.stringMatching(/^s3:\/\//), 'state-url': platform.stateUrl, 'max-cloud-cover': expect.any(String) });

    // The same delivery again: the same name, which the service answers 200 without creating anything.
    const again = await deliver(body);
    expect(submitted(again.firings).map((s) => s.name)).toEqual([wf!.name]);
    const workflows = platform.kube.workflows.size;
    const [repeat] = await handOver(again.firings);
    expect([repeat!.status, repeat!.body]).toEqual([200, { created: false, claimed: true, reason: `Workflow ${wf!.name} already exists (a repeated delivery)`, run: wf!.name }]);
    expect(platform.kube.workflows.size).toBe(workflows);
  });

  it.skipIf(!HAVE_REFERENCE)('the Workflow the state service creates is valid for the upstream Argo Workflows schema (unknown fields rejected)', async () => {
    const { firings } = await deliver(payload({ item: 'S2B_SCHEMA' }));
    const [answer] = await handOver(firings);
    const created = platform.kube.workflows.get(`swoop/${answer!.body.run}`);
    expect(validateArgoDocument(created)).toEqual([]);
    expect(platform.kube.invalid).toEqual([]);
  });

  it('a payload already running, sent again as a new message, creates nothing: no Workflow, no pod, one SQL refusal', async () => {
    const body = payload({ item: 'S2B_ACTIVE' });
    await handOver((await deliver(body)).firings);
    // A new message (another Idempotency-Key) of the same payload: a new delivery, a new run name.
    const dup = sim.deliver(webhookEventOf(body, 'resent-by-feeder')).firings;
    const workflows = platform.kube.workflows.size;
    const requests = platform.kube.requests.length;
    const [answer] = await handOver(dup);
    expect([answer!.status, answer!.body.created, answer!.body.claimed]).toEqual([200, false, false]);
    expect(answer!.body.reason).toMatch(/^payload is active: run e2e-mask-[0-9a-f]{16} is QUEUED$/);
    expect([platform.kube.workflows.size, platform.kube.requests.length]).toEqual([workflows, requests]);
  });

  it('the run of a payload that carries its cirrus id is claimed under it, and the state service parses the identity', async () => {
    const id = cirrusId(WORKFLOW, 'S2B_WITH_ID');
    const { firings } = await deliver(payload({ id, item: 'S2B_WITH_ID' }));
    const [wf] = submitted(firings);
    expect(wf!.params['payload-id']).toBe(id);
    const [answer] = await handOver(firings);
    expect([answer!.status, answer!.body]).toEqual([201, { created: true, claimed: true, reason: 'new payload', run: wf!.name }]);
    expect(await platform.read(`/payloads/${encodeURIComponent(id)}`)).toMatchObject({
      payloadId: id, workflow: WORKFLOW, collections: ['sentinel-2-l2a'], itemIds: ['S2B_WITH_ID'], state: 'QUEUED', input: wf!.params.input,
    });
  });

  it('the run of a payload without an id (the usual cirrus input) is claimed under the derived cirrus id', async () => {
    const { firings } = await deliver(payload({ item: 'S2B_NO_ID' }));
    const [wf] = submitted(firings);
    const [answer] = await handOver(firings);
    expect({ status: answer!.status, body: answer!.body }).toMatchObject({ status: 201, body: { claimed: true, run: wf!.name } });
    expect((await platform.read(`/runs/${wf!.name}`)).payloadId).toBe(cirrusId(WORKFLOW, 'S2B_NO_ID'));
  });

  it('a payload naming no known workflow is recorded INVALID by the state service, starting nothing', async () => {
    const { STATE_URL } = await import('../../infra/platform');
    const body = payload({ first: 'no-such-workflow', item: 'S2B_INVALID' });
    const { firings } = await deliver(body);
    expect(submitted(firings)).toEqual([]);
    const [record] = firings.filter((f) => f.action.type === 'http');
    const http = record!.action as Extract<Firing['action'], { type: 'http' }>;
    expect(http.url).toBe(`${STATE_URL}/events`);
    const headers: Record<string, string> = { ...http.headers };
    for (const [name, from] of Object.entries(http.secureHeaders)) {
      const [, secret, key] = /^secret ([^/]+)\/(.+)$/.exec(from)!;
      headers[name] = platform.cluster.secrets[secret!]![key!]!;
    }
    // The trigger's URL is the in-cluster state-url; on loopback the same path goes to the test's service.
    const res = await fetch(`${platform.stateUrl}/events`, { method: http.method, headers, body: JSON.stringify(http.body) });
    const answer = (await res.json()) as Doc;
    expect({ status: res.status, answer }).toEqual({ status: 202, answer: { accepted: true, run: expect.stringMatching(/^invalid-/) } });
    expect(http.allowedStatuses).toContain(res.status); // the trigger's policy counts it as delivered
    // The body as the webhook event source passed it on: Go's json.Marshal of the raw request
    // (compacted, `<` escaped as \u003c), the same JSON value.
    const recorded = await platform.read(`/runs/${answer.run}`);
    expect(recorded).toMatchObject({ state: 'INVALID', input: marshalRawMessage(JSON.stringify(body)) });
    expect(JSON.parse(recorded.input as string)).toEqual(body);
  });
});
