import { describe, expect, it } from 'vitest';
import { lintObjects } from '../../tools/lint/index';
import { platform, type Doc } from './fixtures';

interface Platform {
  lib: Doc;
  wf: Doc;
  svc: Doc;
  bus: Doc;
  src: Doc;
  sensor: Doc;
  docs: Doc[];
}

function lintWith(mutate: (p: Platform) => void): string[] {
  const docs = platform();
  const [lib, wf, svc, bus, src, sensor] = docs;
  mutate({ lib, wf, svc, bus, src, sensor, docs });
  return lintObjects(docs).map((p) => `${p.resource}: ${p.path}: ${p.message} [${p.rule}]`);
}

const libTemplate = (p: Platform, name: string): Doc => p.lib.spec.templates.find((t: Doc) => t.name === name);
const task = (p: Platform, name: string): Doc => p.wf.spec.templates[0].dag.tasks.find((t: Doc) => t.name === name);
const arg = (t: Doc, name: string): Doc => t.arguments.parameters.find((a: Doc) => a.name === name);
const trigger = (p: Platform): Doc => p.sensor.spec.triggers[0].template.argoWorkflow;

const WF = 'WorkflowTemplate/sentinel2-cogs';
const LIB = 'WorkflowTemplate/swoop-tasks';
const TASKS = 'spec.templates[main].dag.tasks';
const SENSOR = 'Sensor/swoop-ingress';
const TRIGGER = 'spec.triggers[submit].template.argoWorkflow';

describe('lint: the correct platform', () => {
  it('has no problems', () => {
    expect(lintWith(() => {})).toEqual([]);
  });

  const good: [string, (p: Platform) => void][] = [
    ['a limit alone counts as a request (Kubernetes copies it)', (p) => {
      libTemplate(p, 'copy-assets').container.resources = { limits: { cpu: '1', memory: '1Gi' } };
    }],
    ['GPU pool chosen through required node affinity and a wildcard toleration', (p) => {
      const t = libTemplate(p, 'cloud-mask');
      delete t.nodeSelector;
      t.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'swoop.dev/compute-class', operator: 'In', values: ['gpu'] }] }] } } };
      t.tolerations = [{ operator: 'Exists' }];
    }],
    ['workflow-level tolerations and nodeSelector apply to every template', (p) => {
      p.lib.spec.nodeSelector = { 'swoop.dev/compute-class': 'memory' };
      p.lib.spec.tolerations = [{ key: 'swoop.dev/memory', operator: 'Equal', value: 'true', effect: 'NoSchedule' }];
      libTemplate(p, 'cloud-mask').tolerations.push(p.lib.spec.tolerations[0]);
    }],
    ["a task's exit hook may read that task's own outputs", (p) => {
      task(p, 'publish').hooks = { exit: { template: 'notify', arguments: { parameters: [] } } };
      p.wf.spec.templates[1].inputs = { parameters: [{ name: 'out', value: '' }] };
      task(p, 'publish').hooks.exit.arguments.parameters.push({ name: 'out', value: '{{tasks.publish.outputs.parameters.output}}' });
    }],
    ['legacy dependencies list and a transitive dependency', (p) => {
      delete task(p, 'publish').depends;
      task(p, 'publish').dependencies = ['mask'];
      arg(task(p, 'publish'), 'input').value = '{{tasks.copy.outputs.parameters.output}}';
    }],
    ['string literals inside expressions are not references', (p) => {
      task(p, 'publish').when = "{{= 'inputs.parameters.nope' != workflow.parameters['input'] }}";
    }],
    ['a Sensor without eventBusName uses the default bus and may pass no value for defaulted parameters', (p) => {
      delete p.sensor.spec.eventBusName;
    }],
  ];
  it.each(good)('accepts: %s', (_name, mutate) => {
    expect(lintWith(mutate)).toEqual([]);
  });
});

const broken: [string, (p: Platform) => void, string[]][] = [
  ['templateRef to a WorkflowTemplate not in the set', (p) => { task(p, 'copy').templateRef.name = 'swoop-taks'; }, [
    `${WF}: ${TASKS}[copy]: templateRef names WorkflowTemplate/swoop-taks, which is not in the set [template-ref]`,
  ]],
  ['templateRef to a template the library does not define', (p) => { task(p, 'copy').templateRef.template = 'copy'; }, [
    `${WF}: ${TASKS}[copy]: templateRef names template "copy", which WorkflowTemplate/swoop-tasks does not define [template-ref]`,
  ]],
  ['templateRef in another namespace', (p) => { p.lib.metadata.namespace = 'other'; }, [
    `${WF}: ${TASKS}[copy]: templateRef names WorkflowTemplate/swoop-tasks, which is not in the set [template-ref]`,
    `${WF}: ${TASKS}[mask]: templateRef names WorkflowTemplate/swoop-tasks, which is not in the set [template-ref]`,
    `${WF}: ${TASKS}[publish]: templateRef names WorkflowTemplate/swoop-tasks, which is not in the set [template-ref]`,
  ]],
  ['template name that does not exist', (p) => { p.wf.spec.onExit = 'notfy'; }, [
    `${WF}: spec.onExit: template "notfy" is not defined in spec.templates [template]`,
  ]],
  ['entrypoint that does not exist', (p) => { p.wf.spec.entrypoint = 'mian'; }, [
    `${WF}: spec.entrypoint: template "mian" is not defined in spec.templates [template]`,
  ]],
  ['Workflow without entrypoint', (p) => {
    const hello = { name: 'hello', container: { image: 'busybox:1.36.1', resources: { requests: { cpu: '10m', memory: '8Mi' } } } };
    p.docs.push({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { generateName: 'adhoc-' }, spec: { templates: [hello] } });
  }, [
    'Workflow/adhoc-: spec.entrypoint: a Workflow needs spec.entrypoint (or a workflowTemplateRef whose template has one) [entrypoint]',
  ]],
  ['task naming no template at all', (p) => { delete task(p, 'copy').templateRef; }, [
    `${WF}: ${TASKS}[copy]: task names no template (set template, templateRef or inline) [template]`,
  ]],
  ['undeclared input parameter', (p) => { libTemplate(p, 'copy-assets').container.args[1] = '{{inputs.parameters.inptu}}'; }, [
    `${LIB}: spec.templates[copy-assets].container.args[1]: {{inputs.parameters.inptu}}: template "copy-assets" declares no input parameter "inptu" (add it to inputs.parameters) [inputs]`,
  ]],
  ['undeclared input artifact', (p) => { libTemplate(p, 'cloud-mask').container.args[1] = '{{inputs.artifacts.weights.path}}'; }, [
    `${LIB}: spec.templates[cloud-mask].container.args[1]: {{inputs.artifacts.weights.path}}: template "cloud-mask" declares no input artifact "weights" (add it to inputs.artifacts) [inputs]`,
  ]],
  ['undeclared input in an expression tag', (p) => { libTemplate(p, 'copy-assets').container.args[0] = "{{=inputs.parameters['in-put']}}"; }, [
    `${LIB}: spec.templates[copy-assets].container.args[0]: {{inputs.parameters['in-put']}}: template "copy-assets" declares no input parameter "in-put" (add it to inputs.parameters) [inputs]`,
  ]],
  ['undeclared workflow parameter in the workflow', (p) => { arg(task(p, 'copy'), 'input').value = '{{workflow.parameters.payload}}'; }, [
    `${WF}: ${TASKS}[copy].arguments.parameters[input].value: {{workflow.parameters.payload}}: this workflow declares no parameter "payload" in spec.arguments.parameters [workflow-parameters]`,
  ]],
  ['library template reading a workflow parameter its runner does not declare', (p) => { libTemplate(p, 'publish').containerSet.containers[1].args = ['{{workflow.parameters.stac-api}}']; }, [
    `${LIB}: spec.templates[publish].containerSet.containers[post].args[0]: {{workflow.parameters.stac-api}}: WorkflowTemplate/sentinel2-cogs, which runs it, declares no parameter "stac-api" in spec.arguments.parameters [workflow-parameters]`,
  ]],
  ['output of a task that does not exist', (p) => { arg(task(p, 'mask'), 'input').value = '{{tasks.cpy.outputs.parameters.output}}'; }, [
    `${WF}: ${TASKS}[mask].arguments.parameters[input].value: {{tasks.cpy.outputs.parameters.output}}: DAG template "main" has no task "cpy" [task-outputs]`,
  ]],
  ['output parameter the task library template does not declare', (p) => { arg(task(p, 'mask'), 'input').value = '{{tasks.copy.outputs.parameters.items}}'; }, [
    `${WF}: ${TASKS}[mask].arguments.parameters[input].value: {{tasks.copy.outputs.parameters.items}}: "copy" runs template "copy-assets" of WorkflowTemplate/swoop-tasks, which declares no output parameter "items" [task-outputs]`,
  ]],
  ['output artifact not declared', (p) => { task(p, 'publish').arguments.artifacts = [{ name: 'mask', from: '{{tasks.mask.outputs.artifacts.cloudmask}}' }]; libTemplate(p, 'publish').inputs.artifacts = [{ name: 'mask', path: '/mask' }]; }, [
    `${WF}: ${TASKS}[publish].arguments.artifacts[mask].from: {{tasks.mask.outputs.artifacts.cloudmask}}: "mask" runs template "cloud-mask" of WorkflowTemplate/swoop-tasks, which declares no output artifact "cloudmask" [task-outputs]`,
  ]],
  ['result of a DAG template', (p) => {
    p.wf.spec.templates.push({ name: 'inner', dag: { tasks: [] } });
    p.wf.spec.templates[0].dag.tasks.push({ name: 'sub', template: 'inner' }, { name: 'after', depends: 'sub', template: 'notify', when: '{{tasks.sub.outputs.result}} == ok' });
  }, [
    `${WF}: ${TASKS}[after].when: {{tasks.sub.outputs.result}}: "sub" runs template "inner", a dag template, which has no outputs.result [task-outputs]`,
  ]],
  ['using outputs without depending on the task', (p) => { delete task(p, 'mask').depends; }, [
    `${WF}: ${TASKS}[mask].arguments.parameters[input].value: {{tasks.copy.outputs.parameters.output}}: task "mask" uses outputs of "copy" without depending on it (add "copy" to depends) [task-outputs]`,
  ]],
  ['tasks.* outside a DAG template', (p) => { p.wf.spec.templates[1].http.url = '{{tasks.copy.outputs.parameters.output}}'; }, [
    `${WF}: spec.templates[notify].http.url: {{tasks.copy.outputs.parameters.output}}: tasks.* is only defined inside a DAG template; "notify" is not one [task-outputs]`,
  ]],
  ['depends on a task that does not exist', (p) => { task(p, 'publish').depends = 'mask && (copy || cog)'; }, [
    `${WF}: ${TASKS}[publish]: depends on task "cog", which template "main" does not have [depends]`,
  ]],
  ['depends with an unknown task result', (p) => { task(p, 'publish').depends = 'mask.Succeded'; }, [
    `${WF}: ${TASKS}[publish].depends: "mask.Succeded": unknown task result ".Succeded" (use one of Succeeded, Failed, Errored, Skipped, Omitted, Daemoned, AnySucceeded, AllFailed) [depends]`,
  ]],
  ['a DAG cycle', (p) => { task(p, 'copy').depends = 'publish'; }, [
    `${WF}: spec.templates[main].dag: tasks form a cycle (each waits for the next): copy -> publish -> mask -> copy [dag-cycle]`,
  ]],
  ['a containerSet cycle and a missing container dependency', (p) => { libTemplate(p, 'publish').containerSet.containers[0].dependencies = ['post', 'lint']; }, [
    `${LIB}: spec.templates[publish].containerSet.containers[validate]: depends on container "lint", which template "publish" does not have [depends]`,
    `${LIB}: spec.templates[publish].containerSet: containers form a cycle (each waits for the next): validate -> post -> validate [dag-cycle]`,
  ]],
  ['duplicate task name', (p) => { p.wf.spec.templates[0].dag.tasks.push({ ...task(p, 'copy') }); }, [
    `${WF}: ${TASKS}[copy]: task name "copy" is used twice in template "main" [duplicate-name]`,
  ]],
  ['duplicate template name', (p) => { p.lib.spec.templates[2].name = 'copy-assets'; }, [
    `${LIB}: spec.templates[copy-assets]: template name "copy-assets" is used twice in spec.templates [duplicate-name]`,
    `${WF}: ${TASKS}[publish]: templateRef names template "publish", which WorkflowTemplate/swoop-tasks does not define [template-ref]`,
  ]],
  ['duplicate document', (p) => { p.docs.push(JSON.parse(JSON.stringify(p.src))); }, [
    'EventSource/swoop-ingress: metadata.name: EventSource/swoop-ingress is also defined in <memory>; one would overwrite the other [duplicate-name]',
  ]],
  ['required input not passed by a task', (p) => { task(p, 'copy').arguments.parameters.pop(); }, [
    `${WF}: ${TASKS}[copy]: task does not pass input parameter "output" that template "copy-assets" of WorkflowTemplate/swoop-tasks requires (add it to arguments.parameters) [required-input]`,
  ]],
  ['required input artifact not passed', (p) => { delete libTemplate(p, 'cloud-mask').inputs.artifacts[0].optional; }, [
    `${WF}: ${TASKS}[mask]: task does not pass input artifact "model" that template "cloud-mask" of WorkflowTemplate/swoop-tasks requires (add it to arguments.artifacts) [required-input]`,
  ]],
  ['entrypoint input the workflow does not declare', (p) => { p.wf.spec.templates[0].inputs = { parameters: [{ name: 'collection' }] }; }, [
    `${WF}: spec.entrypoint: the workflow (spec.arguments, used by entrypoint) does not pass input parameter "collection" that template "main" requires (add it to arguments.parameters) [required-input]`,
  ]],
  ['argument the template does not declare (misspelt)', (p) => { arg(task(p, 'copy'), 'output').name = 'ouput'; }, [
    `${WF}: ${TASKS}[copy]: task does not pass input parameter "output" that template "copy-assets" of WorkflowTemplate/swoop-tasks requires (add it to arguments.parameters) [required-input]`,
    `${WF}: ${TASKS}[copy]: passes parameter "ouput", which template "copy-assets" of WorkflowTemplate/swoop-tasks does not declare in inputs.parameters [undeclared-argument]`,
  ]],
  ['container without CPU request', (p) => { delete libTemplate(p, 'copy-assets').container.resources.requests.cpu; }, [
    `${LIB}: spec.templates[copy-assets].container: the container has no CPU request (set resources.requests.cpu) [container-requests]`,
  ]],
  ['containerSet container without resources', (p) => { delete libTemplate(p, 'publish').containerSet.containers[1].resources; }, [
    `${LIB}: spec.templates[publish].containerSet.containers[post]: container "post" has no CPU request (set resources.requests.cpu) [container-requests]`,
    `${LIB}: spec.templates[publish].containerSet.containers[post]: container "post" has no memory request (set resources.requests.memory) [container-requests]`,
  ]],
  ['script and sidecar without memory request', (p) => {
    p.lib.spec.templates.push({ name: 'probe', script: { image: 'python:3.12.4', source: 'print(1)', resources: { requests: { cpu: '1' } } }, sidecars: [{ name: 'proxy', image: 'envoyproxy/envoy:v1.30.1', resources: { requests: { cpu: '1', memory: '64Mi' } } }] });
  }, [
    `${LIB}: spec.templates[probe].script: the script container has no memory request (set resources.requests.memory) [container-requests]`,
  ]],
  ['Deployment container without requests', (p) => { delete p.svc.spec.template.spec.containers[0].resources; }, [
    'Deployment/stac-publish: spec.template.spec.containers[main]: container "main" has no CPU request (set resources.requests.cpu) [container-requests]',
    'Deployment/stac-publish: spec.template.spec.containers[main]: container "main" has no memory request (set resources.requests.memory) [container-requests]',
  ]],
  ['GPU container that does not tolerate the GPU taint', (p) => { libTemplate(p, 'cloud-mask').tolerations = []; }, [
    `${LIB}: spec.templates[cloud-mask]: template "cloud-mask" selects compute class "gpu" but does not tolerate its taint nvidia.com/gpu=true:NoSchedule, so it never schedules (add the toleration) [scheduling]`,
  ]],
  ['GPU container that selects no GPU node', (p) => { delete libTemplate(p, 'cloud-mask').nodeSelector; }, [
    `${LIB}: spec.templates[cloud-mask]: template "cloud-mask" requests 1 nvidia.com/gpu but selects no GPU compute class (set nodeSelector swoop.dev/compute-class: gpu) [scheduling]`,
  ]],
  ['GPU container with neither selector nor toleration', (p) => { delete libTemplate(p, 'cloud-mask').nodeSelector; delete libTemplate(p, 'cloud-mask').tolerations; }, [
    `${LIB}: spec.templates[cloud-mask]: template "cloud-mask" requests 1 nvidia.com/gpu but selects no GPU compute class (set nodeSelector swoop.dev/compute-class: gpu) [scheduling]`,
    `${LIB}: spec.templates[cloud-mask]: template "cloud-mask" requests 1 nvidia.com/gpu but does not tolerate the nvidia.com/gpu taint of GPU nodes (add the toleration) [scheduling]`,
  ]],
  ['GPU container on a CPU pool', (p) => { libTemplate(p, 'cloud-mask').nodeSelector['swoop.dev/compute-class'] = 'general'; }, [
    `${LIB}: spec.templates[cloud-mask]: template "cloud-mask" requests 1 nvidia.com/gpu but selects compute class "general", which has no GPUs [scheduling]`,
  ]],
  ['more GPUs than a GPU node has', (p) => { libTemplate(p, 'cloud-mask').container.resources.limits['nvidia.com/gpu'] = '8'; }, [
    `${LIB}: spec.templates[cloud-mask]: template "cloud-mask" requests 8 nvidia.com/gpu; nodes of compute class "gpu" offer at most 4 [scheduling]`,
  ]],
  ['tainted memory pool without toleration', (p) => { libTemplate(p, 'copy-assets').nodeSelector = { 'swoop.dev/compute-class': 'memory' }; }, [
    `${LIB}: spec.templates[copy-assets]: template "copy-assets" selects compute class "memory" but does not tolerate its taint swoop.dev/memory=true:NoSchedule, so it never schedules (add the toleration) [scheduling]`,
  ]],
  ['unknown and reserved compute classes', (p) => {
    libTemplate(p, 'copy-assets').nodeSelector = { 'swoop.dev/compute-class': 'highmem' };
    libTemplate(p, 'publish').nodeSelector = { 'swoop.dev/compute-class': 'system' };
    libTemplate(p, 'publish').tolerations = [{ key: 'CriticalAddonsOnly', operator: 'Exists' }];
  }, [
    `${LIB}: spec.templates[copy-assets]: template "copy-assets" selects swoop.dev/compute-class=highmem, which is not a compute class (one of system, general, memory, gpu) [scheduling]`,
    `${LIB}: spec.templates[publish]: template "publish" selects compute class "system", which is reserved for the platform, not tasks [scheduling]`,
  ]],
  ['steps: reading a step of the same group', (p) => {
    p.wf.spec.templates.push({ name: 'stepwise', steps: [[{ name: 'a', template: 'notify' }, { name: 'b', template: 'notify', when: '{{steps.a.outputs.result}} == ok' }]] });
  }, [
    `${WF}: spec.templates[stepwise].steps[0][b].when: {{steps.a.outputs.result}}: step "a" runs in group 0, not before this one (group 0); only earlier steps can be referenced [step-outputs]`,
  ]],
  ['Sensor dependency on an EventSource not in the set', (p) => { p.sensor.spec.dependencies[0].eventSourceName = 'swoop-sqs'; }, [
    `${SENSOR}: spec.dependencies[payload].eventSourceName: names EventSource/swoop-sqs, which is not in the set [sensor-dependency]`,
  ]],
  ['Sensor dependency on an event the EventSource does not define', (p) => { p.sensor.spec.dependencies[0].eventName = 'payloads'; }, [
    `${SENSOR}: spec.dependencies[payload].eventName: EventSource/swoop-ingress defines no event "payloads" (it defines: payload) [sensor-dependency]`,
  ]],
  ['conditions naming an unknown dependency', (p) => { p.sensor.spec.triggers[0].template.conditions = 'payload || (retry && payload)'; }, [
    `${SENSOR}: spec.triggers[submit].template.conditions: names dependency "retry", which spec.dependencies does not declare [trigger-conditions]`,
  ]],
  ['trigger parameter from an unknown dependency', (p) => { trigger(p).parameters[0].src.dependencyName = 'body'; }, [
    `${SENSOR}: ${TRIGGER}.parameters[0].src.dependencyName: names dependency "body", which spec.dependencies does not declare [trigger-parameters]`,
  ]],
  ['trigger submitting a WorkflowTemplate not in the set', (p) => { trigger(p).source.resource.spec.workflowTemplateRef.name = 'sentinel2-cog'; }, [
    `${SENSOR}: ${TRIGGER}.source.resource.spec.workflowTemplateRef: submits WorkflowTemplate/sentinel2-cog, which is not in the set [trigger-workflow-template]`,
  ]],
  ['trigger passing a parameter the WorkflowTemplate does not declare', (p) => { trigger(p).source.resource.spec.arguments.parameters.push({ name: 'collection', value: 'sentinel-2-l2a' }); }, [
    `${SENSOR}: ${TRIGGER}.source.resource.spec.arguments.parameters[collection]: passes parameter "collection", which WorkflowTemplate/sentinel2-cogs does not declare in spec.arguments.parameters [trigger-workflow-template]`,
  ]],
  ['trigger not passing a required parameter', (p) => { trigger(p).source.resource.spec.arguments.parameters = [{ name: 'state-url', value: 'x' }]; }, [
    `${SENSOR}: ${TRIGGER}.source.resource.spec.arguments: does not pass parameter "input", which WorkflowTemplate/sentinel2-cogs requires (it has no value) [trigger-workflow-template]`,
  ]],
  ['trigger setting a parameter slot that does not exist', (p) => { trigger(p).parameters[0].dest = 'spec.arguments.parameters.1.value'; }, [
    `${SENSOR}: ${TRIGGER}.parameters[0].dest: sets "spec.arguments.parameters.1.value" but the resource lists only 1 parameter(s) in spec.arguments.parameters, so the value lands in a parameter without a name [trigger-workflow-template]`,
  ]],
  ['EventSource naming an EventBus not in the set', (p) => { p.src.spec.eventBusName = 'jetstream'; }, [
    'EventSource/swoop-ingress: spec.eventBusName: names EventBus/jetstream, which is not in the set [event-bus]',
  ]],
  ['Sensor naming an EventBus not in the set', (p) => { p.docs.splice(p.docs.indexOf(p.bus), 1); }, [
    'EventSource/swoop-ingress: spec.eventBusName: names EventBus/default, which is not in the set [event-bus]',
    `${SENSOR}: spec.eventBusName: names EventBus/default, which is not in the set [event-bus]`,
  ]],
  ['document without a name', (p) => { p.docs.push({ apiVersion: 'v1', kind: 'ConfigMap', labels: { name: 'x' } }); }, [
    'ConfigMap/<no name>: metadata: the document has neither metadata.name nor metadata.generateName (check the indentation of metadata) [metadata]',
  ]],
];

describe('lint: broken inputs report exactly the problem', () => {
  it.each(broken)('%s', (_name, mutate, expected) => {
    expect(lintWith(mutate)).toEqual(expected);
  });
});
