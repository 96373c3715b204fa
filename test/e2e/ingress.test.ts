import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goJsonMarshal } from '../../tools/simulator/go-values';
import { marshalRawMessage } from '../../tools/simulator/json-text';
import { Simulator, type Firing } from '../../tools/simulator';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';
import type { Doc } from './support/argo';
import { cirrusId, cirrusPayload, expectedRunName, newRun } from './support/fixtures';
import { BACKEND, startPlatform, synthesizeManifests, webhookOf, WebhookReceiver, type RunningPlatform } from './support/platform';
import { ArgoRun } from './support/run';

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

describe(`a cirrus payload from the webhook to the claim of its run (${BACKEND})`, () => {
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

  /** POSTs a body to the payload webhook as a producer would, and returns what the sensor does with it. */
  async function deliver(body: unknown, token = platform.cluster.secrets['swoop-ingress-token']!.token!): Promise<{ status: number; firings: Firing[] }> {
    const before = ingress.accepted.length;
    const res = await fetch(ingress.endpointUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    await res.text();
    if (ingress.accepted.length === before) return { status: res.status, firings: [] };
    return { status: res.status, firings: sim.deliver(ingress.accepted[ingress.accepted.length - 1]!.event).firings };
  }

  function submitted(firings: Firing[]): { name: string; template: string; params: Record<string, string>; outcome: string }[] {
    return firings.flatMap((f) => {
      if (f.action.type !== 'k8s') return [];
      const r = f.action.resource as Doc;
      return [{ name: r.metadata.name, template: r.spec.workflowTemplateRef.name, params: Object.fromEntries((r.spec.arguments.parameters as Doc[]).map((p) => [p.name, p.value])), outcome: f.action.outcome }];
    });
  }

  it('the webhook refuses a delivery without the ingress token', async () => {
    expect((await deliver(payload(), 'wrong-token')).status).toBe(401);
  });

  it('routes the payload to its first process workflow with a deterministic name and arguments the template declares', async () => {
    const body = payload({ item: 'S2B_ROUTE' });
    const { status, firings } = await deliver(body);
    expect(status).toBe(200);
    const [wf, ...others] = submitted(firings);
    expect(others).toEqual([]);
    expect(wf).toEqual({
      name: expectedRunName(WORKFLOW, `/${WORKFLOW}${goJsonMarshal(body)}`),
      template: WORKFLOW,
      params: { input: expect.any(String), 'payload-id': '', replace: 'false' },
      outcome: 'created',
    });
    expect(JSON.parse(wf!.params.input!)).toEqual(body);
    const run = new ArgoRun(structuredClone(manifests.find('WorkflowTemplate', WORKFLOW)), { ...newRun(WORKFLOW, {}), name: wf!.name, arguments: wf!.params }, platform.cluster);
    expect(run.parameters).toMatchObject({ input: wf!.params.input, 'payload-store': expect.stringMatching(/^s3:\/\//), 'state-url': platform.stateUrl, 'max-cloud-cover': expect.any(String) });

    expect(submitted((await deliver(body)).firings).map((s) => [s.name, s.outcome])).toEqual([[wf!.name, 'already-exists']]);
  });

  it.skipIf(!HAVE_REFERENCE)('the Workflow the trigger creates is valid for the upstream Argo Workflows schema (unknown fields rejected)', async () => {
    const { firings } = await deliver(payload({ item: 'S2B_SCHEMA' }));
    const resources = firings.flatMap((f) => (f.action.type === 'k8s' ? [f.action.resource] : []));
    expect(resources).toHaveLength(1);
    expect(validateArgoDocument(resources[0])).toEqual([]);
  });

  it('the run of a payload that carries its cirrus id claims it, and the state service parses the identity', async () => {
    const id = cirrusId(WORKFLOW, 'S2B_WITH_ID');
    const [wf] = submitted((await deliver(payload({ id, item: 'S2B_WITH_ID' }))).firings);
    expect(wf!.params['payload-id']).toBe(id);
    const run = new ArgoRun(structuredClone(manifests.find('WorkflowTemplate', WORKFLOW)), { ...newRun(WORKFLOW, {}), name: wf!.name, arguments: wf!.params }, platform.cluster);
    const claim = await run.claim();
    expect([claim.status, JSON.parse(claim.body)]).toEqual([200, { claimed: true, reason: 'new payload', run: wf!.name }]);
    expect(await platform.read(`/payloads/${encodeURIComponent(id)}`)).toMatchObject({
      payloadId: id, workflow: WORKFLOW, collections: ['sentinel-2-l2a'], itemIds: ['S2B_WITH_ID'], state: 'QUEUED', input: wf!.params.input,
    });
  });

  it('the run of a payload without an id (the usual cirrus input) claims it under the derived cirrus id', async () => {
    const [wf] = submitted((await deliver(payload({ item: 'S2B_NO_ID' }))).firings);
    const run = new ArgoRun(structuredClone(manifests.find('WorkflowTemplate', WORKFLOW)), { ...newRun(WORKFLOW, {}), name: wf!.name, arguments: wf!.params }, platform.cluster);
    const claim = await run.claim();
    expect({ status: claim.status, body: JSON.parse(claim.body) }).toMatchObject({ status: 200, body: { claimed: true, run: wf!.name } });
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
