import { ApiObject, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { SWOOP_NAMESPACE } from '../platform';
import { failAt, standardLabels } from '../names';
import { EVENT_BUS_NAME, PLATFORM_PLACEMENT } from './names';

export interface EventBusPersistence {
  /** @default 10 GiB */
  readonly size?: Size;
  /** @default the cluster's default StorageClass */
  readonly storageClassName?: string;
}

export interface EventBusProps {
  /** EventBus name; sensors and event sources name it. @default 'default' */
  readonly name?: string;
  /** @default 'swoop' */
  readonly namespace?: string;
  /** NATS JetStream servers; 3 tolerate the loss of one. @default 3 */
  readonly replicas?: number;
  /** Persistent volumes for the streams, or `false` for memory only (events are lost on restart). @default 10 GiB volumes */
  readonly persistence?: EventBusPersistence | false;
  /** JetStream version, one the Argo Events controller lists. @default '2.10.10' */
  readonly version?: string;
  /** Largest event. Payloads over about 120 KB should travel by reference. @default 1 MiB */
  readonly maxPayload?: Size;
}

/** The NATS JetStream EventBus that carries events from event sources to sensors. */
export class EventBus extends Construct {
  public readonly name: string;
  public readonly namespace: string;

  constructor(scope: Construct, id: string, props: EventBusProps = {}) {
    super(scope, id);
    this.name = props.name ?? EVENT_BUS_NAME;
    this.namespace = props.namespace ?? SWOOP_NAMESPACE;
    const replicas = props.replicas ?? 3;
    if (!Number.isInteger(replicas) || replicas < 1) failAt(this.node.path, `replicas must be a whole number >= 1, got ${replicas}`);
    if (replicas === 2) failAt(this.node.path, 'replicas is 2: a JetStream cluster needs a majority, so 2 servers tolerate no failure; use 1 (no redundancy) or 3');
    const persistence = props.persistence === false ? undefined : props.persistence ?? {};
    new ApiObject(this, 'Resource', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'EventBus',
      metadata: { name: this.name, namespace: this.namespace, labels: standardLabels(this.name, 'event-bus') },
      spec: {
        jetstream: {
          version: props.version ?? '2.10.10',
          replicas,
          ...PLATFORM_PLACEMENT,
          maxPayload: String((props.maxPayload ?? Size.mebibytes(1)).toKibibytes() * 1024),
          ...(persistence
            ? {
                persistence: {
                  accessMode: 'ReadWriteOnce',
                  volumeSize: `${(persistence.size ?? Size.gibibytes(10)).toGibibytes()}Gi`,
                  ...(persistence.storageClassName ? { storageClassName: persistence.storageClassName } : {}),
                },
              }
            : {}),
        },
      },
    });
  }
}
