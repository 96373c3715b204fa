import { describe, expect, it } from 'vitest';
import { predictionOf } from '../../cli/payloads';
import { derivePayloadId } from '../../state/payload-id';
import type { Delivery, Firing, SimulatedEvent } from '../../tools/simulator';

const event = {} as SimulatedEvent;
const delivery = (...actions: Firing['action'][]): Delivery => ({
  event, dependencies: [], firings: actions.map((action) => ({ sensor: 'swoop-ingress', trigger: 't', events: {}, atLeastOnce: true, action })),
});
const http = (body: unknown): Firing['action'] => ({ type: 'http', method: 'POST', url: 'http://state/submit', headers: {}, secureHeaders: {}, body });

describe('reading what a delivery starts', () => {
  it('a Workflow the trigger creates, its payload id derived as the claim derives it when the payload carries none', () => {
    const input = JSON.stringify({ features: [{ id: 'i1', collection: 'c' }], process: [{ workflow: 'w' }] });
    const resource = { kind: 'Workflow', metadata: { name: 'w-0123456789abcdef' }, spec: { workflowTemplateRef: { name: 'w' }, arguments: { parameters: [{ name: 'input', value: input }, { name: 'payload-id', value: '' }] } } };
    expect(predictionOf(delivery({ type: 'k8s', operation: 'create', resource, object: 'Workflow/swoop/w-0123456789abcdef', outcome: 'created' }), 'x')).toEqual({
      runs: [{ workflow: 'w', run: 'w-0123456789abcdef', payloadId: 'c/workflow-w/i1' }],
    });
    expect(derivePayloadId(input, 'w')).toBe('c/workflow-w/i1');
  });

  it('a submission handed to the state service ({workflow, name, arguments}), and a dispatch of a bare reference', () => {
    expect(predictionOf(delivery(http({ workflow: 'w', namespace: 'swoop', claim: 'true', name: 'w-00ff', arguments: { input: '{}', 'payload-id': 'own-id', replace: 'false' } })), 'x'))
      .toEqual({ runs: [{ workflow: 'w', run: 'w-00ff', payloadId: 'own-id' }] });
    expect(predictionOf(delivery(http({ workflow: 'swoop-dispatch', namespace: 'swoop', claim: 'false', name: 'swoop-dispatch-00ff', arguments: { url: 's3://b/k', input: '{}', source: 'swoop-ingress' } })), 'x'))
      .toEqual({ runs: [], dispatch: { run: 'swoop-dispatch-00ff' } });
  });

  it('an INVALID report, a trigger that fails, or nothing firing is an error naming the payload', () => {
    expect(() => predictionOf(delivery(http({ type: 'invalid', message: 'names no workflow' })), 'p.json')).toThrow('p.json: would be recorded INVALID: names no workflow');
    expect(() => predictionOf(delivery({ type: 'failed', error: 'no uid' }), 'p.json')).toThrow('p.json: the ingress sensor cannot start it (no uid); fix the payload');
    expect(() => predictionOf(delivery(), 'p.json')).toThrow("p.json: no ingress trigger of the deployment's sensors fires for it");
  });
});
