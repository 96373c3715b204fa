import { Construct } from 'constructs';
import { addCatchers, catchConditions, catchProblems, dependsTerm, type Catcher } from './catch';
import { checkBoolean, describeValue, listed, strictRecord } from './checks';
import { failAt } from './errors';
import { conditionProblems, renderedTaskProblems } from './expressions/step-checks';
import { dnsLabelProblem } from './names';
import { INPUT_PARAM, OUTPUT_PARAM, PAYLOAD_STORE_KEY } from './platform';
import { ArtifactRef, Condition, ItemRef, JoinRef, ListRef, Ref, ScopedRef, index, render, singleValueDescription, type Producer, type Value } from './refs';
import type { InputArtifacts, InputParameters, None, OutputArtifacts, OutputParameters, Task } from './task';

type AnyTask = Task<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts>;

type RequiredParameterKeys<IP> = { [K in keyof IP]-?: IP[K] extends { readonly default: string } ? never : K }[keyof IP];
type RequiredArtifactKeys<IA> = { [K in keyof IA]-?: IA[K] extends { readonly optional: true } ? never : K }[keyof IA];

/** Arguments for a task's input parameters: required ones (no default) must be given. */
export type ParameterArgs<IP> = { readonly [K in RequiredParameterKeys<IP>]: Value } & {
  readonly [K in Exclude<keyof IP, RequiredParameterKeys<IP>>]?: Value;
};
/** Arguments for a task's input artifacts: other steps' output artifacts. */
export type ArtifactArgs<IA> = { readonly [K in RequiredArtifactKeys<IA>]: ArtifactRef } & {
  readonly [K in Exclude<keyof IA, RequiredArtifactKeys<IA>>]?: ArtifactRef;
};

/** Options every step takes, whatever its task. */
export interface StepOptions {
  /** The input payload. @default the workflow's `input` parameter */
  readonly input?: Value;
  /** Run only when the condition holds (skipped otherwise). @default always */
  readonly when?: Condition;
  /**
   * Fan out: one run per item of a value declared as a list (`withParam`: an output or
   * workflow parameter with `list: true`, a fan-out's `.output`) or of literal items
   * (`withItems`); read the item with `wf.item`. @default no fan-out
   */
  readonly forEach?: ListRef | readonly string[];
  /** Steps to wait for besides those whose outputs this step reads. @default none */
  readonly dependsOn?: readonly DagNode[];
  /** Let the workflow continue when this step fails. @default false */
  readonly continueOnFailure?: boolean;
  /** Handlers of this step's failures, first match wins (Step Functions Catch; constructs/catch.ts). @default none */
  readonly catch?: readonly Catcher[];
  /** Escape hatch: fields merged into the rendered Argo DAG task. @default none */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

type ParametersProp<IP> = [RequiredParameterKeys<IP>] extends [never]
  ? { readonly parameters?: ParameterArgs<IP> }
  : { readonly parameters: ParameterArgs<IP> };
type ArtifactsProp<IA> = [RequiredArtifactKeys<IA>] extends [never]
  ? { readonly artifacts?: ArtifactArgs<IA> }
  : { readonly artifacts: ArtifactArgs<IA> };

export type StepProps<IP, IA> = StepOptions & ParametersProp<IP> & ArtifactsProp<IA>;
/** `props` is optional exactly when the task has no required input. */
export type StepArgs<IP, IA> = [RequiredParameterKeys<IP> | RequiredArtifactKeys<IA>] extends [never]
  ? [props?: StepProps<IP, IA>]
  : [props: StepProps<IP, IA>];

/** What a DAG node needs from its workflow. */
export interface WorkflowContext {
  readonly node: Construct['node'];
  readonly namespace: string;
  readonly declaredParameterNames: readonly string[];
  /** The values a `{{variable}}` can take when the workflow knows them (a parameter's enum). */
  knownValues(variable: string): readonly string[] | undefined;
  /** Reserves a step name (names also name output locations, so they are unique per workflow). */
  claimStepName(name: string, scope: Construct): void;
  /** Records a DAG node under its name. */
  register(node: DagNode): void;
  /** The node of that name, main DAG or exit handler. */
  lookup(name: string): DagNode | undefined;
  /**
   * Where a step of this DAG writes its output payload (URL and expression), when not the
   * workflow's `<payload-store>/<run>/<step>/output.json` (a map iteration's steps). @default the workflow's
   */
  readonly outputLocation?: (stepName: string) => { readonly url: string; readonly expression: string };
  /** Why a node of this DAG cannot read a producer outside it, and what to do instead. @default another workflow's */
  readonly foreignRead?: (producer: Producer) => string;
}

export const CLAIM_TASK = 'claim';
export const RESERVED_STEP_NAMES = new Set([CLAIM_TASK, 'main', 'wait', 'init']);

/** `{{workflow.parameters.payload-store}}/{{workflow.name}}/<step>/output.json`, plus an item hash under a fan-out. */
export function outputUrl(stepName: string, fanOut: boolean): string {
  const item = fanOut ? '/{{=sprig.sha1sum(toJson(item))}}' : '';
  return `{{workflow.parameters.${PAYLOAD_STORE_KEY}}}/{{workflow.name}}/${stepName}${item}/output.json`;
}

export function outputUrlExpression(stepName: string): string {
  return `${index('workflow.parameters', PAYLOAD_STORE_KEY)} + '/' + workflow.name + '/${stepName}/output.json'`;
}

const TASK_TAG = /\{\{tasks\.([^.}]+)\.outputs\.(parameters|artifacts)\.([^}]+)\}\}/g;
const WORKFLOW_PARAM_TAG = /\{\{workflow\.parameters\.([^}]+)\}\}/g;

/** A node of a workflow's DAG: a step, or a group of containers sharing one pod. */
export abstract class DagNode extends Construct implements Producer {
  public readonly name: string;
  public readonly path: string;
  public readonly workflowPath: string;
  protected readonly context: WorkflowContext;
  protected readonly options: StepOptions;
  private readonly extraDependencies: DagNode[] = [];

  protected constructor(scope: Construct, context: WorkflowContext, name: string, options: StepOptions) {
    // Checked before the node joins the tree, so a step whose props throw leaves no half-built node behind.
    checkStepOptions(scope.node.path ? `${scope.node.path}/${name}` : name, options);
    context.claimStepName(name, scope);
    super(scope, name);
    this.name = name;
    this.path = this.node.path;
    this.workflowPath = context.node.path;
    this.context = context;
    this.options = options;
    this.extraDependencies.push(...(options.dependsOn ?? []));
    context.register(this);
    if (options.catch) addCatchers(this, options.catch);
    this.node.addValidation({ validate: () => this.validateNode() });
  }

  /**
   * Runs `handler` instead of the steps after this one when this step fails with a matching
   * error (`on`: declared error names, `Failed`, `Error`; default any failure): a caught,
   * handled failure ends the run SUCCESSFUL, a failing handler FAILED. Returns this step.
   */
  public onFailure(handler: DagNode, options: { readonly on?: readonly string[] } = {}): this {
    addCatchers(this, [{ ...options, then: handler }]);
    return this;
  }

  /** Runs after `nodes` even though it reads none of their outputs. */
  public addDependency(...nodes: DagNode[]): this {
    this.extraDependencies.push(...nodes);
    return this;
  }

  /** Whether the node runs only under a condition of its own (`when`). */
  public get conditional(): boolean {
    return this.options.when !== undefined;
  }

  public get fanOut(): boolean {
    return this.options.forEach !== undefined;
  }

  /** Literal fan-out items, when the list is known at synth time. */
  public get literalItems(): readonly string[] | undefined {
    const f = this.options.forEach;
    return Array.isArray(f) ? f : undefined;
  }

  /** Every value this node reads (arguments, condition, fan-out list). */
  public abstract get refs(): (Ref | ArtifactRef)[];

  /** Literal argument strings (not refs), scanned for template tags written by hand. */
  protected abstract get argumentTexts(): string[];

  /** The DAG nodes this node waits for: explicit ones, and those whose outputs it reads (as refs or as hand-written tags). */
  public get dependencies(): DagNode[] {
    const found = new Map<string, DagNode>();
    for (const d of this.extraDependencies) found.set(d.name, d);
    for (const ref of this.refs) {
      const producer = ref instanceof Ref ? ref.dependency ?? ref.producer : ref.producer;
      if (producer instanceof DagNode && producer !== this && producer.workflowPath === this.workflowPath) {
        found.set(producer.name, producer);
      }
    }
    for (const text of this.argumentTexts) {
      for (const [, stepName] of text.matchAll(TASK_TAG)) {
        const producer = this.context.lookup(stepName);
        if (producer && producer !== this) found.set(producer.name, producer);
      }
    }
    // Names are unique (the keys of `found`), so no two compare equal.
    return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** The Argo DAG task. No claim gate: runs exist only for claimed payloads (POST /submit). @internal */
  public renderTask(): Record<string, unknown> {
    const deps = this.dependencies.map((d) => dependsTerm(this, d));
    const conditions = [this.options.when?.expression, ...catchConditions(this)].filter((c): c is string => !!c);
    const forEach = this.options.forEach;
    const task: Record<string, unknown> = {
      name: this.name,
      ...this.renderCall(),
      ...(deps.length ? { depends: deps.join(' && ') } : {}),
      ...(conditions.length ? { when: `{{=${conditions.length > 1 ? conditions.map((c) => `(${c})`).join(' && ') : conditions[0]}}}` } : {}),
      ...(forEach === undefined ? {} : Array.isArray(forEach) ? { withItems: [...forEach] } : { withParam: (forEach as Ref).text }),
      ...(this.options.continueOnFailure ? { continueOn: { failed: true } } : {}),
    };
    return { ...task, ...(this.options.overrides ?? {}) };
  }

  /** `template`/`templateRef` and `arguments` of the DAG task. */
  protected abstract renderCall(): Record<string, unknown>;

  /** Step-specific problems. */
  protected abstract validateSpecific(): string[];

  private validateNode(): string[] {
    const errors: string[] = [];
    const nameProblem = dnsLabelProblem('step name', this.name);
    if (nameProblem) errors.push(nameProblem);
    if (RESERVED_STEP_NAMES.has(this.name) || this.name.startsWith('swoop-') || this.name.startsWith('group-')) {
      errors.push(`step name "${this.name}" is reserved by the platform (claim, main, wait, init, swoop-*, group-*); rename the step`);
    }
    if (Array.isArray(this.options.forEach) && this.options.forEach.length === 0) {
      errors.push('forEach is an empty list, so the step would never run; give it items or drop forEach');
    }
    if (this.options.input instanceof Ref && this.options.input.kind === 'step-payload-list') {
      errors.push(
        `input is the fan-out output of step "${this.options.input.producer?.name}" (a JSON list of output URLs); ` +
          'pass that list as a parameter and give input a single payload',
      );
    }
    for (const d of this.extraDependencies) {
      if (d.workflowPath !== this.workflowPath) {
        errors.push(`depends on step "${d.name}" of another workflow (${d.workflowPath}); a step can only wait for steps of its own workflow`);
      }
    }
    for (const ref of this.refs) {
      const producer = ref instanceof Ref ? ref.dependency ?? ref.producer : ref.producer;
      if (producer && producer.workflowPath !== this.workflowPath) {
        errors.push(
          this.context.foreignRead?.(producer) ??
            `reads an output of step "${producer.name}" of another workflow (${producer.workflowPath}); ` +
              'workflows exchange payloads through then() chains, not step outputs',
        );
      }
      if (ref instanceof ScopedRef && ref.scopePath !== this.workflowPath) {
        errors.push(`reads ${ref.text}, a value of ${ref.scopeName}, outside it; only that iteration's steps (iteration.addStep) can read it`);
      }
      if (ref instanceof ItemRef && !this.fanOut) {
        errors.push(`uses ${ref.text} but has no forEach; add forEach or remove the item reference`);
      }
    }
    errors.push(...this.validateTags());
    errors.push(...catchProblems(this));
    const conditionIssues = this.options.when ? conditionProblems(this.options.when.expression) : [];
    errors.push(...conditionIssues);
    // The rendered when is checked as Argo evaluates it once the condition itself is sound (one problem, not two).
    const known = conditionIssues.length ? undefined : (variable: string) => this.context.knownValues(variable);
    errors.push(...renderedTaskProblems(this.renderTask(), this.options.overrides?.when === undefined, known));
    errors.push(...this.validateSpecific());
    return errors;
  }

  /** Hand-written `{{tasks...}}` / `{{workflow.parameters...}}` tags must point at something that exists. */
  private validateTags(): string[] {
    const errors: string[] = [];
    for (const text of this.argumentTexts) {
      for (const [, stepName, kind, outputName] of text.matchAll(TASK_TAG)) {
        const producer = this.context.lookup(stepName);
        if (!producer) {
          errors.push(`reads {{tasks.${stepName}.outputs.${kind}.${outputName}}} but the workflow has no step "${stepName}"; name an existing step (or use its outputs object)`);
        } else if (!(producer instanceof Step)) {
          // A group, map or wait step declares no task outputs a tag could be checked against.
          errors.push(`reads {{tasks.${stepName}.outputs.${kind}.${outputName}}}, but "${stepName}" is a ${producer.constructor.name}, not a task step, so synth cannot check the tag; read the typed reference it offers instead (its output, or its steps' outputs)`);
        } else if (!producer.declares(kind as 'parameters' | 'artifacts', outputName)) {
          errors.push(`reads output ${kind === 'parameters' ? 'parameter' : 'artifact'} "${outputName}" of step "${stepName}", which its task "${producer.task.taskName}" does not declare; read a declared output or declare it in the task's outputs`);
        }
      }
      for (const [, name] of text.matchAll(WORKFLOW_PARAM_TAG)) {
        if (!this.context.declaredParameterNames.includes(name)) {
          errors.push(`reads {{workflow.parameters.${name}}} but the workflow declares no parameter "${name}"; declare it in the workflow's parameters`);
        }
      }
    }
    return errors;
  }
}

/** Step options checked when the step is added, for callers without the type checker. @internal */
export function checkStepOptions(path: string, options: StepOptions): void {
  if (typeof options !== 'object' || options === null) failAt(path, `the step's props are ${describeValue(options)}; give an object`);
  const o = options as Record<string, unknown>;
  if ('input' in o && typeof o.input !== 'string' && !(o.input instanceof Ref)) {
    failAt(path, `input is ${describeValue(o.input)}; pass a step's output (step.output), a reference (wf.params.x) or a string, or leave input out for the workflow input`);
  }
  if (o.when !== undefined && !(o.when instanceof Condition)) {
    failAt(path, `when is ${describeValue(o.when)}, not a Condition; use ref.equals('x'), ref.isNotEmpty() or Condition.expression('...', ...refs)`);
  }
  const forEach = o.forEach;
  if (forEach !== undefined && !(forEach instanceof Ref) && !(Array.isArray(forEach) && forEach.every((s) => typeof s === 'string'))) {
    failAt(path, `forEach is ${describeValue(forEach)}, not a reference or a list of strings; use a list output (step.outputs.parameters.x) or ['a', 'b']`);
  }
  const single = forEach instanceof Ref ? singleValueDescription(forEach) : undefined;
  if (single !== undefined) {
    failAt(
      path,
      `forEach is ${single}, not a list, so Argo would fail the run parsing it as withParam; ` +
        'fan out over a value declared as a list (list: true on the output or workflow parameter that holds a JSON list) or over literal items',
    );
  }
  if (o.dependsOn !== undefined && !(Array.isArray(o.dependsOn) && o.dependsOn.every((d) => d instanceof DagNode))) {
    failAt(path, `dependsOn is ${describeValue(o.dependsOn)}, not a list of steps; give the steps to wait for, e.g. [split]`);
  }
  checkBoolean(path, 'continueOnFailure', o.continueOnFailure);
}

export function checkArguments(task: AnyTask, parameters: Record<string, Value>, artifacts: Record<string, ArtifactRef>): string[] {
  const errors: string[] = [];
  const declared = Object.keys(task.inputParameters);
  for (const name of task.requiredParameters) {
    if (parameters[name] === undefined) {
      errors.push(`missing required input parameter "${name}" of task "${task.taskName}"; pass it in parameters`);
    }
  }
  for (const [name, value] of Object.entries(parameters)) {
    if (!declared.includes(name)) {
      errors.push(`task "${task.taskName}" declares no input parameter "${name}" (declared: ${declared.join(', ') || 'none'}); pass only declared parameters or declare it in the task's inputs`);
    } else if (typeof value !== 'string' && !(value instanceof Ref)) {
      errors.push(`input parameter "${name}" must be a string or a reference (step.outputs.parameters.x, wf.params.x, wf.item); an artifact goes in artifacts`);
    }
  }
  const declaredArtifacts = Object.entries(task.inputArtifacts);
  for (const [name, spec] of declaredArtifacts) {
    if (!spec.optional && artifacts[name] === undefined) {
      errors.push(`missing required input artifact "${name}" of task "${task.taskName}"; pass another step's output artifact in artifacts`);
    }
  }
  for (const [name, value] of Object.entries(artifacts)) {
    if (!task.inputArtifacts[name]) errors.push(`task "${task.taskName}" declares no input artifact "${name}"; pass only declared artifacts or declare it in the task's inputs`);
    else if (!(value instanceof ArtifactRef)) errors.push(`input artifact "${name}" must be another step's output artifact (step.outputs.artifacts.x)`);
  }
  return errors;
}

/**
 * A node that calls a platform template of its own (Map, wait-for-callback) with the step's
 * input payload and its task parameters as `param-<name>`: the refs, the texts the expression
 * checks read, and the DAG call are the same for every such node.
 */
export abstract class PlatformCallNode extends DagNode {
  protected abstract readonly input: Value;
  protected abstract readonly parameters: Record<string, Value>;
  public abstract readonly templateName: string;

  public get refs() {
    return refsOf({ ...this.options, input: this.input }, this.parameters, {});
  }

  protected get argumentTexts(): string[] {
    return [this.input, ...Object.values(this.parameters)].filter((v): v is string => typeof v === 'string');
  }

  protected renderCall(): Record<string, unknown> {
    return {
      template: this.templateName,
      arguments: {
        parameters: [
          { name: 'input', value: render(this.input) },
          ...Object.entries(this.parameters).map(([name, value]) => ({ name: `param-${name}`, value: render(value) })),
        ],
      },
    };
  }
}

export function refsOf(options: StepOptions, parameters: Record<string, Value>, artifacts: Record<string, ArtifactRef>): (Ref | ArtifactRef)[] {
  const refs: (Ref | ArtifactRef)[] = [];
  if (options.input instanceof Ref) refs.push(options.input);
  for (const v of Object.values(parameters)) if (v instanceof Ref) refs.push(v);
  refs.push(...Object.values(artifacts));
  if (options.when) refs.push(...options.when.refs);
  if (options.forEach instanceof Ref) refs.push(options.forEach);
  // A join reads every branch it joins: the step waits for each of them.
  return refs.flatMap((r) => (r instanceof JoinRef ? [r, ...r.sources] : [r]));
}

/** Typed handles on a step's outputs. */
export interface StepOutputs<OP, OA> {
  /** Declared output parameters; one declared with `list: true` is a ListRef (fan out over it). */
  readonly parameters: { readonly [K in keyof OP]: OP[K] extends { readonly list: true } ? ListRef : Ref };
  readonly artifacts: { readonly [K in keyof OA]: ArtifactRef };
}

/** A task invocation in a workflow's DAG (`templateRef` to the task library). */
export class Step<OP extends OutputParameters = None, OA extends OutputArtifacts = None> extends DagNode {
  public readonly task: AnyTask;
  /** The output payload URL, for the next step's `input`; under a fan-out, the JSON list of every item's URL. */
  public readonly output: Ref;
  public readonly outputs: StepOutputs<OP, OA>;
  private readonly parameters: Record<string, Value>;
  private readonly artifacts: Record<string, ArtifactRef>;
  private readonly defaultInput: Value;

  /** @internal use Workflow.addStep */
  constructor(scope: Construct, context: WorkflowContext, name: string, task: AnyTask, props: StepProps<InputParameters, InputArtifacts>, defaultInput: Value) {
    super(scope, context, name, props);
    this.task = task;
    this.defaultInput = defaultInput;
    this.parameters = { ...((props.parameters ?? {}) as Record<string, Value>) };
    this.artifacts = { ...((props.artifacts ?? {}) as Record<string, ArtifactRef>) };
    const tasks = `tasks.${name}`;
    const expr = index('tasks', name);
    const location = context.outputLocation?.(name) ?? { url: outputUrl(name, false), expression: outputUrlExpression(name) };
    this.output = this.fanOut
      ? new ListRef(`{{${tasks}.outputs.parameters.${OUTPUT_PARAM}}}`, `${expr}.outputs.parameters.${OUTPUT_PARAM}`, 'step-payload-list', this)
      : new Ref(location.url, location.expression, 'step-payload', this);
    // Unknown names throw: an `undefined` here would become the workflow input and drop the dependency.
    const undeclared = (kind: 'parameter' | 'artifact', declared: string[]) => (output: string): never =>
      failAt(
        this.path,
        `step "${name}" has no output ${kind} "${output}" (task "${task.taskName}" declares: ${listed(declared)}); ` +
          `read a declared one${output === OUTPUT_PARAM ? ` (the output payload is ${name}.output)` : ''} or declare "${output}" in the task's outputs`,
      );
    this.outputs = {
      parameters: strictRecord(
        Object.fromEntries(
          Object.entries(task.outputParameters).map(([p, spec]) => {
            const RefClass = spec.list === true ? ListRef : Ref;
            return [p, new RefClass(`{{${tasks}.outputs.parameters.${p}}}`, `${index(`${expr}.outputs.parameters`, p)}`, 'step-parameter', this)];
          }),
        ),
        undeclared('parameter', Object.keys(task.outputParameters)),
      ) as StepOutputs<OP, OA>['parameters'],
      artifacts: strictRecord(
        Object.fromEntries(Object.keys(task.outputArtifacts).map((a) => [a, new ArtifactRef(`{{${tasks}.outputs.artifacts.${a}}}`, this, a)])),
        undeclared('artifact', Object.keys(task.outputArtifacts)),
      ) as StepOutputs<OP, OA>['artifacts'],
    };
  }

  /** Whether the step's task declares an output of that name. @internal */
  public declares(kind: 'parameters' | 'artifacts', name: string): boolean {
    if (kind === 'parameters') return name === OUTPUT_PARAM || name in this.task.outputParameters;
    return name in this.task.outputArtifacts;
  }

  public get input(): Value {
    return this.options.input ?? this.defaultInput;
  }

  public get refs(): (Ref | ArtifactRef)[] {
    return refsOf({ ...this.options, input: this.input }, this.parameters, this.artifacts);
  }

  protected get argumentTexts(): string[] {
    return [this.input, ...Object.values(this.parameters)].filter((v): v is string => typeof v === 'string');
  }

  protected renderCall(): Record<string, unknown> {
    const artifacts = Object.entries(this.artifacts).map(([name, ref]) => ({ name, from: ref.text }));
    return {
      templateRef: this.task.templateRef,
      arguments: {
        parameters: [
          { name: INPUT_PARAM, value: render(this.input) },
          { name: OUTPUT_PARAM, value: this.fanOut || !this.context.outputLocation ? outputUrl(this.name, this.fanOut) : this.output.text },
          ...Object.entries(this.parameters).map(([name, value]) => ({ name, value: render(value) })),
        ],
        ...(artifacts.length ? { artifacts } : {}),
      },
    };
  }

  protected validateSpecific(): string[] {
    const errors = checkArguments(this.task, this.parameters, this.artifacts);
    const library = this.task.node.scope as { namespace?: string } | undefined;
    if (library?.namespace && library.namespace !== this.context.namespace) {
      errors.push(
        `task "${this.task.taskName}" lives in namespace "${library.namespace}" but the workflow runs in "${this.context.namespace}"; ` +
          'templateRef only resolves within one namespace',
      );
    }
    if (this.fanOut && this.task.kind === 'service') {
      for (const c of this.context.node.findAll()) {
        if (c instanceof DagNode && c !== this && c.refs.some((r) => r instanceof Ref && r.producer === this && r.kind === 'step-payload-list')) {
          errors.push(`step "${c.name}" collects the fan-out output of service task step "${this.name}", which an HTTP step cannot report; use a ContainerTask to fan in`);
        }
      }
    }
    return errors;
  }
}
