import { Construct } from 'constructs';
import type { Workflow, WorkflowParameters } from '../workflow';
import type { DeliveryPolicy } from './delivery';
import { LIFECYCLE_EVENT, LIFECYCLE_SOURCE } from './names';
import { CHAIN_ROUTE_KEY, exactly, goString, namesWorkflow, runNameFromUpstream, validChainKey } from './routing';
import { EventsSensor, type DataFilter } from './sensor';
import { HTTP_SUCCESS_POLICY, recordInvalidAction, type StateServiceTarget } from './state-service';
import { submitAction } from './submit';
import { readsItems } from '../payload';

export interface ChainSensorProps {
  readonly namespace: string;
  readonly eventBusName: string;
  readonly serviceAccountName: string;
  readonly workflows: readonly Workflow<WorkflowParameters>[];
  readonly state: StateServiceTarget;
  readonly delivery?: DeliveryPolicy;
}

/** Filters selecting the `run.finished` events of successful runs (of `workflow`, when given). */
export function succeeded(workflow?: string): DataFilter[] {
  return [
    { path: 'body.event', type: 'string', value: [exactly('run.finished')] },
    { path: 'body.state', type: 'string', value: [exactly('SUCCESSFUL')] },
    ...(workflow ? [{ path: 'body.workflow', type: 'string' as const, value: [exactly(workflow)] }] : []),
  ];
}


/**
 * Chains runs on `run.finished` events of successful runs:
 * - static links recorded by `a.then(b, {filter})`: B gets A's output payload URL as input, or
 *   `{"url": <output>, "chain_filter": <filter>}` when the link filters items;
 * - payload-driven links (cirrus `process` arrays): the state service sends `next`, the rest of
 *   the run's `process` array; its first element (or each member of a parallel group) starts
 *   with input `{"url": <output>, "process": <next>}`. A `next` naming an unknown workflow is
 *   recorded as INVALID.
 */
export class ChainSensor extends Construct {
  public readonly sensor: EventsSensor;

  constructor(scope: Construct, id: string, props: ChainSensorProps) {
    super(scope, id);
    const by = this.node.path;
    this.sensor = new EventsSensor(this, 'Sensor', {
      name: 'swoop-chains',
      namespace: props.namespace,
      eventBusName: props.eventBusName,
      serviceAccountName: props.serviceAccountName,
      component: 'chains',
    });
    const known = props.workflows.map((w) => w.templateName);
    const linksSeen = new Map(props.workflows.map((w) => [w, w.chainLinks.length]));
    const unknownLinks: string[] = [];
    this.node.addValidation({
      validate: () => [
        ...unknownLinks,
        ...props.workflows
          .filter((w) => w.chainLinks.length !== linksSeen.get(w))
          .map((w) => `${w.node.path}.then() was called after the events layer was created, so that link has no sensor; create PlatformEvents after chaining the workflows`),
      ],
    });
    for (const upstream of props.workflows) {
      if (upstream.chainLinks.length === 0) continue;
      const dep = `${upstream.templateName}-succeeded`;
      this.sensor.addDependency({ name: dep, eventSourceName: LIFECYCLE_SOURCE, eventName: LIFECYCLE_EVENT, data: succeeded(upstream.templateName) }, by);
      const seen = new Map<string, number>();
      for (const link of upstream.chainLinks) {
        const to = link.to;
        if (!props.workflows.includes(to)) {
          unknownLinks.push(to.node.root !== upstream.node.root
            ? `${upstream.node.path}.then() chains to workflow ${to.templateName}, which belongs to another App; create it in this app`
            : `${upstream.node.path}.then() chains to workflow ${to.templateName} (${to.node.path}), which is not routed by the events layer; add it to the workflows given to PlatformEvents, or leave that list out`);
          continue;
        }
        if (link.filter !== undefined && readsItems(to.payload.declaration)) {
          // The task applies chain_filter; the state service cannot, so it would count items the run never sees.
          unknownLinks.push(`${upstream.node.path}.then() chains to workflow ${to.templateName} with a filter, but ${to.templateName} branches on the payload's items (wf.payload.collections / itemCount), which the filter changes after submission; drop the filter or branch on process.tasks`);
          continue;
        }
        const base = `${upstream.templateName}-then-${to.templateName}`;
        const count = (seen.get(base) ?? 0) + 1;
        seen.set(base, count);
        const name = count === 1 ? base : `${base}-${count}`;
        this.sensor.addTrigger({
          name,
          dependency: dep,
          delivery: props.delivery,
          ...submitAction(to, dep, {
            nameTemplate: runNameFromUpstream(to.templateName, name),
            arguments: {
              input: link.filter === undefined
                ? { dataKey: 'body.output' }
                : { dataTemplate: `{{ dict "url" .Input.body.output "chain_filter" ${goString(link.filter)} | toJson }}` },
              'parent-run': { dataKey: 'body.run' },
            },
            startedBy: 'chain',
          }, by, props.state),
        }, by);
      }
    }
    for (const workflow of props.workflows) {
      const dep = `next-is-${workflow.templateName}`;
      this.sensor.addDependency({
        name: dep,
        eventSourceName: LIFECYCLE_SOURCE,
        eventName: LIFECYCLE_EVENT,
        data: [
          ...succeeded(),
          { path: CHAIN_ROUTE_KEY, type: 'string', value: [namesWorkflow(workflow.templateName)] },
          { path: CHAIN_ROUTE_KEY, type: 'string', value: [validChainKey(known)] },
        ],
      }, by);
      this.sensor.addTrigger({
        name: `next-${workflow.templateName}`,
        dependency: dep,
        delivery: props.delivery,
        ...submitAction(workflow, dep, {
          nameTemplate: runNameFromUpstream(workflow.templateName, `next-${workflow.templateName}`),
          arguments: {
            input: { dataTemplate: '{{ dict "url" .Input.body.output "process" .Input.body.next | toJson }}' },
            'parent-run': { dataKey: 'body.run' },
          },
          startedBy: 'process-chain',
        }, by, props.state),
      }, by);
    }
    const invalid = 'next-is-unknown';
    this.sensor.addDependency({
      name: invalid,
      eventSourceName: LIFECYCLE_SOURCE,
      eventName: LIFECYCLE_EVENT,
      data: [...succeeded(), { path: CHAIN_ROUTE_KEY, type: 'string', value: [validChainKey(known)], comparator: '!=' }],
    }, by);
    this.sensor.addTrigger({
      name: 'record-invalid-next',
      dependency: invalid,
      delivery: props.delivery,
      extra: HTTP_SUCCESS_POLICY,
      action: recordInvalidAction(props.state, invalid, {
        source: LIFECYCLE_SOURCE,
        message: `the next element of the process array names no workflow this platform runs (known: ${[...known].sort().join(', ')}) or is malformed`,
        input: { dataTemplate: '{{ dict "url" .Input.body.output "process" .Input.body.next | toJson }}', value: '' },
        detail: { dataKey: CHAIN_ROUTE_KEY, value: '' },
      }),
    }, by);
  }
}
