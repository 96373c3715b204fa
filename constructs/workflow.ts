import { ApiObject, Chart, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { ContainerGroup, type ContainerGroupOptions } from './container-group';
import { describeFilterProblem, itemFilterProblem } from './expressions/item-filter';
import { taskTimeoutProblems } from './timeouts';
import { DagNode, Step, type StepArgs, type StepProps, type WorkflowContext } from './step';
import {
  COMPLETED_TASK, COMPLETED_TEMPLATE, EXIT_TEMPLATE, RUNNING_HOOK, completedTemplate, runningTemplate,
} from './lifecycle';
import { checkDuration, checkNumber, checkOneOf, checkParameterSpecs, isJsonList, listed, strictRecord } from './checks';
import { dnsLabelProblem, failAt, labelValueProblem, parameterNameProblem, standardLabels } from './names';
import {
  ARTIFACT_REPOSITORY_CONFIGMAP, ARTIFACT_REPOSITORY_KEY, PAYLOAD_STORE_KEY, PLATFORM_CONFIGMAP, STANDARD_PARAMETERS, STATE_URL_KEY,
  SWOOP_NAMESPACE, WORKFLOW_SERVICE_ACCOUNT, type StandardParameterName,
} from './platform';
import { FailuresRef, handledBy, outputGuard } from './catch';
import { EnvironmentValue } from './environment';
import { Condition, ItemRef, JoinRef, ListRef, Ref, index } from './refs';
import { PAYLOAD_PROJECTION_ANNOTATION, PayloadProjections } from './payload';
import type { InputArtifacts, InputParameters, None, OutputArtifacts, OutputParameters, Task } from './task';
import { WaitForCallback, type WaitForCallbackProps } from './wait-for-callback';
import { MapStep, type MapArgs, type MapIterationBuilder, type MapOptions, type MapProps } from './map';

/** A workflow parameter (`spec.arguments.parameters`). */
export interface WorkflowParameterSpec {
  /**
   * A literal, or an environment value (`env.value('publish-bucket')`, constructs/environment.ts)
   * read from ConfigMap swoop-platform when the run starts. @default required: every submission must pass it
   */
  readonly default?: string | EnvironmentValue;
  /** Allowed values (the Argo UI shows a drop-down). @default any */
  readonly enum?: readonly string[];
  readonly description?: string;
  /** The value is a JSON list, so steps may fan out over it (`forEach`). @default false: one value */
  readonly list?: boolean;
}
export type WorkflowParameters = Record<string, WorkflowParameterSpec>;

export const POD_GC_STRATEGIES = ['OnPodCompletion', 'OnPodSuccess', 'OnWorkflowCompletion', 'OnWorkflowSuccess'] as const;
export type PodGCStrategy = (typeof POD_GC_STRATEGIES)[number];

export interface WorkflowProps<P extends WorkflowParameters> {
  /** WorkflowTemplate `metadata.name` (what sensors submit). @default the construct id */
  readonly name?: string;
  /** @default 'swoop' */
  readonly namespace?: string;
  readonly description?: string;
  /** `app.kubernetes.io/version` label. @default none */
  readonly version?: string;
  /** The workflow's own parameters, on top of the standard ones (input, payload-id, ...). @default none */
  readonly parameters?: P;
  /** Deadline of a whole run (`activeDeadlineSeconds`). @default 6 hours */
  readonly timeout?: Duration;
  /** When pods are deleted. @default 'OnPodSuccess' (failed pods stay for their logs) */
  readonly podGC?: PodGCStrategy;
  /** How long finished runs are kept. @default 1 day after success, 7 days after failure */
  readonly ttl?: { readonly afterSuccess?: Duration; readonly afterFailure?: Duration };
  /** @default 'swoop-workflow' (bucket access through IRSA) */
  readonly serviceAccountName?: string;
  /** Artifact repository reference. @default ConfigMap 'artifact-repositories', key 'default' */
  readonly artifactRepository?: { readonly configMap: string; readonly key: string };
  /** Most steps running at once. @default unlimited */
  readonly parallelism?: number;
  /** Items a fan-out over a runtime list is assumed to have in the pods-per-run report. @default 10 */
  readonly assumedFanOut?: number;
}

/** A run of `to` started by each successful run of a workflow (cirrus chaining), recorded for the events layer. */
export interface ChainLink {
  readonly to: Workflow<WorkflowParameters>;
  /** Filter over the output items (cirrus `chain_filter`, jsonpath-ng), e.g. `@.properties.'eo:cloud_cover' < 50`; checked at synth. @default all items */
  readonly filter?: string;
}

export interface ChainOptions {
  readonly filter?: string;
}

type ParameterRefs<P> = { readonly [K in keyof P | StandardParameterName]: K extends keyof P ? (P[K] extends { readonly list: true } ? ListRef : Ref) : Ref };

/**
 * A workflow: one WorkflowTemplate with a DAG of steps, written to its own file. Runs are
 * created by the state service after it claimed their payload (a refused claim creates no
 * run); each reports `running` and exactly one `completed` event to the state service, and
 * reads/writes payloads by URL.
 *
 * ```ts
 * const wf = new Workflow(app, 'cog-conversion', { parameters: { collection: { default: 'sentinel-2-l2a' } } });
 * const split = wf.addStep('split-assets', splitAssets);
 * const convert = wf.addStep('convert', cogify, {
 *   input: split.output, forEach: split.outputs.parameters.assets, parameters: { asset: wf.item },
 * });
 * wf.addStep('merge', merge, { input: split.output, parameters: { parts: convert.output } });
 * ```
 */
export class Workflow<P extends WorkflowParameters = None> extends Chart {
  /** True for any Workflow, across copies of this library. */
  public static isWorkflow(x: unknown): x is Workflow<WorkflowParameters> {
    return x !== null && typeof x === 'object' && (x as { [MARK]?: boolean })[MARK] === true;
  }

  /** WorkflowTemplate `metadata.name`. */
  public readonly templateName: string;
  /** What the workflow does (its template's description annotation; the state service's process description). */
  public readonly description?: string;
  public override readonly namespace: string;
  /** References to every workflow parameter: `wf.params.collection`, `wf.params.input`. */
  public readonly params: ParameterRefs<P>;
  /** The input payload (`{{workflow.parameters.input}}`), the default `input` of every step. */
  public readonly input: Ref;
  /** The current fan-out item (`{{item}}`); `wf.item.get('href')` for a field. */
  public readonly item: ItemRef;
  /** The run's final phase, for exit steps (`{{workflow.status}}`). */
  public readonly status: Ref;
  /** The run's failed nodes, for exit steps: `wf.failures.json` (JSON list), `wf.failures.any` (a condition). */
  public readonly failures: FailuresRef;
  /**
   * Declared projections of the input payload, for `when` without a pod (Step Functions Choice):
   * `wf.payload.task('publish').param('batch').isTrue()`, `wf.payload.collections.includes('x')`,
   * `wf.payload.itemCount.greaterThan(1)` (constructs/payload.ts). The submitter fills them.
   */
  public readonly payload = new PayloadProjections();
  /** Workflows this one starts on success (see then()). */
  public readonly chainLinks: ChainLink[] = [];
  /** The WorkflowTemplate object; `addJsonPatch` sets any field the props do not cover. */
  public readonly workflowTemplate: ApiObject;
  public readonly assumedFanOut: number;
  private readonly props: WorkflowProps<P>;
  private readonly userParameters: WorkflowParameters;
  private readonly stepNames = new Map<string, string>();
  private readonly nodesByName = new Map<string, DagNode>();
  private readonly exitSteps: Step<OutputParameters, OutputArtifacts>[] = [];
  private finalStep?: DagNode;
  private readonly exitScope: Construct;
  private readonly specOverrides: [string[], unknown][] = [];
  private readonly context: WorkflowContext;

  constructor(scope: Construct, id: string, props: WorkflowProps<P> = {}) {
    if (scope.node.tryFindChild(id)) {
      failAt(scope.node.path ? `${scope.node.path}/${id}` : id, `the app already has a construct with the id "${id}"; give each workflow its own id`);
    }
    const namespace = props.namespace ?? SWOOP_NAMESPACE;
    super(scope, id, { namespace, disableResourceNameHashes: true });
    Object.defineProperty(this, MARK, { value: true });
    checkWorkflowProps(this.node.path, props);
    this.props = props;
    this.namespace = namespace;
    this.templateName = props.name ?? id;
    this.description = props.description;
    this.assumedFanOut = props.assumedFanOut ?? 10;
    this.userParameters = props.parameters ?? {};
    const refs: Record<string, Ref> = {};
    for (const name of [...STANDARD_PARAMETERS, ...Object.keys(this.userParameters)]) {
      const RefClass = this.userParameters[name]?.list === true ? ListRef : Ref;
      refs[name] = new RefClass(`{{workflow.parameters.${name}}}`, index('workflow.parameters', name), 'workflow-parameter');
    }
    const declared = Object.keys(refs);
    this.params = strictRecord(refs, (name) =>
      failAt(this.node.path, `the workflow declares no parameter "${name}" (declared: ${listed(declared)}); read a declared one or declare "${name}" in the workflow's parameters`),
    ) as ParameterRefs<P>;
    this.input = refs.input;
    this.item = new ItemRef();
    this.status = new Ref('{{workflow.status}}', 'workflow.status', 'workflow-variable');
    this.failures = new FailuresRef((expression, refs) => Condition.expression(expression, ...refs));
    const self = this;
    this.context = {
      node: this.node,
      namespace,
      get declaredParameterNames() {
        return self.parameterNames;
      },
      knownValues: (variable) => {
        const parameter = /^workflow\.parameters\.(.+)$/.exec(variable)?.[1];
        return parameter === undefined ? undefined : this.userParameters[parameter]?.enum;
      },
      claimStepName: (name, scope) => {
        const existing = this.stepNames.get(name);
        if (existing !== undefined) {
          failAt(`${scope.node.path}/${name}`, `duplicate step name "${name}" (already used by ${existing}); every step of a workflow needs its own name`);
        }
        this.stepNames.set(name, `${scope.node.path}/${name}`);
      },
      register: (node) => {
        this.nodesByName.set(node.name, node);
      },
      lookup: (name) => this.nodesByName.get(name),
    };
    this.exitScope = new Construct(this, 'on-exit');
    this.workflowTemplate = new ApiObject(this, 'WorkflowTemplate', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'WorkflowTemplate',
      metadata: {
        name: this.templateName,
        namespace,
        labels: this.labels,
        annotations: {
          ...(props.description ? { 'workflows.argoproj.io/description': props.description } : {}),
          // name -> path of the payload projections, for whoever submits a run (constructs/payload.ts).
          [PAYLOAD_PROJECTION_ANNOTATION]: Lazy.any({ produce: () => (this.payload.parameterNames.length ? JSON.stringify(this.payload.declaration) : undefined) }) as unknown as string,
        },
      },
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
    this.node.addValidation({ validate: () => this.validateWorkflow() });
  }

  /** Names of every declared workflow parameter, standard ones first, payload projections last. */
  public get parameterNames(): string[] {
    return [...STANDARD_PARAMETERS, ...Object.keys(this.userParameters), ...this.payload.parameterNames];
  }

  /**
   * The value of the first of `refs` whose step succeeded, in order: the join of a Choice's
   * branches (`wf.firstOf(batch.output, single.output)`), '' when none ran. Reading it makes a
   * step wait for every branch (a skipped branch counts as done).
   */
  public firstOf(...refs: Ref[]): Ref {
    return new JoinRef(this.node.path, refs);
  }

  /** The `app.kubernetes.io/*` labels of the template, its runs and their pods. */
  public get labels(): Record<string, string> {
    return standardLabels(this.templateName, 'workflow', this.props.version);
  }

  /**
   * Adds a step that runs `task`. Passing another step's output (`a.output`,
   * `a.outputs.parameters.x`) makes this step wait for it.
   */
  public addStep<IP extends InputParameters, OP extends OutputParameters, IA extends InputArtifacts, OA extends OutputArtifacts>(
    name: string, task: Task<IP, OP, IA, OA>, ...props: StepArgs<IP, IA>
  ): Step<OP, OA> {
    const step = new Step<OP, OA>(
      this, this.context, name, task as unknown as Task<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts>,
      (props[0] ?? {}) as StepProps<InputParameters, InputArtifacts>, this.input,
    );
    step.node.addValidation({ validate: () => taskTimeoutProblems(step, this.props.timeout ?? Duration.hours(6)) });
    return step;
  }

  /**
   * Adds a step that waits for an external system's answer (Step Functions
   * `.waitForTaskToken`, docs/callbacks.md): the state service sends a task token to
   * `send`, and the run goes on when `POST /tasks/{token}/success` arrives (the step's
   * `output` is the answer's output) or fails with `/failure`'s error and cause.
   */
  public addWaitForCallback(name: string, props: WaitForCallbackProps): WaitForCallback {
    return new WaitForCallback(this, this.context, name, props, {
      input: this.input, workflowTemplateName: this.templateName, timeout: this.props.timeout ?? Duration.hours(6),
    });
  }

  /**
   * Adds a Map over the payload's items (Step Functions `Map`, cirrus split/merge): one
   * iteration per feature of `input` (default the workflow input; per `maxItemsPerBatch`
   * features), each with a payload of its items, at most `maxConcurrency` at once; `.output`
   * is the merged ItemCollection. An iteration runs `task`, or the steps a builder adds
   * (Step Functions ItemProcessor):
   * ```ts
   * wf.addMap('per-item', (iteration) => {
   *   const cog = iteration.addStep('convert', convert, { parameters: { id: iteration.item.id } });
   *   iteration.addStep('thumbnail', thumbnail, { input: cog.output });
   * }, { maxConcurrency: 8, toleratedFailurePercentage: 5 });
   * ```
   * Costs two short pods (split, merge) besides the iterations (constructs/map.ts).
   */
  public addMap<IP extends InputParameters, OP extends OutputParameters, IA extends InputArtifacts, OA extends OutputArtifacts>(
    name: string, task: Task<IP, OP, IA, OA>, ...props: MapArgs<IP>
  ): MapStep;
  public addMap(name: string, iteration: MapIterationBuilder, props?: MapOptions): MapStep;
  public addMap(name: string, body: Task<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts> | MapIterationBuilder, ...props: [MapProps<InputParameters>?]): MapStep {
    const map = new MapStep(this, this.context, name, body, (props[0] ?? {}) as MapProps<InputParameters>, this.input);
    const timeout = () => this.props.timeout ?? Duration.hours(6);
    map.node.addValidation({ validate: () => (map.itemTask ? taskTimeoutProblems({ task: map.itemTask }, timeout()) : []) });
    for (const step of map.iteration?.nodes ?? []) step.node.addValidation({ validate: () => taskTimeoutProblems(step as Step<OutputParameters, OutputArtifacts>, timeout()) });
    return map;
  }

  /** Adds a group of container steps that share one pod (Argo containerSet); add its containers with `group.addStep`. */
  public addGroup(name: string, options: ContainerGroupOptions = {}): ContainerGroup {
    const group = new ContainerGroup(this, this.context, name, options, this.input);
    group.node.addValidation({ validate: () => taskTimeoutProblems(group, this.props.timeout ?? Duration.hours(6)) });
    return group;
  }

  /**
   * Adds a step to the exit handler: it runs after the workflow ends, whatever the outcome,
   * next to the platform's `completed` event. It may read workflow parameters and `wf.status`.
   */
  public addExitStep<IP extends InputParameters, OP extends OutputParameters, IA extends InputArtifacts, OA extends OutputArtifacts>(
    name: string, task: Task<IP, OP, IA, OA>, ...props: StepArgs<IP, IA>
  ): Step<OP, OA> {
    const step = new Step<OP, OA>(
      this.exitScope, this.context, name, task as unknown as Task<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts>,
      (props[0] ?? {}) as StepProps<InputParameters, InputArtifacts>, this.input,
    );
    this.exitSteps.push(step as unknown as Step<OutputParameters, OutputArtifacts>);
    return step;
  }

  /**
   * The step whose output payload is the workflow's output (reported in `completed`, passed
   * down chains). It must run whenever the workflow succeeds: no `when`, no fan-out.
   * @default the single last step, when it is unconditional and not fanned out
   */
  public setOutput(step: Step<OutputParameters, OutputArtifacts> | DagNode): this {
    this.finalStep = step;
    return this;
  }

  /** Starts `next` with this workflow's output payload after each successful run (cirrus chaining); returns `next`. */
  public then<W extends Workflow<WorkflowParameters>>(next: W, options?: ChainOptions): W;
  public then<W extends readonly Workflow<WorkflowParameters>[]>(next: W, options?: ChainOptions): W;
  public then(next: Workflow<WorkflowParameters> | readonly Workflow<WorkflowParameters>[], options: ChainOptions = {}): unknown {
    for (const to of Array.isArray(next) ? next : [next]) {
      this.chainLinks.push({ to, ...(options.filter !== undefined ? { filter: options.filter } : {}) });
    }
    return next;
  }

  /**
   * Escape hatch: sets any field of the WorkflowTemplate spec by dotted path, creating parents,
   * e.g. `wf.addSpecOverride('podDisruptionBudget.minAvailable', 1)`. For list items use
   * `workflowTemplate.addJsonPatch(...)`.
   */
  public addSpecOverride(path: string, value: unknown): this {
    this.specOverrides.push([path.split('.'), value]);
    return this;
  }

  /** Every node of the main DAG (steps and groups), in the order they were added. */
  public get nodes(): DagNode[] {
    return this.node.children.filter((c): c is DagNode => c instanceof DagNode);
  }

  public get exitHandlerSteps(): readonly Step<OutputParameters, OutputArtifacts>[] {
    return this.exitSteps;
  }

  /** The node whose output is the workflow's output, if any. */
  public get outputNode(): DagNode | undefined {
    if (this.finalStep) return this.finalStep;
    const nodes = this.nodes;
    const upstream = new Set(nodes.flatMap((n) => n.dependencies));
    // A catch handler runs only after a failure, so it is not where a successful run ends.
    const sinks = nodes.filter((n) => !upstream.has(n) && !handledBy(n));
    return sinks.length === 1 && !sinks[0].fanOut && !sinks[0].conditional ? sinks[0] : undefined;
  }

  private renderSpec(): Record<string, unknown> {
    const spec = this.renderOwnSpec();
    for (const [path, value] of this.specOverrides) {
      let target = spec;
      for (const key of path.slice(0, -1)) {
        if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
        target = target[key] as Record<string, unknown>;
      }
      target[path[path.length - 1]] = value;
    }
    return spec;
  }

  private renderOwnSpec(): Record<string, unknown> {
    const props = this.props;
    const groups = this.node.findAll().filter((c): c is ContainerGroup => c instanceof ContainerGroup);
    const output = this.outputNode;
    const outputUrl = output instanceof Step || output instanceof ContainerGroup
      ? outputExpression(output)
      : output instanceof WaitForCallback ? output.workflowOutputExpression
        : output instanceof MapStep ? output.output.expression : undefined;
    const guard = outputGuard(output);
    const finalOutputExpression = outputUrl && guard ? `(${guard} ? ${outputUrl} : '')` : outputUrl;
    const podLabels = this.labels;
    const timeout = props.timeout ?? Duration.hours(6);
    return {
      entrypoint: 'main',
      serviceAccountName: props.serviceAccountName ?? WORKFLOW_SERVICE_ACCOUNT,
      artifactRepositoryRef: props.artifactRepository ?? { configMap: ARTIFACT_REPOSITORY_CONFIGMAP, key: ARTIFACT_REPOSITORY_KEY },
      activeDeadlineSeconds: timeout.toSeconds(),
      podGC: { strategy: props.podGC ?? 'OnPodSuccess' },
      ttlStrategy: {
        secondsAfterSuccess: (props.ttl?.afterSuccess ?? Duration.days(1)).toSeconds(),
        secondsAfterFailure: (props.ttl?.afterFailure ?? Duration.days(7)).toSeconds(),
      },
      ...(props.parallelism !== undefined ? { parallelism: props.parallelism } : {}),
      workflowMetadata: { labels: this.labels },
      podMetadata: { labels: podLabels },
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      arguments: { parameters: this.renderParameters() },
      onExit: EXIT_TEMPLATE,
      hooks: { running: RUNNING_HOOK },
      templates: [
        {
          name: 'main',
          dag: {
            // No claim task: the state service claimed the payload before it created this
            // Workflow (POST /submit), so the first task's pod is the first pod to start.
            tasks: this.nodes.map((n) => n.renderTask()),
          },
        },
        ...groups.map((g) => g.renderTemplate(podLabels)),
        ...this.nodes.filter((n): n is WaitForCallback => n instanceof WaitForCallback).flatMap((w) => w.renderTemplates()),
        ...this.nodes.filter((n): n is MapStep => n instanceof MapStep).flatMap((m) => m.renderTemplates()),
        runningTemplate(this.templateName, timeout),
        {
          name: EXIT_TEMPLATE,
          dag: {
            tasks: [{ name: COMPLETED_TASK, template: COMPLETED_TEMPLATE }, ...this.exitSteps.map((s) => s.renderTask())],
          },
        },
        completedTemplate(this.templateName, finalOutputExpression),
      ],
    };
  }

  private renderParameters(): Record<string, unknown>[] {
    const fromPlatform = (key: string) => ({ valueFrom: { configMapKeyRef: { name: PLATFORM_CONFIGMAP, key } } });
    return [
      { name: 'input', description: 'input payload: s3:// or https:// URL of a cirrus payload, or the payload JSON inline' },
      { name: 'payload-id', value: '', description: 'cirrus payload id (set by the ingress sensor)' },
      { name: 'parent-run', value: '', description: 'run that started this one (chains and callbacks)' },
      { name: 'replace', value: 'false', enum: ['false', 'true'], description: 'run again even if the payload already succeeded' },
      { name: PAYLOAD_STORE_KEY, ...fromPlatform(PAYLOAD_STORE_KEY), description: 'where step outputs are written' },
      { name: STATE_URL_KEY, ...fromPlatform(STATE_URL_KEY), description: 'state service base URL' },
      ...Object.entries(this.userParameters).map(([name, spec]) => ({
        name,
        ...(spec.default instanceof EnvironmentValue ? { valueFrom: spec.default.valueFrom } : spec.default !== undefined ? { value: spec.default } : {}),
        ...(spec.enum ? { enum: [...spec.enum] } : {}),
        ...(spec.description ? { description: spec.description } : {}),
      })),
      ...Object.entries(this.payload.declaration).map(([name, path]) => ({
        name,
        value: '',
        description: `payload projection ${path}, filled by the submitter ('' when the payload does not have it)`,
      })),
    ];
  }

  private validateWorkflow(): string[] {
    const errors: string[] = [];
    const nameProblem = dnsLabelProblem('workflow name', this.templateName);
    if (nameProblem) errors.push(nameProblem);
    const namespaceProblem = dnsLabelProblem('namespace', this.namespace);
    if (namespaceProblem) errors.push(namespaceProblem);
    const versionProblem = this.props.version !== undefined ? labelValueProblem('version', this.props.version) : undefined;
    if (versionProblem) errors.push(versionProblem);
    if (this.nodes.length === 0) errors.push('the workflow has no steps; add one with addStep()');
    for (const [name, spec] of Object.entries(this.userParameters)) {
      if ((STANDARD_PARAMETERS as readonly string[]).includes(name)) {
        errors.push(`parameter "${name}" is a standard parameter every workflow declares; rename yours`);
      }
      const problem = parameterNameProblem('workflow parameter', name);
      if (problem) errors.push(problem);
      if (spec.enum && typeof spec.default === 'string' && !spec.enum.includes(spec.default)) {
        errors.push(`parameter "${name}" default "${spec.default}" is not one of its enum values (${spec.enum.join(', ')}); make the default one of them`);
      }
      if (spec.list === true && typeof spec.default === 'string' && !isJsonList(spec.default)) {
        errors.push(`parameter "${name}" is declared a list but its default ${JSON.stringify(spec.default)} is not a JSON list; give a default like '["a", "b"]' or drop list`);
      }
    }
    errors.push(...this.payload.declarationProblems);
    for (const name of this.payload.parameterNames) {
      if (name in this.userParameters) errors.push(`parameter "${name}" is also the name of a payload projection; rename the parameter`);
    }
    const cycle = findCycle(this.nodes);
    if (cycle) errors.push(`steps form a cycle: ${cycle.join(' -> ')}; remove one of these dependencies`);
    for (const step of this.exitSteps) {
      const mainDag = [
        ...step.refs.map((r) => r.producer).filter((p): p is NonNullable<typeof p> => !!p),
        ...step.dependencies.filter((d) => !this.exitSteps.includes(d as Step<OutputParameters, OutputArtifacts>)),
      ].filter((p) => !this.exitSteps.includes(p as Step<OutputParameters, OutputArtifacts>));
      for (const name of new Set(mainDag.map((p) => p.name))) {
        errors.push(`exit step "${step.name}" reads an output of step "${name}"; exit steps run after the DAG and may only read workflow parameters and wf.status`);
      }
    }
    if (this.props.timeout && this.props.timeout.toSeconds() <= 0) errors.push('timeout is not positive; give the workflow a positive Duration');
    for (const link of this.chainLinks) {
      if (!Workflow.isWorkflow(link.to)) {
        errors.push(`then() was given ${(link.to as { node?: Construct['node'] }).node?.path ?? String(link.to)}, which is not a Workflow; chains start workflows`);
      }
      const filterProblem = link.filter === undefined ? undefined : itemFilterProblem(link.filter);
      if (filterProblem) errors.push(describeFilterProblem(`then(${link.to.templateName}) filter`, link.filter!, filterProblem));
    }
    if (this.finalStep && !this.nodes.includes(this.finalStep)) {
      errors.push(`setOutput() names "${this.finalStep.node.path}", which is not a step of this workflow`);
    } else if (this.finalStep && (this.finalStep.conditional || this.finalStep.fanOut)) {
      errors.push(
        `setOutput() names step "${this.finalStep.name}", which is ${this.finalStep.fanOut ? 'fanned out' : 'conditional'}; ` +
          'the output must exist whenever the run succeeds, so name a step that always runs once',
      );
    }
    return errors;
  }
}

/** Props checked when the workflow is built, for callers without the type checker. */
function checkWorkflowProps(path: string, props: WorkflowProps<WorkflowParameters>): void {
  checkDuration(path, 'timeout', props.timeout);
  checkDuration(path, 'ttl.afterSuccess', props.ttl?.afterSuccess);
  checkDuration(path, 'ttl.afterFailure', props.ttl?.afterFailure);
  checkOneOf(path, 'podGC', props.podGC, POD_GC_STRATEGIES);
  checkNumber(path, 'parallelism', props.parallelism);
  checkNumber(path, 'assumedFanOut', props.assumedFanOut);
  checkParameterSpecs(path, 'parameters', props.parameters, { environmentDefaults: true });
}

function outputExpression(node: Step<OutputParameters, OutputArtifacts> | ContainerGroup): string | undefined {
  if (node.fanOut) return undefined;
  if (node instanceof Step) return node.output.expression;
  const last = node.members[node.members.length - 1];
  return last?.output.expression;
}

function findCycle(nodes: readonly DagNode[]): string[] | undefined {
  const state = new Map<DagNode, 'visiting' | 'done'>();
  const stack: DagNode[] = [];
  const visit = (n: DagNode): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n].map((s) => s.name);
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of n.dependencies) {
      const found = visit(d);
      if (found) return found;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of nodes) {
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}

const MARK = Symbol.for('swoop-platform.Workflow');

