import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Condition, ContainerTask, EnvSource, podsPerRun, synthesize, Workflow } from '../../constructs';
import { fixture } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function documents(app: ReturnType<typeof fixture>['app']): Map<string, Json> {
  const docs = new Map<string, Json>();
  for (const content of synthesize(app).values()) {
    for (const d of parseAllDocuments(content)) {
      const doc = d.toJS() as Json;
      docs.set(`${doc.kind}/${doc.metadata.name}`, doc);
    }
  }
  return docs;
}

const dagTasks = (wf: Json) => wf.spec.templates.find((t: Json) => t.name === 'main').dag.tasks as Json[];
const task = (wf: Json, name: string) => dagTasks(wf).find((t) => t.name === name)!;
const template = (doc: Json, name: string) => doc.spec.templates.find((t: Json) => t.name === name)!;
const param = (t: Json, name: string) => t.arguments.parameters.find((p: Json) => p.name === name)?.value;

describe('ContainerTask', () => {
  it('is one WorkflowTemplate with secure defaults, typed resources and the task interface', () => {
    const f = fixture();
    new Workflow(f.app, 'wf').addStep('c', f.tasks.convert, { parameters: { asset: 'B04' } });
    const t = documents(f.app).get('WorkflowTemplate/convert')!;
    expect(t.metadata).toMatchObject({ name: 'convert', namespace: 'swoop', labels: { 'app.kubernetes.io/component': 'task', 'app.kubernetes.io/part-of': 'swoop' } });
    const main = template(t, 'main');
    expect(main.inputs.parameters.map((p: Json) => [p.name, p.value])).toEqual([
      ['input', undefined], ['output', undefined], ['asset', undefined], ['compression', 'DEFLATE'],
    ]);
    expect(main.container.args).toEqual(['cogify', '{{inputs.parameters.input}}', '{{inputs.parameters.output}}', '{{inputs.parameters.asset}}', '{{inputs.parameters.compression}}']);
    expect(main.container.env.slice(0, 2)).toEqual([
      { name: 'SWOOP_INPUT', value: '{{inputs.parameters.input}}' },
      { name: 'SWOOP_OUTPUT', value: '{{inputs.parameters.output}}' },
    ]);
    expect(main.container.resources).toEqual({ requests: { cpu: '2', memory: '4096Mi' }, limits: { memory: '4096Mi' } });
    expect(main.container.securityContext).toEqual({
      allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, readOnlyRootFilesystem: false,
    });
    expect(main.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(main.nodeSelector).toEqual({ 'swoop.dev/compute-class': 'general' });
    expect(main.tolerations).toBeUndefined();
    expect(main.retryStrategy).toEqual({ limit: 2, retryPolicy: 'Always', backoff: { duration: '10s', factor: 2, maxDuration: '600s' } });
    expect(main.outputs.parameters[0]).toEqual({ name: 'output', valueFrom: { path: '/tmp/swoop/output-url', default: '{{inputs.parameters.output}}' } });
    expect(t.spec.entrypoint).toBe('main');
  });

  it('asks for GPUs, tolerates the GPU taint and selects the GPU pool', () => {
    const f = fixture();
    const main = template(documents(f.app).get('WorkflowTemplate/mask')!, 'main');
    expect(main.container.resources.limits).toEqual({ memory: '16384Mi', 'nvidia.com/gpu': '1' });
    expect(main.nodeSelector).toEqual({ 'swoop.dev/compute-class': 'gpu' });
    expect(main.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    expect(main.outputs.artifacts).toEqual([{ name: 'mask', path: '/tmp/mask.tif', archive: { none: {} } }]);
    // It needs the `stack` artifact, which a bare `argo submit --from` cannot pass: no entrypoint.
    expect(documents(f.app).get('WorkflowTemplate/mask')!.spec.entrypoint).toBeUndefined();
  });

  it('renders limits, ephemeral storage, env references, retries, timeout and service account', () => {
    const f = fixture();
    new ContainerTask(f.lib, 'heavy', {
      image: 'ghcr.io/example/heavy:1.0.0',
      computeClass: 'memory',
      resources: {
        cpu: { request: Cpu.millis(1500), limit: Cpu.units(4) },
        memory: { request: Size.gibibytes(64), limit: Size.gibibytes(96) },
        ephemeralStorage: { request: Size.gibibytes(50), limit: Size.gibibytes(100) },
      },
      env: { TOKEN: EnvSource.secret('api', 'token'), BUCKET: EnvSource.configMap('swoop-platform', 'payload-store'), MODE: 'fast' },
      retry: { limit: 5, policy: 'OnTransientError', backoff: { delay: Duration.seconds(30), factor: 3 } },
      timeout: Duration.minutes(45),
      serviceAccountName: 'heavy-reader',
      readOnlyRootFilesystem: true,
    });
    const main = template(documents(f.app).get('WorkflowTemplate/heavy')!, 'main');
    expect(main.container.resources).toEqual({
      requests: { cpu: '1500m', memory: '65536Mi', 'ephemeral-storage': '51200Mi' },
      limits: { cpu: '4', memory: '98304Mi', 'ephemeral-storage': '102400Mi' },
    });
    expect(main.container.env.slice(2)).toEqual([
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } },
      { name: 'BUCKET', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'payload-store' } } },
      { name: 'MODE', value: 'fast' },
    ]);
    expect(main.tolerations).toEqual([{ key: 'swoop.dev/memory', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    expect(main.retryStrategy).toEqual({ limit: 5, retryPolicy: 'OnTransientError', backoff: { duration: '30s', factor: 3 } });
    expect(main.activeDeadlineSeconds).toBe(2700);
    expect(main.serviceAccountName).toBe('heavy-reader');
    expect(main.container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(main.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
  });
});

describe('Workflow', () => {
  function cogWorkflow() {
    const f = fixture();
    const wf = new Workflow(f.app, 'cog', {
      parameters: { compression: { default: 'DEFLATE', enum: ['DEFLATE', 'ZSTD'], description: 'codec' } },
      timeout: Duration.hours(2),
      ttl: { afterSuccess: Duration.hours(1) },
      version: '2.0.0',
    });
    const split = wf.addStep('split', f.tasks.split);
    const convert = wf.addStep('convert', f.tasks.convert, {
      input: split.output,
      forEach: split.outputs.parameters.assets,
      parameters: { asset: wf.item, compression: wf.params.compression },
    });
    const merge = wf.addStep('merge', f.tasks.merge, { input: split.output, parameters: { parts: convert.output } });
    wf.addStep('publish', f.tasks.publish, { input: merge.output, when: wf.params.compression.equals('ZSTD') });
    return { ...f, wf, doc: documents(f.app).get('WorkflowTemplate/cog')! };
  }

  it('declares the standard parameters, then its own', () => {
    const { doc, wf } = cogWorkflow();
    expect(doc.spec.arguments.parameters.map((p: Json) => p.name)).toEqual(wf.parameterNames);
    expect(wf.parameterNames).toEqual(['input', 'payload-id', 'parent-run', 'replace', 'payload-store', 'state-url', 'compression']);
    const byName = Object.fromEntries(doc.spec.arguments.parameters.map((p: Json) => [p.name, p]));
    expect(byName.input.value).toBeUndefined();
    expect(byName['payload-id'].value).toBe('');
    expect(byName.replace).toMatchObject({ value: 'false', enum: ['false', 'true'] });
    expect(byName['payload-store'].valueFrom).toEqual({ configMapKeyRef: { name: 'swoop-platform', key: 'payload-store' } });
    expect(byName['state-url'].valueFrom).toEqual({ configMapKeyRef: { name: 'swoop-platform', key: 'state-url' } });
    expect(byName.compression).toEqual({ name: 'compression', value: 'DEFLATE', enum: ['DEFLATE', 'ZSTD'], description: 'codec' });
  });

  it('starts with the first step (no claim task: the state service claimed before creating the run) and wires data flow into depends', () => {
    const { doc } = cogWorkflow();
    expect(dagTasks(doc).map((t) => [t.name, t.depends])).toEqual([
      ['split', undefined], ['convert', 'split'], ['merge', 'convert && split'], ['publish', 'merge'],
    ]);
    expect(doc.spec.templates.map((t: Json) => t.name)).not.toContain('swoop-claim');
    expect(task(doc, 'split').when).toBeUndefined();
    expect(task(doc, 'publish').when).toBe(`{{=workflow.parameters['compression'] == 'ZSTD'}}`);
    expect(task(doc, 'split').templateRef).toEqual({ name: 'split', template: 'main' });
    expect(task(doc, 'publish').templateRef).toEqual({ name: 'publish', template: 'main' });
  });

  it('fans out with withParam, one output per item, and fans in with the aggregated list', () => {
    const { doc } = cogWorkflow();
    const convert = task(doc, 'convert');
    expect(convert.withParam).toBe('{{tasks.split.outputs.parameters.assets}}');
    expect(param(convert, 'input')).toBe('{{workflow.parameters.payload-store}}/{{workflow.name}}/split/output.json');
    expect(param(convert, 'output')).toBe('{{workflow.parameters.payload-store}}/{{workflow.name}}/convert/{{=sprig.sha1sum(toJson(item))}}/output.json');
    expect(param(convert, 'asset')).toBe('{{item}}');
    expect(param(convert, 'compression')).toBe('{{workflow.parameters.compression}}');
    expect(param(task(doc, 'merge'), 'parts')).toBe('{{tasks.convert.outputs.parameters.output}}');
  });

  it('runs literal items with withItems', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'bands');
    wf.addStep('convert', f.tasks.convert, { forEach: ['B04', 'B08'], parameters: { asset: wf.item } });
    const convert = task(documents(f.app).get('WorkflowTemplate/bands')!, 'convert');
    expect(convert.withItems).toEqual(['B04', 'B08']);
    expect(convert.withParam).toBeUndefined();
    expect(podsPerRun(wf)).toMatchObject({ pods: 3, naivePods: 4 });
  });

  it('sets timeout, pod GC, TTL, artifact repository, service account and labels', () => {
    const { doc } = cogWorkflow();
    const labels = {
      'app.kubernetes.io/name': 'cog', 'app.kubernetes.io/component': 'workflow', 'app.kubernetes.io/part-of': 'swoop',
      'app.kubernetes.io/managed-by': 'swoop-platform', 'app.kubernetes.io/version': '2.0.0',
    };
    expect(doc.metadata.labels).toEqual(labels);
    expect(doc.spec).toMatchObject({
      entrypoint: 'main',
      activeDeadlineSeconds: 7200,
      podGC: { strategy: 'OnPodSuccess' },
      ttlStrategy: { secondsAfterSuccess: 3600, secondsAfterFailure: 604800 },
      artifactRepositoryRef: { configMap: 'artifact-repositories', key: 'default' },
      serviceAccountName: 'swoop-workflow',
      workflowMetadata: { labels },
      podMetadata: { labels },
    });
  });

  it('reports running with a lifecycle hook and completed once from the exit handler, next to user exit steps', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    const split = wf.addStep('split', f.tasks.split);
    wf.addStep('merge', f.tasks.merge, { input: split.output, parameters: { parts: split.outputs.parameters.assets } });
    wf.addExitStep('notify', f.tasks.merge, { parameters: { parts: `status=${wf.status}` } });
    const doc = documents(f.app).get('WorkflowTemplate/wf')!;
    expect(doc.spec.hooks).toEqual({ running: { expression: 'workflow.status == "Running"', template: 'swoop-running' } });
    expect(doc.spec.onExit).toBe('swoop-exit');
    const exit = template(doc, 'swoop-exit').dag.tasks as Json[];
    expect(exit.map((t) => t.name)).toEqual(['completed', 'notify']);
    expect(exit.filter((t) => t.template === 'swoop-completed')).toHaveLength(1);
    expect(exit[1]).toMatchObject({ templateRef: { name: 'merge', template: 'main' } });
    expect(exit[1].when).toBeUndefined();
    expect(param(exit[1], 'parts')).toBe('status={{workflow.status}}');

    for (const name of ['swoop-running', 'swoop-completed']) {
      const t = template(doc, name);
      expect(t.http.method).toBe('POST');
      expect(t.http.headers).toContainEqual({ name: 'Authorization', valueFrom: { secretKeyRef: { name: 'swoop-state-tokens', key: 'writer-authorization' } } });
      expect(t.retryStrategy.limit).toBeGreaterThan(0);
    }
    const completed = template(doc, 'swoop-completed').http;
    expect(completed.url).toBe('{{workflow.parameters.state-url}}/events');
    expect(completed.body).toContain("'type': 'completed'");
    expect(completed.body).toContain("'failures': workflow.failures ?? ''");
    // The final step's output URL is reported on success.
    expect(completed.body).toContain("'output': workflow.status == 'Succeeded' ? workflow.parameters['payload-store'] + '/' + workflow.name + '/merge/output.json' : ''");
    expect(template(doc, 'swoop-running').http.body).toContain("'type': 'running'");
    // The running event carries the run's deadline (default timeout 6 h) as a literal number;
    // the completed event does not.
    expect(doc.spec.activeDeadlineSeconds).toBe(21600);
    expect(template(doc, 'swoop-running').http.body).toMatch(/, 'deadlineSeconds': 21600\}\)\}\}$/);
    expect(completed.body).not.toContain('deadlineSeconds');
  });

  it('sends a custom timeout as the running event\'s deadlineSeconds', () => {
    const f = fixture();
    new Workflow(f.app, 'wf', { timeout: Duration.minutes(90) }).addStep('split', f.tasks.split);
    const doc = documents(f.app).get('WorkflowTemplate/wf')!;
    expect(doc.spec.activeDeadlineSeconds).toBe(5400);
    expect(template(doc, 'swoop-running').http.body).toContain("'deadlineSeconds': 5400}");
  });

  it('combines conditions and depends on what a condition reads', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf', { parameters: { mode: { default: 'full' } } });
    const mask = wf.addStep('stack', f.tasks.stack);
    const m = wf.addStep('mask', f.tasks.mask, { artifacts: { stack: mask.outputs.artifacts.stack } });
    const cloudy = m.outputs.parameters['cloud-cover'].equals('100');
    wf.addStep('small', f.tasks.small, { when: cloudy.not().and(wf.params.mode.notEquals('dry-run')).or(Condition.expression('true')) });
    const doc = documents(f.app).get('WorkflowTemplate/wf')!;
    expect(task(doc, 'mask').arguments.artifacts).toEqual([{ name: 'stack', from: '{{tasks.stack.outputs.artifacts.stack}}' }]);
    expect(task(doc, 'mask').depends).toBe('stack');
    expect(task(doc, 'small').depends).toBe('mask');
    expect(task(doc, 'small').when).toBe(
      `{{=((!(tasks['mask'].outputs.parameters['cloud-cover'] == '100')) && (workflow.parameters['mode'] != 'dry-run')) || (true)}}`,
    );
  });

  it('runs service tasks as HTTP steps against a warm Deployment + Service', () => {
    const f = fixture();
    new Workflow(f.app, 'wf').addStep('publish', f.tasks.publish, { parameters: { collection: 'landsat-c2-l2' } });
    const docs = documents(f.app);
    const http = template(docs.get('WorkflowTemplate/publish')!, 'main');
    expect(http.container).toBeUndefined();
    expect(http.http).toEqual({
      url: 'http://publish.swoop.svc.cluster.local:8080/publish',
      method: 'POST',
      headers: [{ name: 'Content-Type', value: 'application/json' }],
      body: "{{=toJson({'input': inputs.parameters.input, 'output': inputs.parameters.output, 'parameters': { 'collection': inputs.parameters['collection'] } })}}",
      successCondition: 'response.statusCode >= 200 && response.statusCode < 300',
      timeoutSeconds: 300,
    });
    const deployment = docs.get('Deployment/publish')!;
    const pod = deployment.spec.template.spec;
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.nodeSelector).toEqual({ 'swoop.dev/compute-class': 'general' });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true });
    expect(pod.containers[0].resources.requests).toEqual({ cpu: '250m', memory: '512Mi' });
    expect(docs.get('Service/publish')!.spec.ports).toEqual([{ port: 8080, targetPort: 8080 }]);
  });

  it('groups containers into one containerSet pod with container dependencies', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    const g = wf.addGroup('prepare');
    const a = g.addStep('validate', f.tasks.small);
    const b = g.addStep('convert', f.tasks.convert, { input: a.output, parameters: { asset: 'B04' } });
    wf.addStep('publish', f.tasks.publish, { input: b.output });
    const doc = documents(f.app).get('WorkflowTemplate/wf')!;
    expect(task(doc, 'prepare')).toMatchObject({ template: 'group-prepare' });
    expect(task(doc, 'prepare').depends).toBeUndefined();
    expect(task(doc, 'publish').depends).toBe('prepare');
    expect(param(task(doc, 'publish'), 'input')).toBe('{{workflow.parameters.payload-store}}/{{workflow.name}}/convert/output.json');
    expect(param(task(doc, 'prepare'), 'convert-input')).toBe('{{workflow.parameters.payload-store}}/{{workflow.name}}/validate/output.json');
    const group = template(doc, 'group-prepare');
    const [first, second] = group.containerSet.containers;
    expect(first.name).toBe('validate');
    expect(first.dependencies).toBeUndefined();
    expect(second).toMatchObject({ name: 'convert', dependencies: ['validate'] });
    expect(second.args).toContain('{{inputs.parameters.convert-asset}}');
    expect(second.env[0]).toEqual({ name: 'SWOOP_INPUT', value: '{{inputs.parameters.convert-input}}' });
    expect(group.inputs.parameters.map((p: Json) => p.name)).toEqual([
      'validate-input', 'validate-output', 'convert-input', 'convert-output', 'convert-asset', 'convert-compression',
    ]);
    expect(group.nodeSelector).toEqual({ 'swoop.dev/compute-class': 'general' });
    expect(podsPerRun(wf)).toEqual({ workflow: 'wf', pods: 2, naivePods: 5, assumedFanOut: 10, httpSteps: 3, mapPods: 0 });
  });

  it('keeps Argo reachable: spec overrides, step overrides and patches', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf', { parallelism: 3 });
    wf.addStep('a', f.tasks.small, { overrides: { continueOn: { error: true } } });
    wf.addSpecOverride('priority', 10);
    wf.addSpecOverride('podDisruptionBudget.minAvailable', 1);
    const doc = documents(f.app).get('WorkflowTemplate/wf')!;
    expect(doc.spec.parallelism).toBe(3);
    expect(doc.spec.priority).toBe(10);
    expect(doc.spec.podDisruptionBudget).toEqual({ minAvailable: 1 });
    expect(task(doc, 'a').continueOn).toEqual({ error: true });
  });

  it('exposes the surface the events layer uses', () => {
    const f = fixture();
    const a = new Workflow(f.app, 'a', { parameters: { x: {} } });
    const b = new Workflow(f.app, 'b', { name: 'bee', namespace: 'science' });
    const c = new Workflow(f.app, 'c');
    expect(Workflow.isWorkflow(a)).toBe(true);
    expect(Workflow.isWorkflow(f.tasks.split)).toBe(false);
    expect(a.then(b, { filter: '@.id' })).toBe(b);
    const both = [b, c] as const;
    expect(a.then(both)).toBe(both);
    expect(a.chainLinks).toEqual([{ to: b, filter: '@.id' }, { to: b }, { to: c }]);
    expect([b.templateName, b.namespace, a.namespace]).toEqual(['bee', 'science', 'swoop']);
    expect(a.parameterNames).toContain('x');
  });
});
