import { describe, expect, it } from 'vitest';
import { Simulator, snsEnvelope, sqsEvent, webhookEvent, type Firing } from '../../tools/simulator';
import { submissions } from '../support/submissions';
import { eventsFixture, type Doc } from './fixture';

const payload = (process: unknown, extra: Record<string, unknown> = {}) => ({
  type: 'FeatureCollection',
  features: [{ type: 'Feature', id: 'S2B_17HQD_20201103_0_L2A', collection: 'sentinel-2-l2a', properties: { datetime: '2020-11-03T15:22:26Z' }, assets: {}, links: [] }],
  process,
  ...extra,
});

const ingestProcess = [
  { workflow: 'ingest', upload_options: { path_template: '/${collection}/${id}', collections: { 'sentinel-2-l2a-cogs': '.*' } }, replace: false },
  { workflow: 'publish', chain_filter: "@.properties.'eo:cloud_cover' < 50" },
];

function webhook(body: unknown) {
  return webhookEvent('swoop-ingress', 'payload', body, { Authorization: 'Bearer t' });
}

function finished(workflow: string, state: string, run: string, uid: string, extra: Record<string, unknown> = {}) {
  return webhookEvent('swoop-lifecycle', 'run-finished', {
    event: 'run.finished', state, workflow, run, uid, payloadId: '', parentRun: '', startedAt: '2026-01-01T10:00:00Z', finishedAt: '2026-01-01T10:05:00Z',
    error: state === 'SUCCESSFUL' ? '' : 'step convert failed', input: JSON.stringify(payload(ingestProcess)), output: state === 'SUCCESSFUL' ? `s3://payloads/${run}/output.json` : '', ...extra,
  });
}

/** The runs the triggers hand to the state service (POST /submit), as it reads them. */
function created(firings: Firing[]): { template: string; name: string; params: Record<string, string>; claim: boolean }[] {
  return submissions(firings).map(({ template, name, params, claim }) => ({ template, name, params, claim }));
}

function invalidRecords(firings: Firing[]): Doc[] {
  return firings.filter((f) => f.action.type === 'http' && (f.action as { url: string }).url.endsWith('/events')).map((f) => (f.action as { body: Doc }).body);
}

describe('ingress routing (simulated on the synthesized sensors)', () => {
  const { docs } = eventsFixture();

  it('starts the workflow the first process element names, with the payload as input and nothing else', () => {
    const sim = new Simulator(docs);
    const { firings } = sim.deliver(webhook(payload(ingestProcess)));
    const runs = created(firings);
    expect(runs.map((r) => r.template)).toEqual(['ingest']);
    expect(runs[0].name).toMatch(/^ingest-[0-9a-f]{16}$/);
    expect(JSON.parse(runs[0].params.input)).toEqual(payload(ingestProcess));
    expect(runs[0].params).toMatchObject({ 'payload-id': '', replace: 'false' });
    expect(invalidRecords(firings)).toEqual([]);
  });

  it('accepts the older single-object process form and passes replace and the payload id on', () => {
    const sim = new Simulator(docs);
    const [run] = created(sim.deliver(webhook(payload({ workflow: 'cog', replace: true }, { id: 'sentinel-2-l2a/workflow-cog/S2B_17HQD' }))).firings);
    expect(run).toMatchObject({ template: 'cog', params: { replace: 'true', 'payload-id': 'sentinel-2-l2a/workflow-cog/S2B_17HQD' } });
  });

  it('unwraps SNS-wrapped SQS messages: the SNS Message is the payload', () => {
    const sim = new Simulator(docs);
    const body = payload([{ workflow: 'thumbs' }], { id: 'pid-1' });
    const [run] = created(sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', snsEnvelope(body, 'sns-1'), 'sqs-1')).firings);
    expect(run.template).toBe('thumbs');
    expect(JSON.parse(run.params.input)).toEqual(body);
    expect(run.params['payload-id']).toBe('pid-1');
  });

  it('routes payloads passed by reference, keeping {"url", "process"} as the input', () => {
    const sim = new Simulator(docs);
    const ref = { url: 's3://swoop-payloads/big/0001.json', process: [{ workflow: 'cog' }, { workflow: 'publish' }] };
    const [run] = created(sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', ref, 'm-1')).firings);
    expect(run.template).toBe('cog');
    expect(JSON.parse(run.params.input)).toEqual(ref);
  });

  it('starts every member of a parallel first element', () => {
    const sim = new Simulator(docs);
    const runs = created(sim.deliver(webhook(payload([[{ workflow: 'cog' }, { workflow: 'thumbs' }], { workflow: 'publish' }]))).firings);
    expect(runs.map((r) => r.template).sort()).toEqual(['cog', 'thumbs']);
  });

  const invalid: [string, unknown][] = [
    ['an unknown workflow', payload([{ workflow: 'no-such-workflow' }])],
    ['an unknown workflow in the single-object form', payload({ workflow: 'nope' })],
    ['a parallel group with one unknown member', payload([[{ workflow: 'cog' }, { workflow: 'nope' }]])],
    ['no process block', { type: 'FeatureCollection', features: [] }],
    ['a process element without workflow', payload([{ tasks: {} }])],
    ['a workflow name that is not a string', payload([{ workflow: 42 }])],
    ['a reference with a non-S3/HTTPS url', { url: 'ftp://host/payload.json', process: [{ workflow: 'cog' }] }],
    ['a bare https:// reference (only s3:// references may omit process)', { url: 'https://example.org/payloads/0001.json' }],
    ['a bare s3:// reference without a key', { url: 's3://swoop-payloads' }],
    ['a reference whose process is present but names no workflow', { url: 's3://swoop-payloads/big/0001.json', process: [] }],
    ['a reference whose process is null', { url: 's3://swoop-payloads/big/0001.json', process: null }],
    ['a process that is itself an s3:// string', { process: 's3://swoop-payloads/big/0001.json' }],
    ['a JSON body that is not an object', 'hello'],
  ];
  for (const [what, body] of invalid) {
    it(`records ${what} as INVALID with the state service, starting nothing`, () => {
      const sim = new Simulator(docs);
      const { firings } = sim.deliver(webhook(body));
      expect(created(firings)).toEqual([]);
      const [record] = invalidRecords(firings);
      expect(record).toMatchObject({ type: 'invalid', source: 'swoop-ingress' });
      const http = firings[0].action as { secureHeaders: Record<string, string>; url: string };
      expect(http.url).toBe('http://swoop-state.swoop.svc.cluster.local:8080/events');
      expect(http.secureHeaders).toEqual({ Authorization: 'secret swoop-state-tokens/writer-authorization' });
    });
  }

  it('every payload takes exactly one of the routes {workflows, dispatch, INVALID}, on every source', () => {
    const bodies: unknown[] = [
      payload(ingestProcess), payload({ workflow: 'cog' }), payload([[{ workflow: 'cog' }, { workflow: 'thumbs' }]]),
      { url: 's3://b/k.json', process: [{ workflow: 'cog' }] }, { url: 's3://b/k.json' }, { url: 's3://b/dir/k.json', id: 'x' },
      ...invalid.map(([, body]) => body),
    ];
    const routeOf = (trigger: string) => (trigger.startsWith('start-') ? 'workflows' : trigger.startsWith('dispatch-') ? 'dispatch' : trigger.startsWith('record-invalid-') ? 'invalid' : trigger);
    for (const body of bodies) {
      const deliveries = [webhook(body), sqsEvent('swoop-ingress-sqs', 'payload', body, 'm'), sqsEvent('swoop-ingress-sqs', 'payload', snsEnvelope(body, 's'), 'm')];
      for (const event of deliveries) {
        const routes = new Set(new Simulator(docs).deliver(event).firings.map((f) => routeOf(f.trigger)));
        expect([...routes], JSON.stringify(event.data)).toHaveLength(1);
      }
    }
  });

  it('records an SNS message that is not JSON as INVALID', () => {
    const sim = new Simulator(docs);
    const { firings } = sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', snsEnvelope('not json {', 'sns-9'), 'sqs-9'));
    expect(created(firings)).toEqual([]);
    expect(invalidRecords(firings)[0]).toMatchObject({ type: 'invalid', source: 'swoop-ingress-sqs', input: 'not json {' });
  });
});

describe('payloads passed by bare reference go to the dispatch template, and only there', () => {
  const { docs } = eventsFixture();
  const ref = { url: 's3://swoop-payloads/big/0001.json' };
  const dispatchParams = (input: string, source: string) => ({ url: ref.url, input, source });

  it('webhook: submits swoop-dispatch with the url and the payload as delivered; no workflow, no INVALID record', () => {
    const sim = new Simulator(docs);
    const { firings } = sim.deliver(webhook(ref));
    expect(firings.map((f) => f.trigger)).toEqual(['dispatch-from-webhook']);
    const [run] = created(firings);
    expect(run).toEqual({ template: 'swoop-dispatch', name: expect.stringMatching(/^swoop-dispatch-[0-9a-f]{16}$/), params: dispatchParams(JSON.stringify(ref), 'swoop-ingress'), claim: false });
  });

  it('SQS, raw and SNS-wrapped: the same dispatch, named from the message identity', () => {
    const sim = new Simulator(docs);
    const raw = sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', ref, 'm-1')).firings;
    expect(raw.map((f) => f.trigger)).toEqual(['dispatch-from-sqs']);
    expect(created(raw)[0].params).toEqual(dispatchParams(JSON.stringify(ref), 'swoop-ingress-sqs'));
    const sns = sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', snsEnvelope(ref, 'sns-1'), 'm-2')).firings;
    expect(sns.map((f) => f.trigger)).toEqual(['dispatch-from-sqs']);
    expect(created(sns)[0].params).toEqual(dispatchParams(JSON.stringify(ref), 'swoop-ingress-sqs'));
    expect(created(sns)[0].name).not.toBe(created(raw)[0].name);
  });

  it('a duplicate delivery computes the same dispatch name, which the state service creates once (AlreadyExists: 200, nothing new)', () => {
    const sim = new Simulator(docs);
    const a = created(sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', snsEnvelope(ref, 'sns-2'), 'm-3')).firings)[0];
    const b = created(sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', snsEnvelope(ref, 'sns-2'), 'm-4')).firings)[0];
    const c = created(sim.deliver(webhook(ref)).firings)[0];
    const d = created(sim.deliver(webhook(ref)).firings)[0];
    expect(b.name).toBe(a.name);
    expect(d.name).toBe(c.name);
    expect(c.name).not.toBe(a.name);
    // The sensors create nothing themselves: only the state service does (test/state/submit.test.ts).
    expect(sim.createdObjects).toHaveLength(0);
  });

  it('what the dispatch posts back ({url, process}) routes directly to the workflow, never to dispatch again', () => {
    const sim = new Simulator(docs);
    const { firings } = sim.deliver(webhook({ ...ref, process: [{ workflow: 'cog' }, { workflow: 'publish' }] }));
    expect(firings.map((f) => f.trigger)).toEqual(['start-cog-from-webhook']);
  });

  it('the Idempotency-Key header the dispatch sends makes each dispatch run its own delivery; without it the content decides', () => {
    const sim = new Simulator(docs);
    const body = { ...ref, process: [{ workflow: 'cog' }] };
    const keyed = (key: string) => created(sim.deliver(webhookEvent('swoop-ingress', 'payload', body, { Authorization: 'Bearer t', 'Idempotency-Key': key })).firings)[0];
    const first = keyed('swoop-dispatch-aaaa');
    expect(keyed('swoop-dispatch-aaaa').name).toBe(first.name);
    expect(keyed('swoop-dispatch-bbbb').name).not.toBe(first.name);
    expect(created(sim.deliver(webhook(body)).firings)[0].name).not.toBe(first.name);
  });
});

describe('duplicate deliveries start nothing new', () => {
  const { docs } = eventsFixture();

  it('the same webhook payload twice: the same run name, so the state service answers the second with 200 and creates nothing (no dead letter)', () => {
    const sim = new Simulator(docs);
    const first = sim.deliver(webhook(payload(ingestProcess))).firings;
    const second = sim.deliver(webhook(payload(ingestProcess))).firings;
    expect(created(second)[0].name).toBe(created(first)[0].name);
    expect(second[0].deadLetterTrigger).toBeUndefined();
    expect(sim.createdObjects).toHaveLength(0);
  });

  it('SQS: a redelivered message (same id) is a duplicate; so is one SNS notification delivered as two SQS messages', () => {
    const sim = new Simulator(docs);
    const body = payload(ingestProcess);
    const a = created(sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', body, 'm-1')).firings)[0];
    const b = created(sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', body, 'm-1')).firings)[0];
    expect(b.name).toBe(a.name);
    const c = created(sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', snsEnvelope(body, 'sns-7'), 'm-2')).firings)[0];
    const d = created(sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', snsEnvelope(body, 'sns-7'), 'm-3')).firings)[0];
    expect(d.name).toBe(c.name);
  });

  it('a new message with the same payload is a new delivery: the state service claims first and applies cirrus rules', () => {
    const sim = new Simulator(docs);
    const body = payload(ingestProcess);
    const a = created(sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', body, 'm-1')).firings)[0];
    const b = created(sim.deliver(sqsEvent('swoop-ingress-sqs', 'payload', body, 'm-2')).firings)[0];
    expect(b.name).not.toBe(a.name);
    expect([a.claim, b.claim]).toEqual([true, true]);
  });
});

describe('chains', () => {
  const { docs } = eventsFixture();

  it('a three-link static chain ingest -> cog -> publish, with the parallel branch ingest -> thumbs and the item filter', () => {
    const sim = new Simulator(docs);
    const ingestRun = created(sim.deliver(webhook(payload(ingestProcess))).firings)[0];
    // The state service sends `next` = the rest of the payload's process array, so its own link (publish) starts too.
    const afterIngest = created(sim.deliver(finished('ingest', 'SUCCESSFUL', ingestRun.name, 'uid-ingest', { next: ingestProcess.slice(1) })).firings);
    expect(afterIngest.map((r) => r.template).sort()).toEqual(['cog', 'publish', 'thumbs']);
    const cog = afterIngest.find((r) => r.template === 'cog')!;
    expect(cog.params).toEqual({ input: `s3://payloads/${ingestRun.name}/output.json`, 'parent-run': ingestRun.name });
    const afterCog = created(sim.deliver(finished('cog', 'SUCCESSFUL', cog.name, 'uid-cog', { next: [] })).firings);
    expect(afterCog.map((r) => r.template)).toEqual(['publish']);
    expect(JSON.parse(afterCog[0].params.input)).toEqual({ url: `s3://payloads/${cog.name}/output.json`, chain_filter: "@.properties.'eo:cloud_cover' < 50" });
    expect(afterCog[0].params['parent-run']).toBe(cog.name);
    expect(created(sim.deliver(finished('publish', 'SUCCESSFUL', afterCog[0].name, 'uid-publish')).firings)).toEqual([]);
  });

  it('starts nothing when the upstream run did not succeed', () => {
    const sim = new Simulator(docs);
    for (const state of ['FAILED', 'CANCELED', 'TIMED_OUT']) {
      expect(created(sim.deliver(finished('ingest', state, 'ingest-x', `uid-${state}`, { next: [{ workflow: 'publish' }] })).firings)).toEqual([]);
    }
  });

  it('a payload-driven chain publish -> notify -> thumbs follows `next`, passing the rest of the process array', () => {
    const sim = new Simulator(docs);
    const process = [{ workflow: 'publish' }, { workflow: 'notify', tasks: { n: { a: 1 } } }, { workflow: 'thumbs' }];
    const first = created(sim.deliver(webhook(payload(process))).firings);
    expect(first.map((r) => r.template)).toEqual(['publish']);
    const second = created(sim.deliver(finished('publish', 'SUCCESSFUL', first[0].name, 'uid-1', { next: process.slice(1) })).firings);
    expect(second.map((r) => r.template)).toEqual(['notify']);
    expect(JSON.parse(second[0].params.input)).toEqual({ url: `s3://payloads/${first[0].name}/output.json`, process: process.slice(1) });
    const third = created(sim.deliver(finished('notify', 'SUCCESSFUL', second[0].name, 'uid-2', { next: process.slice(2) })).firings);
    expect(third.map((r) => r.template)).toEqual(['thumbs']);
    expect(created(sim.deliver(finished('thumbs', 'SUCCESSFUL', third[0].name, 'uid-3', { next: [] })).firings)).toEqual([]);
  });

  it('a nested array in `next` runs its links in parallel', () => {
    const sim = new Simulator(docs);
    const next = [[{ workflow: 'notify' }, { workflow: 'thumbs' }], { workflow: 'publish' }];
    const runs = created(sim.deliver(finished('publish', 'SUCCESSFUL', 'publish-1', 'uid-p', { next })).firings);
    expect(runs.map((r) => r.template).sort()).toEqual(['notify', 'thumbs']);
    for (const r of runs) expect(JSON.parse(r.params.input).process).toEqual(next);
  });

  it('a finished event delivered twice starts each link once', () => {
    const sim = new Simulator(docs);
    const event = finished('ingest', 'SUCCESSFUL', 'ingest-1', 'uid-dup', { next: [{ workflow: 'publish' }] });
    const first = created(sim.deliver(event).firings);
    const again = created(sim.deliver({ ...event }).firings);
    expect(first.length).toBeGreaterThan(0);
    expect(again.map((r) => r.name)).toEqual(first.map((r) => r.name));
    // A different upstream run of the same workflow is a different link instance.
    const other = created(sim.deliver(finished('ingest', 'SUCCESSFUL', 'ingest-2', 'uid-other')).firings);
    expect(other.map((r) => r.name).filter((n) => first.some((f) => f.name === n))).toEqual([]);
  });

  it('a finished event without a uid fails its link triggers into the dead-letter log instead of sharing one run name', () => {
    const sim = new Simulator(docs);
    const event = finished('ingest', 'SUCCESSFUL', 'ingest-1', '');
    const firings = sim.deliver(event).firings;
    expect(firings.length).toBeGreaterThan(0);
    for (const f of firings) {
      expect(f.action).toMatchObject({ type: 'failed' });
      expect((f.action as { error: string }).error).toMatch(/run.finished event has no uid/);
      expect(f.deadLetterTrigger).toBe(`${f.trigger}-dead-letter`);
    }
    expect(sim.createdObjects).toEqual([]);
  });

  it('records a `next` naming an unknown workflow as INVALID', () => {
    const sim = new Simulator(docs);
    const { firings } = sim.deliver(finished('publish', 'SUCCESSFUL', 'publish-1', 'uid-u', { next: [{ workflow: 'no-such-workflow' }] }));
    expect(created(firings)).toEqual([]);
    expect(invalidRecords(firings)[0]).toMatchObject({ type: 'invalid', source: 'swoop-lifecycle' });
  });
});
