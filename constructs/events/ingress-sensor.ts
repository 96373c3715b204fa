import { Construct } from 'constructs';
import type { Workflow, WorkflowParameters } from '../workflow';
import type { DeliveryPolicy } from './delivery';
import { PAYLOAD_EVENT } from './names';
import {
  INGRESS_INPUT_KEY, INGRESS_PAYLOAD_ID_KEY, INGRESS_REPLACE_KEY, INGRESS_ROUTE_KEY, namesWorkflow, runNameTemplate, validIngressKey,
} from './routing';
import { EventsSensor } from './sensor';
import { HTTP_SUCCESS_POLICY, recordInvalidAction, type StateServiceTarget } from './state-service';
import { submitAction } from './submit';

/** One way payloads arrive: an EventSource and how a delivery is identified. */
export interface IngressSource {
  /** Short name used in dependency and trigger names, e.g. 'webhook'. */
  readonly id: string;
  readonly eventSourceName: string;
  /**
   * Go template pipeline identifying one delivery: redeliveries of it give the same run name
   * (AlreadyExists), a new delivery of the same payload gets a new run whose claim step
   * applies the cirrus rules (skip when active or succeeded unless `replace`).
   */
  readonly deliveryIdentity: string;
}

/** SQS: the SNS message id when SNS wrapped the payload, else the SQS message id (both stay the same on redelivery). */
export const SQS_DELIVERY_IDENTITY = '.Input.body.MessageId | default .Input.messageId';
/** Webhook: HTTP has no delivery id, so the payload content (Go's canonical JSON, keys sorted) identifies it. */
export const WEBHOOK_DELIVERY_IDENTITY = 'toJson .Input.body';

export interface IngressSensorProps {
  readonly namespace: string;
  readonly eventBusName: string;
  readonly serviceAccountName: string;
  readonly workflows: readonly Workflow<WorkflowParameters>[];
  readonly sources: readonly IngressSource[];
  readonly state: StateServiceTarget;
  readonly delivery?: DeliveryPolicy;
}

/**
 * Routes payloads to workflows: a payload whose first `process` element names workflow W
 * (or a parallel group containing W) starts W; one naming an unknown workflow, or without a
 * usable `process`, or with a `url` that is not s3:// or https://, is recorded as INVALID
 * with the state service. Works for inline payloads, `{"url": ..., "process": ...}`
 * references and SNS-wrapped SQS messages alike (see routing.ts).
 */
export class IngressSensor extends Construct {
  public readonly sensor: EventsSensor;

  constructor(scope: Construct, id: string, props: IngressSensorProps) {
    super(scope, id);
    const by = this.node.path;
    this.sensor = new EventsSensor(this, 'Sensor', {
      name: 'swoop-ingress',
      namespace: props.namespace,
      eventBusName: props.eventBusName,
      serviceAccountName: props.serviceAccountName,
      component: 'ingress',
    });
    const known = props.workflows.map((w) => w.templateName);
    for (const source of props.sources) {
      for (const workflow of props.workflows) {
        const dep = `${workflow.templateName}-from-${source.id}`;
        this.sensor.addDependency({
          name: dep,
          eventSourceName: source.eventSourceName,
          eventName: PAYLOAD_EVENT,
          data: [
            { path: INGRESS_ROUTE_KEY, type: 'string', value: [namesWorkflow(workflow.templateName)] },
            { path: INGRESS_ROUTE_KEY, type: 'string', value: [validIngressKey(known)] },
          ],
        }, by);
        this.sensor.addTrigger({
          name: `start-${workflow.templateName}-from-${source.id}`,
          dependency: dep,
          delivery: props.delivery,
          action: submitAction(workflow, dep, {
            nameTemplate: runNameTemplate(workflow.templateName, `${source.deliveryIdentity} | print ${JSON.stringify(`/${workflow.templateName}`)}`),
            arguments: {
              input: { dataKey: INGRESS_INPUT_KEY },
              'payload-id': { dataKey: INGRESS_PAYLOAD_ID_KEY, value: '' },
              replace: { dataKey: INGRESS_REPLACE_KEY, value: 'false' },
            },
            labels: { 'swoop.dev/started-by': 'ingress' },
          }, by),
        }, by);
      }
      const invalid = `invalid-from-${source.id}`;
      this.sensor.addDependency({
        name: invalid,
        eventSourceName: source.eventSourceName,
        eventName: PAYLOAD_EVENT,
        data: [{ path: INGRESS_ROUTE_KEY, type: 'string', value: [validIngressKey(known)], comparator: '!=' }],
      }, by);
      this.sensor.addTrigger({
        name: `record-invalid-from-${source.id}`,
        dependency: invalid,
        delivery: props.delivery,
        extra: HTTP_SUCCESS_POLICY,
        action: recordInvalidAction(props.state, invalid, {
          source: source.eventSourceName,
          message: `the payload's process block names no workflow this platform runs (known: ${[...known].sort().join(', ')}), or is missing or malformed, or its url is not s3:// or https://`,
          input: { dataKey: INGRESS_INPUT_KEY, value: '' },
          detail: { dataKey: INGRESS_ROUTE_KEY, value: '' },
        }),
      }, by);
    }
  }
}
