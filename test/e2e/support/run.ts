/**
 * One Workflow run of a synthesized WorkflowTemplate, driven through its lifecycle the way
 * Argo drives it: the DAG's `when`s, the workflow-level hook whose expression holds while
 * Running, and the HTTP task(s) of the `onExit` handler. The run exists because the state
 * service claimed its payload and created it (RunningPlatform.submit / deliverSubmit); there is
 * no claim task. Templates are found by following the manifest, never by the library's
 * constant names, so a renamed or rewired template fails here.
 */
import {
  evaluateWhen, expressionEnv, globalVariables, inputVariables, renderHttp, renderTags, resolveParameters, sendHttp,
  type ClusterObjects, type Doc, type HttpOutcome, type HttpRequest, type Submission, type TaskOutputs,
} from './argo';
import { evaluate } from './expr';

export class ArgoRun {
  public readonly parameters: Record<string, string>;

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

  scope(extra: { status?: string; failures?: string; outputs?: Readonly<Record<string, string>> } = {}): Record<string, string> {
    return globalVariables(this.template, this.run, this.parameters, extra);
  }

  /** The scope a DAG task's template renders in: the run's variables plus its inputs from the task's arguments. */
  private taskScope(task: Doc, scope: Record<string, string>): Record<string, string> {
    const args = Object.fromEntries(((task.arguments?.parameters ?? []) as Doc[]).map((p) => [p.name, renderTags(String(p.value), scope, `task ${task.name} argument ${p.name}`)]));
    return { ...scope, ...inputVariables(this.named(task.template), args, this.cluster) };
  }

  /** @internal for NestedDag */
  templateNamed(name: string): Doc {
    return this.named(name);
  }

  /** @internal for NestedDag */
  get clusterObjects(): ClusterObjects {
    return this.cluster;
  }

  /** A DAG task of the entry DAG whose template is a DAG (a wait step). */
  nestedDag(taskName: string): NestedDag {
    const task = this.dagTasks.find((t) => t.name === taskName);
    if (!task) throw new Error(`no DAG task ${taskName}`);
    const template = this.named(String(task.template));
    if (!template.dag) throw new Error(`task ${taskName} runs template ${template.name}, which is not a DAG`);
    const inputs = this.taskScope(task, this.scope());
    return new NestedDag(this, task, template, Object.fromEntries(Object.entries(inputs).filter(([k]) => k.startsWith('inputs.'))));
  }

  /**
   * The workflow's global outputs once the entry DAG's tasks completed with `outputs`: each
   * output parameter a task's template exports with `globalName` (dag.go adds a completed
   * task node's outputs to the global scope), by that name.
   */
  globalOutputs(outputs: TaskOutputs): Record<string, string> {
    const global: Record<string, string> = {};
    for (const task of this.dagTasks) {
      const template = typeof task.template === 'string' ? this.named(task.template) : undefined;
      for (const p of (template?.outputs?.parameters ?? []) as Doc[]) {
        const value = outputs[String(task.name)]?.parameters?.[String(p.name)];
        if (p.globalName !== undefined && value !== undefined) global[String(p.globalName)] = value;
      }
    }
    return global;
  }

  /** A DAG task's argument as the controller renders it, given earlier tasks' outputs. */
  argument(taskName: string, parameter: string, outputs: TaskOutputs): string {
    const task = this.dagTasks.find((t) => t.name === taskName)!;
    const p = ((task.arguments?.parameters ?? []) as Doc[]).find((x) => x.name === parameter);
    if (!p) throw new Error(`task ${taskName} has no argument ${parameter}`);
    const scope: Record<string, string> = { ...this.scope() };
    for (const [name, out] of Object.entries(outputs)) for (const [k, v] of Object.entries(out.parameters ?? {})) scope[`tasks.${name}.outputs.parameters.${k}`] = v;
    return renderTags(String(p.value), scope, `task ${taskName} argument ${parameter}`);
  }

  /** Which tasks run, given the outputs of other tasks. */
  userTasksThatRun(outputs: TaskOutputs = {}): Record<string, boolean> {
    // The run this answers for is the one where every step succeeds (catch conditions read tasks.X.status).
    const statuses = Object.fromEntries(this.dagTasks.map((t) => [`tasks.${t.name}.status`, 'Succeeded']));
    return Object.fromEntries(this.dagTasks.map((t) => [t.name, evaluateWhen(t, { ...this.scope(), ...statuses }, outputs)]));
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
    return renderHttp(template, { ...this.scope({ status: 'Running' }), ...inputVariables(template, {}, this.cluster) }, this.cluster);
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

  /** The exit handler's completed event; `outputs` are the workflow's global outputs (globalOutputs). */
  completedRequest(status: 'Succeeded' | 'Failed' | 'Error', failures: string, outputs: Readonly<Record<string, string>> = {}): HttpRequest {
    const http = this.exitHttpTasks();
    if (http.length !== 1) throw new Error(`WorkflowTemplate ${this.template.metadata.name}: the exit handler must post exactly one completed event, has ${http.length} HTTP tasks`);
    return renderHttp(http[0]!.template, this.taskScope(http[0]!.task, this.scope({ status, failures, outputs })), this.cluster);
  }

  async completed(status: 'Succeeded' | 'Failed' | 'Error', failures: string, outputs: Readonly<Record<string, string>> = {}): Promise<HttpOutcome> {
    return sendHttp(this.completedRequest(status, failures, outputs));
  }
}

/** A node of a nested DAG that Argo would create for a DAG task (dag.go: name `<parent node>.<task>`). */
export interface NestedNode {
  readonly name: string;
  readonly displayName: string;
  readonly templateName: string;
  readonly template: Doc;
}

/**
 * A DAG task whose template is itself a DAG (a wait step), rendered as the controller does:
 * the task's arguments become the template's inputs; its tasks' arguments are rendered with
 * those; its node names are `<run>.<task>.<inner task>` (the entry DAG's node is the run);
 * its outputs come from `valueFrom.parameter` over the inner nodes' outputs.
 */
export class NestedDag {
  constructor(private readonly run: ArgoRun, public readonly task: Doc, public readonly template: Doc, private readonly inputs: Record<string, string>) {}

  get nodes(): NestedNode[] {
    return (this.template.dag.tasks as Doc[]).map((t) => ({
      name: `${this.run.run.name}.${this.task.name}.${t.name}`,
      displayName: String(t.name),
      templateName: String(t.template),
      template: this.run.templateNamed(String(t.template)),
    }));
  }

  /** The request an inner HTTP task sends. */
  httpRequest(inner: string): HttpRequest {
    const t = (this.template.dag.tasks as Doc[]).find((x) => x.name === inner);
    if (!t) throw new Error(`template ${this.template.name} has no task ${inner}`);
    const scope = { ...this.run.scope(), ...this.inputs };
    const args = Object.fromEntries(((t.arguments?.parameters ?? []) as Doc[]).map((p) => [p.name, renderTags(String(p.value), scope, `task ${inner} argument ${p.name}`)]));
    const template = this.run.templateNamed(String(t.template));
    return renderHttp(template, { ...this.run.scope(), ...inputVariables(template, args, this.run.clusterObjects) }, this.run.clusterObjects);
  }

  /** The suspend nodes, as the controller initializes them: Running, outputs as the template declares them. */
  suspendNodes(): { id: string; name: string; displayName: string; templateName: string; type: 'Suspend'; phase: 'Running'; outputs?: any }[] {
    return this.nodes.filter((n) => n.template.suspend !== undefined).map((n) => ({
      id: `${this.run.run.name}-${n.name.length}-${n.displayName}`,
      name: n.name,
      displayName: n.displayName,
      templateName: n.templateName,
      type: 'Suspend' as const,
      phase: 'Running' as const,
      ...(n.template.outputs ? { outputs: structuredClone(n.template.outputs) } : {}),
    }));
  }

  /** The DAG's output parameters, from the inner nodes' outputs (`{{tasks.<inner>.outputs.parameters.<name>}}`). */
  outputs(inner: Readonly<Record<string, { outputs?: { parameters: { name: string; value?: string }[] } }>>): Record<string, string> {
    const scope: Record<string, string> = {};
    for (const [name, node] of Object.entries(inner)) {
      for (const p of node.outputs?.parameters ?? []) {
        if (p.value === undefined) throw new Error(`node ${name} has no value for output ${p.name} yet`);
        scope[`tasks.${name}.outputs.parameters.${p.name}`] = p.value;
      }
    }
    return Object.fromEntries(((this.template.outputs?.parameters ?? []) as Doc[]).map((p) => [p.name, renderTags(String(p.valueFrom.parameter), scope, `${this.template.name} output ${p.name}`)]));
  }
}

/** Drives a created `run` from its running hook to its exit handler; every request must satisfy its successCondition. */
export async function runToEnd(run: ArgoRun, phase: 'Succeeded' | 'Failed' | 'Error', failures: string): Promise<void> {
  for (const [step, send] of [['running', () => run.running()], ['completed', () => run.completed(phase, failures)]] as const) {
    const outcome = await send();
    if (!outcome.succeeded) throw new Error(`${run.run.name}: the ${step} request failed its successCondition: HTTP ${outcome.status} ${outcome.body}`);
  }
}
