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
  /**
   * Every workflow payloads may name; each gets routing, its `then()` links become chains.
   * Leave it out: the events layer finds every Workflow of the app itself. When given, a
   * Workflow of the app missing from it is a synth error, so none can be forgotten.
   * @default every Workflow in the app, in construct-tree order
   */
  readonly workflows?: readonly Workflow<WorkflowParameters>[];
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
  /** The workflows payloads may name: the app's, in construct-tree order. */
  public readonly workflows: readonly Workflow<WorkflowParameters>[];
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

  constructor(scope: Construct, id: string, props: PlatformEventsProps = {}) {
    const namespace = props.namespace ?? SWOOP_NAMESPACE;
    super(scope, id, { namespace, disableResourceNameHashes: true });
    this.props = props;
    this.ns = namespace;
    this.workflows = props.workflows ?? appWorkflows(this);
    validateWorkflows(this.node.path, this.workflows);
    this.node.addValidation({ validate: () => this.unroutedWorkflows() });
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
    this.ingress = new IngressSensor(this, 'Ingress', { ...sensorCommon, workflows: this.workflows, sources, state, dispatch: this.dispatch });
    this.chains = new ChainSensor(this, 'Chains', { ...sensorCommon, workflows: this.workflows, state });
  }

  /** Adds a SWOOP callback on the runs of one of the workflows. */
  public addCallback(id: string, props: CallbackProps): Callback {
    if (!this.workflows.includes(props.workflow)) {
      const where = Workflow.isWorkflow(props.workflow) && props.workflow.node.root !== this.node.root ? 'belongs to another App' : 'is not routed by the events layer';
      failAt(`${this.node.path}/Callbacks/${id}`, `workflow ${String(props.workflow?.templateName)} ${where}; create it in this app before PlatformEvents`);
    }
    this.callbackSensor ??= new EventsSensor(this, 'Callbacks', {
      name: 'swoop-callbacks',
      namespace: this.ns,
      eventBusName: this.eventBus.name,
      serviceAccountName: SENSOR_SERVICE_ACCOUNT,
      component: 'callbacks',
    });
    return new Callback(this.callbackSensor, id, { delivery: this.props.delivery, ...props, sensor: this.callbackSensor, state: this.stateTarget() });
  }

  /** Workflows of the app that payloads could not reach: created after the events layer, or left out of `workflows`. */
  private unroutedWorkflows(): string[] {
    return appWorkflows(this)
      .filter((w) => !this.workflows.includes(w))
      .map((w) => this.props.workflows
        ? `workflow ${w.templateName} (${w.node.path}) is in the app but not in the workflows given to PlatformEvents, so payloads naming it would be recorded INVALID; add it, or leave \`workflows\` out to route every workflow of the app`
        : `workflow ${w.templateName} (${w.node.path}) was created after the events layer, so payloads naming it would be recorded INVALID; create PlatformEvents after every workflow`);
  }

  private stateTarget(): StateServiceTarget {
    return {
      url: this.props.stateService?.url ?? DEFAULT_STATE_URL,
      authorization: this.props.stateService?.authorization ?? { name: STATE_TOKENS_SECRET, key: STATE_AUTHORIZATION_KEY },
    };
  }
}

/** Every Workflow in the app of `scope`, in construct-tree order (deterministic: the order they were added). */
export function appWorkflows(scope: Construct): Workflow<WorkflowParameters>[] {
  return scope.node.root.node.findAll().filter((c): c is Workflow<WorkflowParameters> => Workflow.isWorkflow(c));
}

function validateWorkflows(path: string, workflows: readonly Workflow<WorkflowParameters>[]): void {
  if (workflows.length === 0) failAt(path, 'the app has no workflows (or workflows is empty); payloads could only ever be INVALID. Create the workflows before PlatformEvents');
  const names = new Set<string>();
  for (const w of workflows) {
    if (!Workflow.isWorkflow(w)) failAt(path, 'workflows must hold Workflow constructs');
    if (names.has(w.templateName)) failAt(path, `two workflows are named ${w.templateName}; WorkflowTemplate names must be unique`);
    names.add(w.templateName);
  }
}
