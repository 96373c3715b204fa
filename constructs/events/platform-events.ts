import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { failAt } from '../names';
import { STATE_TOKENS_SECRET, SWOOP_NAMESPACE } from '../platform';
import { Workflow, type WorkflowParameters } from '../workflow';
import { Callback, type CallbackProps } from './callbacks';
import { ChainSensor } from './chain-sensor';
import type { DeliveryPolicy } from './delivery';
import { PayloadDispatch, type PayloadDispatchProps } from './dispatch';
import { EventBus, type EventBusProps } from './event-bus';
import { lifecycleWebhook, payloadWebhook, PayloadQueue, type PayloadQueueProps, type PayloadWebhookProps, type WebhookSource } from './event-sources';
import { IngressSensor, SQS_DELIVERY_IDENTITY, WEBHOOK_DELIVERY_IDENTITY, type IngressSource } from './ingress-sensor';
import {
  DEFAULT_STATE_URL, EVENT_SOURCE_SERVICE_ACCOUNT, INGRESS_SQS_SOURCE, INGRESS_WEBHOOK_SOURCE, SENSOR_SERVICE_ACCOUNT, STATE_AUTHORIZATION_KEY,
} from './names';
import { EventsServiceAccounts } from './rbac';
import { EventsSensor } from './sensor';
import type { StateServiceTarget } from './state-service';

export interface PlatformEventsProps {
  /** Every workflow payloads may name; each gets routing, its `then()` links become chains. */
  readonly workflows: readonly Workflow<WorkflowParameters>[];
  /** @default 'swoop' */
  readonly namespace?: string;
  /** @default a 3-server JetStream bus named 'default' with 10 GiB volumes */
  readonly eventBus?: Omit<EventBusProps, 'namespace'>;
  /** The authenticated payload webhook. @default on, token from Secret swoop-ingress-token/token */
  readonly webhook?: PayloadWebhookProps;
  /** Read payloads from this SQS queue too (raw or SNS-wrapped messages). @default no queue */
  readonly queue?: PayloadQueueProps;
  /** Annotations of the event sources' service account (e.g. the IRSA role that reads the queue). @default none */
  readonly eventSourceAnnotations?: Record<string, string>;
  /** State service that records INVALID payloads. @default contracts.md URL, Authorization from Secret swoop-state-tokens/writer-authorization */
  readonly stateService?: Partial<StateServiceTarget>;
  /** The `swoop-dispatch` WorkflowTemplate that routes bare `{"url": "s3://..."}` references. @default node image DISPATCH_IMAGE, the payload webhook of this chart */
  readonly dispatch?: Pick<PayloadDispatchProps, 'image' | 'deadline'>;
  /** Retries of every trigger. @default 3 attempts from 1 s for Workflow submissions, 5 from 2 s for HTTP and log triggers, doubling */
  readonly delivery?: DeliveryPolicy;
}

/**
 * The events layer as one chart (`events.yaml`): EventBus, the payload webhook (and SQS
 * queue), the lifecycle webhook, service accounts with least privilege, and the ingress,
 * chain and callback sensors built from the workflows.
 *
 * ```ts
 * const events = new PlatformEvents(app, 'events', { workflows, queue: { queue: 'swoop-payloads', region: 'us-west-2' } });
 * events.addCallback('publish-items', { workflow: cog, when: ['successful'], target: CallbackTarget.http({ url: 'https://stac.example.org/hooks' }) });
 * ```
 */
export class PlatformEvents extends Chart {
  public readonly eventBus: EventBus;
  public readonly webhook: WebhookSource;
  public readonly queue?: PayloadQueue;
  public readonly lifecycle: WebhookSource;
  public readonly serviceAccounts: EventsServiceAccounts;
  public readonly dispatch: PayloadDispatch;
  public readonly ingress: IngressSensor;
  public readonly chains: ChainSensor;
  private callbackSensor?: EventsSensor;
  private readonly props: PlatformEventsProps;
  private readonly ns: string;

  constructor(scope: Construct, id: string, props: PlatformEventsProps) {
    const namespace = props.namespace ?? SWOOP_NAMESPACE;
    super(scope, id, { namespace, disableResourceNameHashes: true });
    this.props = props;
    this.ns = namespace;
    validateWorkflows(this.node.path, props.workflows);
    this.eventBus = new EventBus(this, 'EventBus', { ...props.eventBus, namespace });
    this.serviceAccounts = new EventsServiceAccounts(this, 'ServiceAccounts', {
      namespace,
      sensorName: SENSOR_SERVICE_ACCOUNT,
      eventSourceName: EVENT_SOURCE_SERVICE_ACCOUNT,
      eventSourceAnnotations: props.eventSourceAnnotations,
    });
    const common = { namespace, eventBusName: this.eventBus.name, serviceAccountName: EVENT_SOURCE_SERVICE_ACCOUNT };
    this.webhook = payloadWebhook(this, 'PayloadWebhook', { ...common, ...props.webhook });
    const sources: IngressSource[] = [{ id: 'webhook', eventSourceName: INGRESS_WEBHOOK_SOURCE, deliveryIdentity: WEBHOOK_DELIVERY_IDENTITY }];
    if (props.queue) {
      this.queue = new PayloadQueue(this, 'PayloadQueue', { ...common, ...props.queue });
      sources.push({ id: 'sqs', eventSourceName: INGRESS_SQS_SOURCE, deliveryIdentity: SQS_DELIVERY_IDENTITY });
    }
    this.lifecycle = lifecycleWebhook(this, 'LifecycleWebhook', common);
    const sensorCommon = { namespace, eventBusName: this.eventBus.name, serviceAccountName: SENSOR_SERVICE_ACCOUNT, delivery: props.delivery };
    const state = this.stateTarget();
    this.dispatch = new PayloadDispatch(this, 'Dispatch', {
      ...props.dispatch,
      namespace,
      state,
      webhookToken: props.webhook?.token,
    });
    this.ingress = new IngressSensor(this, 'Ingress', { ...sensorCommon, workflows: props.workflows, sources, state, dispatch: this.dispatch });
    this.chains = new ChainSensor(this, 'Chains', { ...sensorCommon, workflows: props.workflows, state });
  }

  /** Adds a SWOOP callback on the runs of one of the workflows. */
  public addCallback(id: string, props: CallbackProps): Callback {
    if (!this.props.workflows.includes(props.workflow)) {
      failAt(`${this.node.path}/Callbacks/${id}`, `workflow ${String(props.workflow?.templateName)} is not in the workflows given to PlatformEvents; add it there first`);
    }
    this.callbackSensor ??= new EventsSensor(this, 'Callbacks', {
      name: 'swoop-callbacks',
      namespace: this.ns,
      eventBusName: this.eventBus.name,
      serviceAccountName: SENSOR_SERVICE_ACCOUNT,
      component: 'callbacks',
    });
    return new Callback(this.callbackSensor, id, { delivery: this.props.delivery, ...props, sensor: this.callbackSensor });
  }

  private stateTarget(): StateServiceTarget {
    return {
      url: this.props.stateService?.url ?? DEFAULT_STATE_URL,
      authorization: this.props.stateService?.authorization ?? { name: STATE_TOKENS_SECRET, key: STATE_AUTHORIZATION_KEY },
    };
  }
}

function validateWorkflows(path: string, workflows: readonly Workflow<WorkflowParameters>[]): void {
  if (workflows.length === 0) failAt(path, 'workflows is empty; payloads could only ever be INVALID. Pass the workflows payloads may name');
  const names = new Set<string>();
  for (const w of workflows) {
    if (!Workflow.isWorkflow(w)) failAt(path, 'workflows must hold Workflow constructs');
    if (names.has(w.templateName)) failAt(path, `two workflows are named ${w.templateName}; WorkflowTemplate names must be unique`);
    names.add(w.templateName);
  }
}
