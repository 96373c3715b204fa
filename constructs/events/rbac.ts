import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import { standardLabels } from '../names';

export interface EventsServiceAccountsProps {
  readonly namespace: string;
  readonly sensorName: string;
  readonly eventSourceName: string;
  /** Annotations of the event sources' account, e.g. `eks.amazonaws.com/role-arn` for SQS. @default none */
  readonly eventSourceAnnotations?: Record<string, string>;
}

/**
 * Service accounts of the events layer, least privilege: no Kubernetes API access at all.
 * Sensors hand runs to the state service over HTTP (POST /submit), which alone may create
 * Workflows (docs/state.md, "Submissions"); event sources talk to no API either. Neither
 * account has a role or a mounted token.
 */
export class EventsServiceAccounts extends Construct {
  public readonly sensor: kplus.ServiceAccount;
  public readonly eventSource: kplus.ServiceAccount;

  constructor(scope: Construct, id: string, props: EventsServiceAccountsProps) {
    super(scope, id);
    this.sensor = new kplus.ServiceAccount(this, 'Sensor', {
      metadata: { name: props.sensorName, namespace: props.namespace, labels: standardLabels(props.sensorName, 'sensor') },
      automountToken: false,
    });
    this.eventSource = new kplus.ServiceAccount(this, 'EventSource', {
      metadata: {
        name: props.eventSourceName,
        namespace: props.namespace,
        labels: standardLabels(props.eventSourceName, 'event-source'),
        ...(props.eventSourceAnnotations ? { annotations: props.eventSourceAnnotations } : {}),
      },
      automountToken: false,
    });
  }
}
