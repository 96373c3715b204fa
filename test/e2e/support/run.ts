/**
 * One Workflow run of a synthesized WorkflowTemplate, driven through its lifecycle the way
 * Argo drives it: the `claim` DAG task (an HTTP template), the DAG's `when`s over the claim
 * response, the workflow-level hook whose expression holds while Running, and the HTTP
 * task(s) of the `onExit` handler. Templates are found by following the manifest, never by
 * the library's constant names, so a renamed or rewired template fails here.
 */
import {
  evaluateWhen, expressionEnv, globalVariables, inputVariables, renderHttp, renderTags, resolveParameters, sendHttp,
  type ClusterObjects, type Doc, type HttpOutcome, type HttpRequest, type Submission, type TaskOutputs,
} from './argo';
import { evaluate } from './expr';

export class ArgoRun {
  public readonly parameters: Record<string, string>;
  private claimResult?: string;

  constructor(
    public readonly template: Doc,
    public readonly run: Submission,
    private readonly cluster: ClusterObjects,
  ) {
    this.parameters = resolveParameters(template, run.arguments, cluster);
  }

  private get templates(): Doc[] {
    return this.template.spec.templates as Doc[];
  }

  private named(name: string): Doc {
    const t = this.templates.find((x) => x.name === name);
    if (!t) throw new Error(`WorkflowTemplate ${this.template.metadata.name}: no template named ${name}`);
    return t;
  }

  /** The entrypoint's DAG tasks. */
  get dagTasks(): Doc[] {
    const entry = this.named(this.template.spec.entrypoint);
    if (!entry.dag) throw new Error(`WorkflowTemplate ${this.template.metadata.name}: entrypoint ${entry.name} is not a DAG`);
    return entry.dag.tasks as Doc[];
  }

  scope(extra: { status?: string; failures?: string } = {}): Record<string, string> {
    return globalVariables(this.template, this.run, this.parameters, extra);
  }

  /** The request of the `claim` task: the first DAG task, without dependencies. */
  claimRequest(): HttpRequest {
    const task = this.dagTasks.find((t) => t.name === 'claim');
    if (!task) throw new Error(`WorkflowTemplate ${this.template.metadata.name}: the entry DAG has no claim task`);
    if (task.depends || task.dependencies) throw new Error('the claim task must not depend on anything');
    return renderHttp(this.named(task.template), this.taskScope(task, this.scope()), this.cluster);
  }

  /** The scope a DAG task's template renders in: the run's variables plus its inputs from the task's arguments. */
  private taskScope(task: Doc, scope: Record<string, string>): Record<string, string> {
    const args = Object.fromEntries(((task.arguments?.parameters ?? []) as Doc[]).map((p) => [p.name, renderTags(String(p.value), scope, `task ${task.name} argument ${p.name}`)]));
    return { ...scope, ...inputVariables(this.named(task.template), args) };
  }

  async claim(): Promise<HttpOutcome> {
    const outcome = await sendHttp(this.claimRequest());
    // The agent sets outputs.result to the response body; a failed condition fails the node.
    if (outcome.succeeded) this.claimResult = outcome.body;
    return outcome;
  }

  /** Which user tasks run, given the claim answer and the outputs of other tasks. */
  userTasksThatRun(outputs: TaskOutputs = {}): Record<string, boolean> {
    if (this.claimResult === undefined) throw new Error('claim() has not succeeded yet');
    const all = { ...outputs, claim: { result: this.claimResult } };
    return Object.fromEntries(this.dagTasks.filter((t) => t.name !== 'claim').map((t) => [t.name, evaluateWhen(t, this.scope(), all)]));
  }

  /** The hook template whose `expression` holds while the workflow runs (and not before). */
  runningHookTemplate(): Doc {
    const hooks = Object.values((this.template.spec.hooks ?? {}) as Record<string, Doc>);
    const holds = (status: string, hook: Doc) => evaluate(String(hook.expression), expressionEnv(this.scope({ status }))) === true;
    const matching = hooks.filter((h) => h.expression && holds('Running', h) && !holds('Pending', h));
    if (matching.length !== 1) throw new Error(`WorkflowTemplate ${this.template.metadata.name}: expected one hook that fires when Running, found ${matching.length}`);
    return this.named(matching[0]!.template);
  }

  runningRequest(): HttpRequest {
    const template = this.runningHookTemplate();
    return renderHttp(template, { ...this.scope({ status: 'Running' }), ...inputVariables(template) }, this.cluster);
  }

  async running(): Promise<HttpOutcome> {
    return sendHttp(this.runningRequest());
  }

  /** The HTTP templates the exit handler runs (the handler itself or its DAG's HTTP tasks). */
  /** The HTTP calls the exit handler makes: the handler itself, or its DAG's tasks whose template is HTTP. */
  exitHttpTasks(): { task: Doc; template: Doc }[] {
    const onExit = this.named(this.template.spec.onExit);
    if (onExit.http) return [{ task: { name: onExit.name, template: onExit.name }, template: onExit }];
    if (!onExit.dag) throw new Error(`onExit template ${onExit.name} is neither HTTP nor a DAG`);
    // Tasks with a templateRef run task-library pods (e.g. cleanup), never the lifecycle call.
    return (onExit.dag.tasks as Doc[]).filter((t) => t.template !== undefined).map((task) => ({ task, template: this.named(task.template) })).filter((t) => t.template.http);
  }

  completedRequest(status: 'Succeeded' | 'Failed' | 'Error', failures: string): HttpRequest {
    const http = this.exitHttpTasks();
    if (http.length !== 1) throw new Error(`WorkflowTemplate ${this.template.metadata.name}: the exit handler must post exactly one completed event, has ${http.length} HTTP tasks`);
    return renderHttp(http[0]!.template, this.taskScope(http[0]!.task, this.scope({ status, failures })), this.cluster);
  }

  async completed(status: 'Succeeded' | 'Failed' | 'Error', failures: string): Promise<HttpOutcome> {
    return sendHttp(this.completedRequest(status, failures));
  }
}

/** Drives `run` from claim to its exit handler; every request must satisfy its successCondition. */
export async function runToEnd(run: ArgoRun, phase: 'Succeeded' | 'Failed' | 'Error', failures: string): Promise<void> {
  for (const [step, send] of [['claim', () => run.claim()], ['running', () => run.running()], ['completed', () => run.completed(phase, failures)]] as const) {
    const outcome = await send();
    if (!outcome.succeeded) throw new Error(`${run.run.name}: the ${step} request failed its successCondition: HTTP ${outcome.status} ${outcome.body}`);
  }
}
