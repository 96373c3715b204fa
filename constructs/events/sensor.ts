import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { failAt, standardLabels } from '../names';
import { deliveryFields, type DeliveryPolicy } from './delivery';
import { PLATFORM_PLACEMENT } from './names';

/** An Argo Events data filter: the value at `path` (GJSON) compared as `type`. */
export interface DataFilter {
  readonly path: string;
  readonly type: 'string' | 'number' | 'bool';
  /** Strings are Go regular expressions (unanchored); any one matching is enough. */
  readonly value: readonly string[];
  /** @default '=' */
  readonly comparator?: '=' | '!=' | '>' | '>=' | '<' | '<=';
}

export interface Dependency {
  readonly name: string;
  readonly eventSourceName: string;
  readonly eventName: string;
  /** Every filter must pass. @default none */
  readonly data?: readonly DataFilter[];
}

/** A trigger parameter: a value from the dependency's event set at `dest`. */
export interface TriggerParameter {
  readonly dest: string;
  /** GJSON path into the event data. */
  readonly dataKey?: string;
  /** Go template over `.Input` (the event data), with sprig functions. */
  readonly dataTemplate?: string;
  /** Used when the key/template does not resolve; without it the trigger fails instead. */
  readonly value?: string;
}

export interface SensorTriggerProps {
  readonly name: string;
  /** The dependency whose event fires the trigger. */
  readonly dependency: string;
  /** The trigger template body without `name`/`conditions`, e.g. `{ http: {...} }`. */
  readonly action: Record<string, unknown>;
  /** Trigger-level fields such as `policy`. @default none */
  readonly extra?: Record<string, unknown>;
  readonly delivery?: DeliveryPolicy;
}

export interface EventsSensorProps {
  readonly name: string;
  readonly namespace: string;
  readonly eventBusName: string;
  readonly serviceAccountName: string;
  readonly component: string;
}

/** A Sensor under construction: dependencies and triggers are added, names checked for clashes. */
export class EventsSensor extends Construct {
  public readonly name: string;
  private readonly dependencies: Dependency[] = [];
  private readonly triggers: Record<string, unknown>[] = [];

  constructor(scope: Construct, id: string, props: EventsSensorProps) {
    super(scope, id);
    this.name = props.name;
    new ApiObject(this, 'Resource', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Sensor',
      metadata: { name: props.name, namespace: props.namespace, labels: standardLabels(props.name, props.component) },
      spec: {
        eventBusName: props.eventBusName,
        template: { serviceAccountName: props.serviceAccountName, ...PLATFORM_PLACEMENT },
        dependencies: Lazy.any({ produce: () => this.dependencies.map(renderDependency) }),
        triggers: Lazy.any({ produce: () => this.triggers }),
      },
    });
  }

  public get dependencyCount(): number {
    return this.dependencies.length;
  }

  public addDependency(dep: Dependency, by: string): void {
    if (this.dependencies.some((d) => d.name === dep.name)) failAt(by, `sensor ${this.name} already has a dependency named "${dep.name}"`);
    this.dependencies.push(dep);
  }

  /** Adds a trigger fired by one dependency, with at-least-once delivery, retries and a dead-letter trigger. */
  public addTrigger(props: SensorTriggerProps, by: string): void {
    if (!this.dependencies.some((d) => d.name === props.dependency)) failAt(by, `trigger "${props.name}" names dependency "${props.dependency}", which sensor ${this.name} does not declare`);
    if (this.triggers.some((t) => (t.template as { name: string }).name === props.name)) failAt(by, `sensor ${this.name} already has a trigger named "${props.name}"`);
    this.triggers.push({
      template: { name: props.name, conditions: props.dependency, ...props.action },
      ...deliveryFields(props.name, props.delivery, props.action.k8s !== undefined),
      ...props.extra,
    });
  }
}

function renderDependency(dep: Dependency): Record<string, unknown> {
  return {
    name: dep.name,
    eventSourceName: dep.eventSourceName,
    eventName: dep.eventName,
    ...(dep.data?.length ? { filters: { data: dep.data.map((f) => ({ ...f, value: [...f.value] })) } } : {}),
  };
}

/** Renders trigger parameters of one dependency in Argo's `{src, dest}` shape. */
export function parameters(dependency: string, params: readonly TriggerParameter[]): Record<string, unknown>[] {
  return params.map((p) => ({
    src: {
      dependencyName: dependency,
      ...(p.dataKey !== undefined ? { dataKey: p.dataKey } : {}),
      ...(p.dataTemplate !== undefined ? { dataTemplate: p.dataTemplate } : {}),
      ...(p.value !== undefined ? { value: p.value } : {}),
    },
    dest: p.dest,
  }));
}
