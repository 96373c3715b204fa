/**
 * A small, correct platform as plain manifests: a task library, a workflow that uses it
 * through templateRef, a warm service task, and the ingress EventBus/EventSource/Sensor.
 * Each lint test case breaks one thing in a fresh copy.
 */
export type Doc = Record<string, any>;

const requests = (cpu = '100m', memory = '128Mi') => ({ requests: { cpu, memory } });
const io = (...names: string[]) => names.map((name) => ({ name }));

export function library(): Doc {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'WorkflowTemplate',
    metadata: { name: 'swoop-tasks', namespace: 'swoop' },
    spec: {
      templates: [
        {
          name: 'copy-assets',
          inputs: { parameters: io('input', 'output') },
          outputs: { parameters: [{ name: 'output', value: '{{inputs.parameters.output}}' }] },
          container: {
            image: 'ghcr.io/stac-utils/stac-task:0.5.1',
            args: ['run', '{{inputs.parameters.input}}', '--output', '{{inputs.parameters.output}}'],
            resources: requests(),
          },
        },
        {
          name: 'cloud-mask',
          inputs: { parameters: io('input', 'output'), artifacts: [{ name: 'model', path: '/model', optional: true }] },
          outputs: { parameters: [{ name: 'output', value: '{{inputs.parameters.output}}' }], artifacts: [{ name: 'mask', path: '/tmp/mask.tif' }] },
          nodeSelector: { 'swoop.dev/compute-class': 'gpu' },
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          container: {
            image: 'ghcr.io/example/cloud-mask:1.2.0',
            args: ['{{inputs.parameters.input}}', '{{inputs.artifacts.model.path}}'],
            resources: { requests: { cpu: '4', memory: '16Gi' }, limits: { 'nvidia.com/gpu': '1' } },
          },
        },
        {
          name: 'publish',
          inputs: { parameters: io('input', 'output') },
          outputs: { parameters: [{ name: 'output', value: '{{inputs.parameters.output}}' }] },
          containerSet: {
            containers: [
              { name: 'validate', image: 'ghcr.io/example/stac-validate:1.0.0', args: ['{{inputs.parameters.input}}'], resources: requests() },
              { name: 'post', image: 'ghcr.io/example/stac-post:1.0.0', dependencies: ['validate'], resources: requests() },
            ],
          },
        },
      ],
    },
  };
}

export function workflow(): Doc {
  const out = (step: string) => `{{workflow.parameters.payload-store}}/{{workflow.name}}/${step}/output.json`;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'WorkflowTemplate',
    metadata: { name: 'sentinel2-cogs', namespace: 'swoop' },
    spec: {
      entrypoint: 'main',
      onExit: 'notify',
      arguments: {
        parameters: [
          { name: 'input' },
          { name: 'payload-store', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'payload-store' } } },
          { name: 'state-url', value: 'http://swoop-state:8080' },
        ],
      },
      templates: [
        {
          name: 'main',
          dag: {
            tasks: [
              {
                name: 'copy',
                templateRef: { name: 'swoop-tasks', template: 'copy-assets' },
                arguments: { parameters: [{ name: 'input', value: '{{workflow.parameters.input}}' }, { name: 'output', value: out('copy') }] },
              },
              {
                name: 'mask',
                depends: 'copy',
                templateRef: { name: 'swoop-tasks', template: 'cloud-mask' },
                arguments: { parameters: [{ name: 'input', value: '{{tasks.copy.outputs.parameters.output}}' }, { name: 'output', value: out('mask') }] },
              },
              {
                name: 'publish',
                depends: 'mask.Succeeded',
                when: "{{=tasks.mask.outputs.parameters.output != ''}}",
                templateRef: { name: 'swoop-tasks', template: 'publish' },
                arguments: { parameters: [{ name: 'input', value: '{{tasks.mask.outputs.parameters.output}}' }, { name: 'output', value: out('publish') }] },
              },
            ],
          },
          outputs: { parameters: [{ name: 'output', valueFrom: { parameter: '{{tasks.publish.outputs.parameters.output}}' } }] },
        },
        {
          name: 'notify',
          http: { url: '{{workflow.parameters.state-url}}/events', method: 'POST', body: '{"run": "{{workflow.name}}", "phase": "{{workflow.status}}"}' },
        },
      ],
    },
  };
}

export function serviceTask(): Doc {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'stac-publish', namespace: 'swoop' },
    spec: {
      selector: { matchLabels: { app: 'stac-publish' } },
      template: {
        metadata: { labels: { app: 'stac-publish' } },
        spec: { containers: [{ name: 'main', image: 'ghcr.io/example/stac-post:1.0.0', resources: requests() }] },
      },
    },
  };
}

export function eventBus(): Doc {
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'EventBus', metadata: { name: 'default', namespace: 'swoop' }, spec: { jetstream: { version: 'latest' } } };
}

export function eventSource(): Doc {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'EventSource',
    metadata: { name: 'swoop-ingress', namespace: 'swoop' },
    spec: { eventBusName: 'default', webhook: { payload: { port: '12000', endpoint: '/payload', method: 'POST' } } },
  };
}

export function sensor(): Doc {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Sensor',
    metadata: { name: 'swoop-ingress', namespace: 'swoop' },
    spec: {
      eventBusName: 'default',
      dependencies: [{ name: 'payload', eventSourceName: 'swoop-ingress', eventName: 'payload' }],
      triggers: [
        {
          template: {
            name: 'submit',
            conditions: 'payload',
            argoWorkflow: {
              operation: 'submit',
              source: {
                resource: {
                  apiVersion: 'argoproj.io/v1alpha1',
                  kind: 'Workflow',
                  metadata: { name: 'sentinel2-cogs-run' },
                  spec: { workflowTemplateRef: { name: 'sentinel2-cogs' }, arguments: { parameters: [{ name: 'input', value: '' }] } },
                },
              },
              parameters: [{ src: { dependencyName: 'payload', dataKey: 'body' }, dest: 'spec.arguments.parameters.0.value' }],
            },
          },
          retryStrategy: { steps: 3 },
        },
      ],
    },
  };
}

/** The correct set, in a fixed order: library, workflow, service, bus, source, sensor. */
export function platform(): Doc[] {
  return [library(), workflow(), serviceTask(), eventBus(), eventSource(), sensor()];
}
