import { App, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ContainerTask, EnvironmentValue, environmentValues, podsPerRun, synthesize, TaskLibrary, taskTokenQueueReads, TaskTokenTarget, Workflow } from '../../constructs';
import { platformValueReads } from '../../constructs/environment';
import { documentsFrom, lint } from '../../tools/lint/index';
import { validateArgoDocument } from '../support/schema';
import { HAVE_REFERENCE } from '../support/reference';

type Json = Record<string, any>;

function app(configure?: (wf: Workflow<any>, step: ContainerTask) => void) {
  const a = new App();
  const lib = new TaskLibrary(a, 'lib');
  const publish = new ContainerTask(lib, 'publish', { image: 'ghcr.io/example/publish:1.0.0', resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(128) } } });
  const wf = new Workflow(a, 'approvals', { parameters: { reviewer: { default: 'ops' } }, timeout: Duration.hours(4) });
  configure?.(wf, publish);
  return a;
}

function standard() {
  let wait: ReturnType<Workflow<any>['addWaitForCallback']> | undefined;
  const a = app((wf, publish) => {
    wait = wf.addWaitForCallback('approve', {
      send: TaskTokenTarget.http({ url: 'https://review.example.com/queue', headers: { 'X-Team': 'geo' }, auth: { secret: { name: 'review-api', key: 'authorization' } } }),
      parameters: { reviewer: wf.params.reviewer },
      heartbeat: Duration.minutes(10),
      timeout: Duration.hours(2),
    });
    wf.addStep('publish', publish, { input: wait.output });
  });
  const docs = [...synthesize(a).values()].flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as Json));
  const wt = docs.find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === 'approvals')!;
  return { docs, wt, wait: wait! };
}

describe('wf.addWaitForCallback', () => {
  it('renders a DAG task (no claim gate: the run exists only once claimed) calling an HTTP open and a suspend node, with the answer as its output', () => {
    const { wt } = standard();
    const tasks = wt.spec.templates.find((t: Json) => t.name === 'main').dag.tasks as Json[];
    const approve = tasks.find((t) => t.name === 'approve')!;
    expect(approve).toEqual({
      name: 'approve', template: 'swoop-wait-approve',
      arguments: { parameters: [{ name: 'input', value: '{{workflow.parameters.input}}' }, { name: 'param-reviewer', value: '{{workflow.parameters.reviewer}}' }] },
    });
    // the next step reads the answer's output and so waits for it
    const publish = tasks.find((t) => t.name === 'publish')!;
    expect(publish.depends).toBe('approve');
    expect(publish.arguments.parameters[0]).toEqual({ name: 'input', value: '{{tasks.approve.outputs.parameters.output}}' });

    const named = (n: string) => wt.spec.templates.find((t: Json) => t.name === n);
    expect(named('swoop-wait-approve').outputs).toEqual({ parameters: [{ name: 'output', globalName: 'swoop-wait-approve-output', valueFrom: { parameter: '{{tasks.wait.outputs.parameters.output}}' } }] });
    expect(named('swoop-wait-approve').dag.tasks.map((t: Json) => [t.name, t.template, t.depends])).toEqual([
      ['send', 'swoop-wait-approve-send', undefined], ['wait', 'swoop-wait-approve-suspend', 'send'],
    ]);
    expect(named('swoop-wait-approve-suspend')).toEqual({ name: 'swoop-wait-approve-suspend', suspend: {}, outputs: { parameters: [{ name: 'output', valueFrom: { supplied: {} } }] } });
    const send = named('swoop-wait-approve-send');
    expect(send.http.url).toBe('{{workflow.parameters.state-url}}/tasks');
    expect(send.http.headers).toEqual([
      { name: 'Content-Type', value: 'application/json' },
      { name: 'Authorization', valueFrom: { secretKeyRef: { name: 'swoop-state-tokens', key: 'writer-authorization' } } },
      { name: 'X-Swoop-Send-Authorization', valueFrom: { secretKeyRef: { name: 'review-api', key: 'authorization' } } },
    ]);
    expect(send.http.body).toBe("{{=toJson({'namespace': workflow.namespace, 'workflow': 'approvals', 'run': workflow.name, 'uid': workflow.uid, 'step': 'approve', "
      + "'node': workflow.name + '.approve.wait', 'timeoutSeconds': 7200, 'heartbeatSeconds': 600, 'input': inputs.parameters['input'], "
      + "'parameters': {'reviewer': inputs.parameters['param-reviewer'] }, "
      + "'send': {'url': 'https://review.example.com/queue', 'method': 'POST', 'headers': {'Content-Type': 'application/json', 'X-Team': 'geo' }, 'authHeader': 'Authorization' } })}}");
    expect(send.http.body.slice(0, -2)).not.toContain('}}'); // Argo ends the tag at the first "}}"
    expect(send.retryStrategy).toMatchObject({ limit: 6, retryPolicy: 'Always' });
  });

  it('is the workflow output when it is the last step, and starts no pod', () => {
    const a = app((wf) => {
      wf.addWaitForCallback('approve', { send: TaskTokenTarget.http({ url: 'http://review.example.com/q' }) });
    });
    const wf = a.node.findAll().find((c) => Workflow.isWorkflow(c)) as Workflow;
    const docs = [...synthesize(a).values()].flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as Json));
    const wt = docs.find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === 'approvals')!;
    const completed = wt.spec.templates.find((t: Json) => t.name === 'swoop-completed');
    // The exit handler is outside the DAG (tasks.* undefined there): it reads the output the step exports.
    expect(completed.http.body).toContain("workflow.status == 'Succeeded' ? workflow.outputs.parameters['swoop-wait-approve-output'] : ''");
    if (HAVE_REFERENCE) for (const d of docs) expect(validateArgoDocument(d)).toEqual([]);
    expect(lint(documentsFrom(docs))).toEqual([]);
    // default timeout: the workflow's
    expect(wt.spec.templates.find((t: Json) => t.name === 'swoop-wait-approve-send').http.body).toContain("'timeoutSeconds': 14400");
    expect(podsPerRun(wf)).toMatchObject({ pods: 1, httpSteps: 3 }); // the agent pod only: running, completed, the open
  });

  it.skipIf(!HAVE_REFERENCE)('passes the upstream schema and the offline lint', () => {
    const { docs } = standard();
    for (const d of docs) expect(validateArgoDocument(d)).toEqual([]);
    expect(lint(documentsFrom(docs))).toEqual([]);
  });

  const sqsApp = (queueUrl: string | EnvironmentValue) => app((wf, publish) => {
    const wait = wf.addWaitForCallback('approve', { send: TaskTokenTarget.sqs({ queueUrl }) });
    wf.addStep('publish', publish, { input: wait.output });
  });
  const sqsSynth = (queueUrl: string | EnvironmentValue) => {
    const docs = [...synthesize(sqsApp(queueUrl)).values()].flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as Json));
    const wt = docs.find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === 'approvals')!;
    return { docs, wt, open: (wt.spec.templates as Json[]).find((t) => t.name === 'swoop-wait-approve-send')! };
  };
  const QUEUE = 'https://sqs.us-west-2.amazonaws.com/123456789012/review-tasks';

  it('sends the token by SQS: the open reads the queue from its input parameter, carries no receiver credential, and validates and lints', () => {
    const { docs, wt, open } = sqsSynth(QUEUE);
    expect(open.inputs.parameters).toEqual([{ name: 'input' }, { name: 'sqs-queue-url', value: QUEUE }]);
    expect(open.http.body).toContain("'send': {'sqs': {'queueUrl': inputs.parameters['sqs-queue-url'] } } })}}");
    expect((open.http.headers as Json[]).map((h) => h.name)).toEqual(['Content-Type', 'Authorization']);
    // the step's DAG passes only the inputs it declares; the queue is the send template's own
    expect(wt.spec.templates.find((t: Json) => t.name === 'swoop-wait-approve').inputs.parameters).toEqual([{ name: 'input' }]);
    expect(taskTokenQueueReads(wt)).toEqual([{ resource: 'WorkflowTemplate/approvals', template: 'swoop-wait-approve-send', queueUrl: QUEUE }]);
    if (HAVE_REFERENCE) expect(validateArgoDocument(wt)).toEqual([]);
    expect(lint(documentsFrom(docs)).filter((p) => p.resource === 'WorkflowTemplate/approvals')).toEqual([]);
  });

  it('reads the SQS queue from the environment: the manifest names the ConfigMap key, never the queue, and validates and lints', () => {
    const env = environmentValues({ 'review-queue': 'the queue reviewers take tokens from' });
    const { docs, wt, open } = sqsSynth(env.value('review-queue'));
    expect(open.inputs.parameters).toEqual([{ name: 'input' }, { name: 'sqs-queue-url', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'review-queue' } } }]);
    expect(open.http.body).toContain("'send': {'sqs': {'queueUrl': inputs.parameters['sqs-queue-url'] } } })}}");
    expect(JSON.stringify(wt)).not.toContain('sqs.');
    // missingValues (and Platform at deploy) see the key like any other environment value
    expect(platformValueReads(wt)).toContain('review-queue');
    expect(taskTokenQueueReads(wt)).toEqual([{ resource: 'WorkflowTemplate/approvals', template: 'swoop-wait-approve-send', key: 'review-queue' }]);
    if (HAVE_REFERENCE) expect(validateArgoDocument(wt)).toEqual([]);
    expect(lint(documentsFrom(docs)).filter((p) => p.resource === 'WorkflowTemplate/approvals')).toEqual([]);
  });

  it('refuses a literal queueUrl SQS would not accept, naming the construct path and what to give', () => {
    const fails = (queueUrl: string) => () => synthesize(sqsApp(queueUrl));
    const base = 'https://sqs.us-west-2.amazonaws.com/123456789012';
    expect(fails('review-tasks')).toThrow('approvals/approve: send queueUrl "review-tasks" is not an SQS queue URL; give https://sqs.<region>.amazonaws.com/<account>/<queue>');
    expect(fails('https://sqs.us-west-2.amazonaws.com/1234/review')).toThrow('approvals/approve: send queueUrl "https://sqs.us-west-2.amazonaws.com/1234/review" names account "1234"; an AWS account id is 12 digits');
    expect(fails('https://sqs.uswest2.amazonaws.com/123456789012/review')).toThrow('names region "uswest2", which is not an AWS region such as us-west-2');
    expect(fails(`${base}/review.tasks`)).toThrow(`approvals/approve: send queueUrl "${base}/review.tasks" names queue "review.tasks"; a queue name holds only letters, digits, "-" and "_", and a FIFO queue's ends in ".fifo"`);
    expect(fails(`${base}/${'r'.repeat(76)}.fifo`)).toThrow('names a queue of 81 characters; SQS allows 80 (".fifo" included)');
    expect(() => synthesize(sqsApp(`${base}/${'r'.repeat(75)}.fifo`))).not.toThrow();
    expect(() => synthesize(sqsApp('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/review_tasks'))).not.toThrow();
    expect(() => synthesize(sqsApp(42 as unknown as string))).toThrow('approvals/approve: send queueUrl 42 is not an SQS queue URL');
  });

  it('refuses what cannot work, naming the construct path', () => {
    const fails = (configure: (wf: Workflow<any>) => void) => () => synthesize(app((wf) => configure(wf)));
    const url = TaskTokenTarget.http({ url: 'https://x.example.com/q' });
    expect(fails((wf) => wf.addWaitForCallback('approve', { send: url, heartbeat: Duration.hours(3), timeout: Duration.hours(2) })))
      .toThrow('approvals/approve: heartbeat (10800 s) must be shorter than the timeout (7200 s), or it never fires');
    expect(fails((wf) => wf.addWaitForCallback('approve', { send: url, timeout: Duration.hours(5) })))
      .toThrow("approvals/approve: timeout (18000 s) is longer than the workflow's timeout (14400 s), which would end the run first; shorten it or raise the workflow's timeout");
    expect(fails((wf) => wf.addWaitForCallback('approve', { send: url, heartbeat: Duration.millis(1500) })))
      .toThrow('approvals/approve: heartbeat must be a whole number of seconds, at least 1 (got 1.5)');
    expect(fails((wf) => wf.addWaitForCallback('approve', { send: TaskTokenTarget.http({ url: 'queue' }) })))
      .toThrow('approvals/approve: send url "queue" must start with http:// or https://');
    expect(fails((wf) => wf.addWaitForCallback('approve', { send: url, parameters: { Reviewer: 'x' } })))
      .toThrow('approvals/approve: parameter name "Reviewer" must be lower-case letters, digits and \'-\'');
    expect(fails((wf) => wf.addWaitForCallback('claim', { send: url }))).toThrow('reserved by the platform');
  });
});
