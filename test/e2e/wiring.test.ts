import { beforeAll, describe, expect, it } from 'vitest';
import { resolveParameters, type ClusterObjects, type Doc } from './support/argo';
import { infraObjects } from './support/infra';
import { stateServiceEnvSources, synthesizeManifests, webhookOf } from './support/platform';

/**
 * The names two parts must agree on without any request flowing: where the state service
 * reads its tokens and forwards to, against what the workflows send and the EventSources
 * expect. A mismatch here means every request of the flow tests fails for one reason.
 */
const manifests = synthesizeManifests();
const env = Object.fromEntries(stateServiceEnvSources().map((e) => [e.name, e.valueFrom ?? e.value]));
const workflowTemplates = manifests.docs.filter((d) => d.kind === 'WorkflowTemplate' && d.spec.onExit);

function authorizationRefs(): { template: string; ref: Doc }[] {
  return workflowTemplates.flatMap((wt) => (wt.spec.templates as Doc[]).filter((t) => t.http).flatMap((t) =>
    (t.http.headers as Doc[]).filter((h) => h.name === 'Authorization').map((h) => ({ template: `${wt.metadata.name}/${t.name}`, ref: h.valueFrom?.secretKeyRef }))));
}

describe('wiring between the state service, the workflows and the events layer', () => {
  it('the state service checks the bare writer and reader tokens (keys writer and reader of swoop-state-tokens)', () => {
    expect({ writer: env.STATE_WRITE_TOKEN, reader: env.STATE_READ_TOKEN }).toEqual({
      writer: { secretKeyRef: { name: 'swoop-state-tokens', key: 'writer' } },
      reader: { secretKeyRef: { name: 'swoop-state-tokens', key: 'reader' } },
    });
  });

  it('every lifecycle HTTP template sends the whole "Bearer <writer>" header value (key writer-authorization)', () => {
    const refs = authorizationRefs();
    expect(refs.length).toBeGreaterThanOrEqual(workflowTemplates.length * 2); // running and completed (the claim is the state service's own)
    for (const { template, ref } of refs) expect({ template, ref }).toEqual({ template, ref: { name: 'swoop-state-tokens', key: 'writer-authorization' } });
  });

  it('the state service forwards to the lifecycle EventSource: contract URL, port, endpoint and token', async () => {
    const { LIFECYCLE_URL } = await import('../../infra/platform');
    const es = manifests.find('EventSource', 'swoop-lifecycle');
    const hook = webhookOf(es);
    const url = new URL(LIFECYCLE_URL);
    expect({ host: url.hostname, port: Number(url.port), path: url.pathname }).toEqual({
      host: `${es.metadata.name}-eventsource-svc.${es.metadata.namespace}.svc.cluster.local`,
      port: hook.port,
      path: hook.endpoint,
    });
    expect(es.spec.service.ports.map((p: Doc) => p.port)).toContain(hook.port);
    expect(env.LIFECYCLE_URL).toEqual({ configMapKeyRef: { name: 'swoop-platform', key: 'lifecycle-url' } });
    expect(env.LIFECYCLE_TOKEN).toEqual({ secretKeyRef: hook.authSecret });
  });

  it('every workflow reads payload-store and state-url from the swoop-platform ConfigMap', () => {
    for (const wt of workflowTemplates) {
      const refs = Object.fromEntries((wt.spec.arguments.parameters as Doc[]).filter((p) => p.valueFrom).map((p) => [p.name, p.valueFrom.configMapKeyRef]));
      expect(refs).toEqual({ 'payload-store': { name: 'swoop-platform', key: 'payload-store' }, 'state-url': { name: 'swoop-platform', key: 'state-url' } });
    }
  });

  describe('against the ConfigMap and Secrets infra creates (Pulumi program under mocks)', () => {
    let infra: ClusterObjects;
    beforeAll(async () => {
      infra = await infraObjects();
    });
    const secretValue = (ref: Doc) => infra.secrets[String(ref.name)]?.[String(ref.key)];

    it('Argo can resolve every workflow parameter from the swoop-platform ConfigMap', () => {
      for (const wt of workflowTemplates) {
        expect(() => resolveParameters(wt, { input: 's3://swoop-e2e/payloads/in.json' }, infra), wt.metadata.name).not.toThrow();
      }
    });

    it('the header the lifecycle templates send is "Bearer " + the token the state service checks', () => {
      const writer = secretValue(env.STATE_WRITE_TOKEN.secretKeyRef);
      expect(writer).toEqual(expect.any(String));
      for (const { template, ref } of authorizationRefs()) expect({ template, header: secretValue(ref) }).toEqual({ template, header: `Bearer ${writer}` });
    });

    it('the state service, the lifecycle webhook and the payload webhook find their Secrets', () => {
      for (const e of stateServiceEnvSources().filter((x) => x.valueFrom?.secretKeyRef && x.name !== 'DATABASE_URL')) {
        expect({ env: e.name, value: secretValue(e.valueFrom.secretKeyRef) }).toEqual({ env: e.name, value: expect.any(String) });
      }
      for (const name of ['swoop-lifecycle', 'swoop-ingress']) {
        const hook = webhookOf(manifests.find('EventSource', name));
        expect({ name, token: secretValue(hook.authSecret) }).toEqual({ name, token: expect.any(String) });
      }
      expect(secretValue(webhookOf(manifests.find('EventSource', 'swoop-lifecycle')).authSecret)).toBe(secretValue(env.LIFECYCLE_TOKEN.secretKeyRef));
    });
  });
});
