import { App, Chart, Duration, Size } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { argoEventsSchema, validateArgoDocument } from '../support/schema';
import { HAVE_REFERENCE } from '../support/reference';
import { lintObjects } from '../../tools/lint/index';
import { CallbackTarget, EventBus } from '../../constructs/events';
import { eventsFixture, findDoc, type Doc } from './fixture';

const EVENT_KINDS = ['EventBus', 'EventSource', 'Sensor'];

function triggersOf(docs: Doc[]): Doc[] {
  return docs.filter((d) => d.kind === 'Sensor').flatMap((s) => s.spec.triggers as Doc[]);
}

describe.skipIf(!HAVE_REFERENCE)('events manifests against the upstream schema and the cross-reference lint', () => {
  const { docs } = eventsFixture({
    callbacks: (events, wf) => {
      events.addCallback('stac-api', { workflow: wf.publish, when: ['successful'], target: CallbackTarget.http({ url: 'https://stac.example.org/hooks', auth: { secret: { name: 'stac-api', key: 'authorization' } } }) });
    },
  });
  const eventDocs = docs.filter((d) => EVENT_KINDS.includes(d.kind));

  it('emits an EventBus, three EventSources and three Sensors', () => {
    expect(eventDocs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'EventBus/default', 'EventSource/swoop-ingress', 'EventSource/swoop-ingress-sqs', 'EventSource/swoop-lifecycle',
      'Sensor/swoop-callbacks', 'Sensor/swoop-chains', 'Sensor/swoop-ingress',
    ]);
  });

  it('every EventBus, EventSource and Sensor validates with unknown fields rejected', () => {
    for (const doc of eventDocs) expect(argoEventsSchema().validate(doc), `${doc.kind}/${doc.metadata.name}`).toEqual([]);
  });

  it('the validator bites: atLeastOnce inside the trigger template (as old examples have it) is rejected', () => {
    const sensor = structuredClone(findDoc(docs, 'Sensor', 'swoop-ingress'));
    sensor.spec.triggers[0].template.atLeastOnce = true;
    expect(argoEventsSchema().validate(sensor).join()).toMatch(/atLeastOnce/);
  });

  it('passes the cross-reference lint together with the WorkflowTemplates (dependencies, conditions, submitted templates and parameters)', () => {
    expect(lintObjects(docs, { validate: validateArgoDocument })).toEqual([]);
  });

  it('the lint would catch a trigger submitting a parameter its WorkflowTemplate does not declare', () => {
    const broken = docs.map((d) => structuredClone(d));
    const sensor = findDoc(broken, 'Sensor', 'swoop-ingress');
    const payload = sensor.spec.triggers[0].template.http.payload as Doc[];
    payload.find((p) => p.dest === 'arguments.input')!.dest = 'arguments.payload';
    expect(lintObjects(broken).map((p) => p.rule)).toContain('trigger-workflow-template');
  });
});

describe('events manifests', () => {
  const { docs, files } = eventsFixture();

  it('every trigger is at-least-once with retries and a dead-letter trigger, on the trigger (v1.9), not its template', () => {
    const triggers = triggersOf(docs);
    expect(triggers.length).toBeGreaterThan(10);
    for (const t of triggers) {
      expect(t.atLeastOnce, t.template.name).toBe(true);
      // Submissions are HTTP to the state service too: a duplicate is a 200, not a failure to stop retrying early.
      expect(t.retryStrategy).toEqual({ steps: 5, duration: '2s', factor: 2, jitter: 0.2 });
      expect(t.dlqTrigger.template).toEqual({ name: `${t.template.name}-dead-letter`, log: {} });
      expect(t.template.atLeastOnce).toBeUndefined();
    }
  });

  it('every run is handed to the state service with a name from a template (never generateName, which starts a run per redelivery); no sensor creates objects', () => {
    expect(triggersOf(docs).filter((t) => t.template.k8s || t.template.argoWorkflow)).toEqual([]);
    const submits = triggersOf(docs).filter((t) => /\/submit$/.test(t.template.http?.url ?? ''));
    expect(submits.length).toBeGreaterThan(0);
    for (const t of submits) {
      const payload = t.template.http.payload as Doc[];
      expect(payload.filter((p) => p.dest === 'name').map((p) => Object.keys(p.src).sort())).toEqual([['dataTemplate', 'dependencyName']]);
      expect(payload.some((p) => p.dest === 'generateName')).toBe(false);
      expect(t.template.http.secureHeaders).toEqual([{ name: 'Authorization', valueFrom: { secretKeyRef: { name: 'swoop-state-tokens', key: 'writer-authorization' } } }]);
    }
  });

  it('HTTP triggers count only 2xx answers as delivered', () => {
    for (const t of triggersOf(docs).filter((x) => x.template.http)) expect(t.policy).toEqual({ status: { allow: [200, 201, 202, 204] } });
  });

  it('webhooks require a bearer token from a Secret', () => {
    for (const name of ['swoop-ingress', 'swoop-lifecycle']) {
      const [event] = Object.values(findDoc(docs, 'EventSource', name).spec.webhook) as Doc[];
      expect(event.authSecret.name).toMatch(/^swoop-(ingress|lifecycle)-token$/);
    }
  });

  it('the lifecycle webhook is where contracts.md lifecycle-url points', () => {
    const source = findDoc(docs, 'EventSource', 'swoop-lifecycle');
    // http://swoop-lifecycle-eventsource-svc.swoop.svc.cluster.local:12000/lifecycle
    expect(source.metadata.namespace).toBe('swoop');
    expect(source.spec.service.ports[0].port).toBe(12000);
    expect(source.spec.webhook['run-finished']).toMatchObject({ port: '12000', endpoint: '/lifecycle', method: 'POST' });
  });

  it('least privilege: neither sensors nor event sources get any API access (the state service creates Workflows)', () => {
    expect(docs.filter((d) => ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(d.kind))).toEqual([]);
    expect(findDoc(docs, 'ServiceAccount', 'swoop-events-sensor').automountServiceAccountToken).toBe(false);
    for (const s of docs.filter((d) => d.kind === 'Sensor')) expect(s.spec.template.serviceAccountName).toBe('swoop-events-sensor');
    for (const s of docs.filter((d) => d.kind === 'EventSource')) expect(s.spec.template.serviceAccountName).toBe('swoop-events-source');
    expect(findDoc(docs, 'ServiceAccount', 'swoop-events-source').automountServiceAccountToken).toBe(false);
  });

  it('event sources, sensors and the event bus run on the system pool, so task pools can scale to zero', () => {
    const system = { nodeSelector: { 'swoop.dev/compute-class': 'system' }, tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] };
    const pods = docs.filter((d) => d.kind === 'Sensor' || d.kind === 'EventSource').map((d) => d.spec.template);
    expect(pods.length).toBeGreaterThanOrEqual(5);
    for (const pod of pods) expect(pod).toMatchObject(system);
    expect(findDoc(docs, 'EventBus', 'default').spec.jetstream).toMatchObject(system);
  });

  it('synthesis is deterministic', () => {
    expect(eventsFixture().files.get('events.yaml')).toBe(files.get('events.yaml'));
  });
});

describe('events options', () => {
  it('delivery, state service and event source identity are configurable', () => {
    const { docs } = eventsFixture({
      props: {
        delivery: { attempts: 8, backoff: Duration.seconds(5), factor: 3, jitter: 0 },
        stateService: { url: 'http://state.internal:9000/', authorization: { name: 'my-tokens', key: 'auth' } },
        eventSourceAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/swoop-queue-reader' },
      },
    });
    for (const t of triggersOf(docs)) expect(t.retryStrategy).toEqual({ steps: 8, duration: '5s', factor: 3, jitter: 0 });
    const record = triggersOf(docs).find((t) => t.template.name === 'record-invalid-from-webhook')!;
    expect(record.template.http.url).toBe('http://state.internal:9000/events');
    expect(record.template.http.secureHeaders).toEqual([{ name: 'Authorization', valueFrom: { secretKeyRef: { name: 'my-tokens', key: 'auth' } } }]);
    expect(findDoc(docs, 'ServiceAccount', 'swoop-events-source').metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/swoop-queue-reader' });
  });

  it('without a queue there is no SQS source and no SQS routing', () => {
    const { docs } = eventsFixture({ props: { queue: undefined } });
    expect(docs.filter((d) => d.kind === 'EventSource').map((d) => d.metadata.name).sort()).toEqual(['swoop-ingress', 'swoop-lifecycle']);
    expect(findDoc(docs, 'Sensor', 'swoop-ingress').spec.dependencies.every((d: Doc) => d.eventSourceName === 'swoop-ingress')).toBe(true);
  });
});

describe('EventBus', () => {
  const bus = (props: ConstructorParameters<typeof EventBus>[2]) => {
    const app = new App();
    const chart = new Chart(app, 'c');
    new EventBus(chart, 'bus', props);
    return chart.toJson()[0] as Doc;
  };

  it('defaults to a 3-server JetStream with persistent volumes', () => {
    expect(bus({}).spec.jetstream).toEqual({
      version: '2.10.10', replicas: 3, maxPayload: '1048576', persistence: { accessMode: 'ReadWriteOnce', volumeSize: '10Gi' },
      nodeSelector: { 'swoop.dev/compute-class': 'system' },
      tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
    });
  });

  it('takes replicas, volume size and class, or no persistence', () => {
    expect(bus({ replicas: 5, persistence: { size: Size.gibibytes(50), storageClassName: 'gp3' } }).spec.jetstream).toMatchObject({ replicas: 5, persistence: { volumeSize: '50Gi', storageClassName: 'gp3' } });
    expect(bus({ persistence: false }).spec.jetstream.persistence).toBeUndefined();
  });

  it('refuses 2 replicas, naming the construct path', () => {
    expect(() => bus({ replicas: 2 })).toThrow(/^c\/bus: replicas is 2/);
  });
});
