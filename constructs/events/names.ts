import { placementOn } from '../compute-classes';

/**
 * Names of the events layer that other parts rely on: the lifecycle webhook and the
 * state service come from docs/contracts.md; the ingress names are this layer's own
 * (infra creates the Secrets they reference).
 */
export const EVENT_BUS_NAME = 'default';

/** Webhook EventSource the state service posts `run.finished` events to (contracts.md). */
export const LIFECYCLE_SOURCE = 'swoop-lifecycle';
export const LIFECYCLE_EVENT = 'run-finished';
export const LIFECYCLE_ENDPOINT = '/lifecycle';
export const LIFECYCLE_TOKEN_SECRET = 'swoop-lifecycle-token';

/** Authenticated webhook for payloads (`POST /payloads` with `Authorization: Bearer <token>`). */
export const INGRESS_WEBHOOK_SOURCE = 'swoop-ingress';
export const INGRESS_WEBHOOK_ENDPOINT = '/payloads';
export const INGRESS_TOKEN_SECRET = 'swoop-ingress-token';
/** SQS queue EventSource for payloads (raw or SNS-wrapped messages). */
export const INGRESS_SQS_SOURCE = 'swoop-ingress-sqs';
/** Platform WorkflowTemplate that routes payloads passed by bare S3 reference (dispatch.ts). */
export const DISPATCH_TEMPLATE = 'swoop-dispatch';
/** Event name of both ingress EventSources. */
export const PAYLOAD_EVENT = 'payload';

/** Port the webhook EventSources listen on (contracts.md `lifecycle-url`). */
export const WEBHOOK_PORT = 12000;

/** The state service's in-cluster URL (the `state-url` key of ConfigMap swoop-platform). */
export const DEFAULT_STATE_URL = 'http://swoop-state.swoop.svc.cluster.local:8080';
/**
 * Secret key holding the whole `Authorization` header value (`Bearer <writer token>`):
 * Argo Events secure headers copy a Secret value verbatim and cannot add the `Bearer ` prefix.
 */
export const STATE_AUTHORIZATION_KEY = 'writer-authorization';

export const SENSOR_SERVICE_ACCOUNT = 'swoop-events-sensor';
export const EVENT_SOURCE_SERVICE_ACCOUNT = 'swoop-events-source';

/**
 * Event sources, sensors and the event bus are platform services: they run on the system
 * pool beside the Argo controllers, so the task pools can scale to zero when idle.
 */
export const PLATFORM_PLACEMENT = placementOn('system');
