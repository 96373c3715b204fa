import { ApiObject, Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { failAt, standardLabels } from '../names';
import {
  INGRESS_SQS_SOURCE, INGRESS_TOKEN_SECRET, INGRESS_WEBHOOK_ENDPOINT, INGRESS_WEBHOOK_SOURCE, LIFECYCLE_ENDPOINT, LIFECYCLE_EVENT,
  LIFECYCLE_SOURCE, LIFECYCLE_TOKEN_SECRET, PAYLOAD_EVENT, PLATFORM_PLACEMENT, WEBHOOK_PORT,
} from './names';

/** A key of a Kubernetes Secret. */
export interface SecretKey {
  readonly name: string;
  readonly key: string;
}

interface CommonProps {
  readonly namespace: string;
  readonly eventBusName: string;
  readonly serviceAccountName: string;
}

export interface WebhookSourceProps extends CommonProps {
  readonly name: string;
  readonly eventName: string;
  readonly endpoint: string;
  /** Callers must send `Authorization: Bearer <this secret value>`; there is no open variant. */
  readonly token: SecretKey;
  /** @default 1 MiB */
  readonly maxPayload?: Size;
}

/** An EventSource of the platform: its bus, identity and system-pool placement, plus `sources`. */
function eventSource(scope: Construct, name: string, props: CommonProps, sources: Record<string, unknown>): ApiObject {
  return new ApiObject(scope, 'Resource', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'EventSource',
    metadata: { name, namespace: props.namespace, labels: standardLabels(name, 'event-source') },
    spec: {
      eventBusName: props.eventBusName,
      template: { serviceAccountName: props.serviceAccountName, ...PLATFORM_PLACEMENT },
      ...sources,
    },
  });
}

/** A webhook EventSource behind a bearer token, with its Service on port 12000. */
export class WebhookSource extends Construct {
  public readonly name: string;
  public readonly eventName: string;

  constructor(scope: Construct, id: string, props: WebhookSourceProps) {
    super(scope, id);
    this.name = props.name;
    this.eventName = props.eventName;
    eventSource(this, props.name, props, {
      service: { ports: [{ name: 'http', port: WEBHOOK_PORT, targetPort: WEBHOOK_PORT }] },
      webhook: {
        [props.eventName]: {
          port: String(WEBHOOK_PORT),
          endpoint: props.endpoint,
          method: 'POST',
          authSecret: { name: props.token.name, key: props.token.key },
          maxPayloadSize: (props.maxPayload ?? Size.mebibytes(1)).toKibibytes() * 1024,
        },
      },
    });
  }
}

export interface PayloadWebhookProps {
  /** @default Secret 'swoop-ingress-token', key 'token' */
  readonly token?: SecretKey;
  /** @default 1 MiB; larger payloads travel by reference (`{"url": "s3://..."}`) */
  readonly maxPayload?: Size;
}

export interface PayloadQueueProps {
  /** Queue name (or URL). */
  readonly queue: string;
  readonly region: string;
  /** Account that owns the queue, when it is not the cluster's. @default the caller's account */
  readonly queueAccountId?: string;
  /** Role the event source assumes to read the queue. @default the pod's identity (IRSA / Pod Identity on its service account) */
  readonly roleArn?: string;
  /** Long-poll wait. @default 20 seconds */
  readonly waitTime?: Duration;
  /**
   * The queue has a redrive policy: messages the event source cannot publish to the bus are
   * left on the queue (and end in its dead-letter queue) instead of being deleted. @default true
   */
  readonly deadLetterQueue?: boolean;
}

/** The SQS EventSource for payloads; SNS-wrapped messages are unwrapped by the sensors. */
export class PayloadQueue extends Construct {
  public readonly name = INGRESS_SQS_SOURCE;
  public readonly eventName = PAYLOAD_EVENT;

  constructor(scope: Construct, id: string, props: PayloadQueueProps & CommonProps) {
    super(scope, id);
    if (!props.queue) failAt(this.node.path, 'queue is empty; give the SQS queue name');
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(props.region)) failAt(this.node.path, `region "${props.region}" is not an AWS region name such as us-west-2`);
    const waitSeconds = (props.waitTime ?? Duration.seconds(20)).toSeconds();
    if (waitSeconds < 0 || waitSeconds > 20) failAt(this.node.path, `waitTime is ${waitSeconds}s; SQS long polling allows 0 to 20 seconds`);
    eventSource(this, this.name, props, {
      sqs: {
        [this.eventName]: {
          queue: props.queue,
          region: props.region,
          jsonBody: true,
          waitTimeSeconds: waitSeconds,
          dlq: props.deadLetterQueue ?? true,
          ...(props.queueAccountId ? { queueAccountId: props.queueAccountId } : {}),
          ...(props.roleArn ? { roleARN: props.roleArn } : {}),
        },
      },
    });
  }
}

/** The authenticated payload webhook: `POST /payloads`. */
export function payloadWebhook(scope: Construct, id: string, props: PayloadWebhookProps & CommonProps): WebhookSource {
  return new WebhookSource(scope, id, {
    ...props,
    name: INGRESS_WEBHOOK_SOURCE,
    eventName: PAYLOAD_EVENT,
    endpoint: INGRESS_WEBHOOK_ENDPOINT,
    token: props.token ?? { name: INGRESS_TOKEN_SECRET, key: 'token' },
  });
}

/** The webhook the state service forwards `run.finished` events to (contracts.md `lifecycle-url`). */
export function lifecycleWebhook(scope: Construct, id: string, props: CommonProps): WebhookSource {
  return new WebhookSource(scope, id, {
    ...props,
    name: LIFECYCLE_SOURCE,
    eventName: LIFECYCLE_EVENT,
    endpoint: LIFECYCLE_ENDPOINT,
    token: { name: LIFECYCLE_TOKEN_SECRET, key: 'token' },
  });
}
