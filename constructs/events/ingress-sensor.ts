import { Construct } from 'constructs';
import type { Workflow, WorkflowParameters } from '../workflow';
import type { DeliveryPolicy } from './delivery';
import { PAYLOAD_EVENT } from './names';
import {
  BARE_S3_REFERENCE, INGRESS_INPUT_KEY, INGRESS_PAYLOAD_ID_KEY, INGRESS_REFERENCE_KEY, INGRESS_REPLACE_KEY, INGRESS_ROUTE_KEY, INGRESS_URL_KEY,
  namesWorkflow, runNameTemplate, validIngressKey,
} from './routing';
import { EventsSensor } from './sensor';
import { HTTP_SUCCESS_POLICY, recordInvalidAction, type StateServiceTarget } from './state-service';
import { submitAction, type SubmitTarget } from './submit';
import { projectionsFrozen } from './projection';

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
/**
 * Webhook: the payload content (Go's canonical JSON, keys sorted), prefixed with the request's
 * `Idempotency-Key` header when the caller sends one. Without the header the same content is
 * always the same delivery; with it, each key is one delivery (the dispatch template sends its
 * run name, so a re-sent bare reference is a new delivery, as it would be on SQS).
 */
export const WEBHOOK_DELIVERY_IDENTITY = 'toJson .Input.body | print (index .Input.header "Idempotency-Key" | default (list) | join ",")';

export interface IngressSensorProps {
  readonly namespace: string;
  readonly eventBusName: string;
  readonly serviceAccountName: string;
  readonly workflows: readonly Workflow<WorkflowParameters>[];
  readonly sources: readonly IngressSource[];
  readonly state: StateServiceTarget;
  /** The WorkflowTemplate that reads bare `{"url": "s3://..."}` references and posts them back with their `process`. */
  readonly dispatch: SubmitTarget;
  readonly delivery?: DeliveryPolicy;
}

/**
 * Routes payloads to workflows: a payload whose first `process` element names workflow W
 * (or a parallel group containing W) starts W; a bare `{"url": "s3://bucket/key"}` reference
 * starts the dispatch template, which reads the object and posts it back with its `process`;
 * anything else (an unknown workflow, no usable `process`, a `url` that is not s3:// or
 * https://, a bare https:// reference) is recorded as INVALID with the state service. Each
 * event matches exactly one of these. Works for inline payloads, `{"url": ..., "process": ...}`
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
    projectionsFrozen(this, props.workflows);
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
          ...submitAction(workflow, dep, {
            nameTemplate: runNameTemplate(workflow.templateName, `${source.deliveryIdentity} | print ${JSON.stringify(`/${workflow.templateName}`)}`),
            arguments: {
              input: { dataKey: INGRESS_INPUT_KEY },
              'payload-id': { dataKey: INGRESS_PAYLOAD_ID_KEY, value: '' },
              replace: { dataKey: INGRESS_REPLACE_KEY, value: 'false' },
            },
            startedBy: 'ingress',
          }, by, props.state),
        }, by);
      }
      const dispatch = `dispatch-from-${source.id}`;
      this.sensor.addDependency({
        name: dispatch,
        eventSourceName: source.eventSourceName,
        eventName: PAYLOAD_EVENT,
        data: [{ path: INGRESS_REFERENCE_KEY, type: 'string', value: [BARE_S3_REFERENCE] }],
      }, by);
      this.sensor.addTrigger({
        name: `dispatch-from-${source.id}`,
        dependency: dispatch,
        delivery: props.delivery,
        ...submitAction(props.dispatch, dispatch, {
          nameTemplate: runNameTemplate(props.dispatch.templateName, `${source.deliveryIdentity} | print ${JSON.stringify(`/${props.dispatch.templateName}`)}`),
          arguments: {
            url: { dataKey: INGRESS_URL_KEY },
            input: { dataKey: INGRESS_INPUT_KEY },
            source: { value: source.eventSourceName },
          },
          startedBy: 'ingress',
        }, by, props.state),
      }, by);
      const invalid = `invalid-from-${source.id}`;
      this.sensor.addDependency({
        name: invalid,
        eventSourceName: source.eventSourceName,
        eventName: PAYLOAD_EVENT,
        // Neither a workflow route nor a bare reference: data filters are ANDed.
        data: [
          { path: INGRESS_ROUTE_KEY, type: 'string', value: [validIngressKey(known)], comparator: '!=' },
          { path: INGRESS_REFERENCE_KEY, type: 'string', value: [BARE_S3_REFERENCE], comparator: '!=' },
        ],
      }, by);
      this.sensor.addTrigger({
        name: `record-invalid-from-${source.id}`,
        dependency: invalid,
        delivery: props.delivery,
        extra: HTTP_SUCCESS_POLICY,
        action: recordInvalidAction(props.state, invalid, {
          source: source.eventSourceName,
          message: `the payload's process block names no workflow this platform runs (known: ${[...known].sort().join(', ')}), or is missing or malformed, or its url is not s3:// or https://, or it is a bare https:// reference (only s3:// references may omit process)`,
          input: { dataKey: INGRESS_INPUT_KEY, value: '' },
          detail: { dataKey: INGRESS_ROUTE_KEY, value: '' },
        }),
      }, by);
    }
  }
}
