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
 * Service accounts of the events layer, least privilege: sensors may only create Workflows
 * in their own namespace (a Role, not a ClusterRole; no get/list/delete). Event sources
 * talk to no Kubernetes API, so their account has no role and no mounted token.
 */
export class EventsServiceAccounts extends Construct {
  public readonly sensor: kplus.ServiceAccount;
  public readonly eventSource: kplus.ServiceAccount;

  constructor(scope: Construct, id: string, props: EventsServiceAccountsProps) {
    super(scope, id);
    this.sensor = new kplus.ServiceAccount(this, 'Sensor', {
      metadata: { name: props.sensorName, namespace: props.namespace, labels: standardLabels(props.sensorName, 'sensor') },
      automountToken: true,
    });
    const role = new kplus.Role(this, 'SensorRole', {
      metadata: { name: `${props.sensorName}-create-workflows`, namespace: props.namespace, labels: standardLabels(props.sensorName, 'sensor') },
    });
    role.allow(['create'], kplus.ApiResource.custom({ apiGroup: 'argoproj.io', resourceType: 'workflows' }));
    const binding = new kplus.RoleBinding(this, 'SensorRoleBinding', {
      metadata: { name: `${props.sensorName}-create-workflows`, namespace: props.namespace, labels: standardLabels(props.sensorName, 'sensor') },
      role,
    });
    binding.addSubjects(this.sensor);
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
