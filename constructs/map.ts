/**
 * Map over the payload's items (Step Functions `Map` over `$.features`, cirrus' split/merge):
 * one iteration per feature (or per batch of `maxItemsPerBatch` features), each iteration's
 * input a payload of those items, at most `maxConcurrency` at once, and the iterations'
 * outputs merged back into one ItemCollection, the step's `.output`.
 *
 * An iteration is one task (`wf.addMap(name, task, props)`) or several steps, Step Functions'
 * ItemProcessor (`wf.addMap(name, (iteration) => { ... }, props)`: `iteration.addStep` as
 * `wf.addStep`, with retries, catch and when; `iteration.item` selects values of the item,
 * ItemSelector). Rendered as one DAG task calling a DAG template of its own, `swoop-map-<name>`,
 * whose `parallelism` is the concurrency limit (Argo caps the running children of that
 * template, not the whole run):
 * - `split`: a short platform pod (plain Node, constructs/map-script.cjs) that Argo hands the
 *   payload (inline, or an S3 input artifact) and whose per-iteration payloads it uploads to
 *   `<payload-store>/<run>/<name>/split/<index>.json` (an output artifact, no archive), with
 *   the list of iterations as output parameter `items` (indexes, or objects carrying the
 *   selected item values);
 * - `item`: `withParam` over `items`: the task (input `.../split/<index>.json`, output
 *   `.../items/<index>/output.json`), or the iteration's own DAG template
 *   `swoop-map-<name>-iteration` whose steps write `.../items/<index>/<step>/output.json`;
 * - `merge`: a second short pod that Argo hands every iteration's outputs (the `items/` prefix
 *   as one directory artifact) and the payload without its features, and whose merged
 *   ItemCollection it uploads to `<payload-store>/<run>/<name>/output.json`. An iteration
 *   without an output payload failed; with a tolerance (ToleratedFailureCount/Percentage) the
 *   item task continues on failure, merge runs whatever the iterations' outcome and merges the
 *   items of the iterations that succeeded, failing only beyond the tolerance.
 * Pod cost: 2 (split, merge) plus, per iteration, one per container step (none for a service
 * task: its calls run in the agent pod). Payloads must live in S3 (`payload-store` s3://, the
 * input inline or s3://). Split and merge need a pod: reading and writing S3 objects is what
 * they do, no HTTP template can, and the state service holds no S3 access (docs/step-functions.md).
 */
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handledBy } from './catch';
import { checkNumber, describeValue } from './checks';
import { DISPATCH_IMAGE } from './events/dispatch';
import { failAt } from './errors';
import { PAYLOAD_STORE_KEY } from './platform';
import { type Condition, index, quote, Ref, ScopedRef, type Value } from './refs';
import {
  DagNode, PlatformCallNode, Step, checkArguments, outputUrl, outputUrlExpression,
  type ParameterArgs, type StepArgs, type StepProps, type WorkflowContext,
} from './step';
import type { InputArtifacts, InputParameters, OutputArtifacts, OutputParameters, Task } from './task';

type AnyTask = Task<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts>;

/** The Node image of the split and merge pods: the one the dispatch runs, pinned. */
export const MAP_IMAGE = DISPATCH_IMAGE;
/** The script both pods run; tests run the same file. */
export const MAP_SCRIPT_FILE = join(__dirname, 'map-script.cjs');

export interface MapOptions {
  /** The payload whose features are mapped over. @default the workflow's input */
  readonly input?: Value;
  /** Iterations running at once (Step Functions MaxConcurrency). @default unlimited (the workflow's parallelism still applies) */
  readonly maxConcurrency?: number;
  /** Run only when the condition holds. @default always */
  readonly when?: Condition;
  /** Steps to wait for besides those whose outputs this step reads. @default none */
  readonly dependsOn?: readonly DagNode[];
  /**
   * Items whose iterations may fail while the map still succeeds, merging the items of the
   * iterations that succeeded (Step Functions ToleratedFailureCount: the map fails when more
   * fail). @default 0: any failed iteration fails the map
   */
  readonly toleratedFailureCount?: number;
  /** The same as a percentage of the items, 0-100 (ToleratedFailurePercentage); with both, exceeding either fails the map. @default 0 */
  readonly toleratedFailurePercentage?: number;
  /** Items per iteration (Step Functions ItemBatcher MaxItemsPerBatch): each iteration's input holds up to this many features. @default 1 */
  readonly maxItemsPerBatch?: number;
}

type RequiredParameterKeys<IP> = { [K in keyof IP]-?: IP[K] extends { readonly default: string } ? never : K }[keyof IP];
/** Map options plus the task's parameters (the same for every iteration); required ones must be given. */
export type MapProps<IP> = MapOptions & ([RequiredParameterKeys<IP>] extends [never]
  ? { readonly parameters?: ParameterArgs<IP> }
  : { readonly parameters: ParameterArgs<IP> });
export type MapArgs<IP> = [RequiredParameterKeys<IP>] extends [never] ? [props?: MapProps<IP>] : [props: MapProps<IP>];
/** Builds the steps of one iteration (Step Functions ItemProcessor). */
export type MapIterationBuilder = (iteration: MapIteration) => void;

/** What the script writes (an emptyDir: the root filesystem is read-only); input artifacts go beside it, where Argo mounts each. */
const SCRATCH = '/tmp/swoop';
const INPUTS = '/tmp/swoop-in';
const STORE = index('workflow.parameters', PAYLOAD_STORE_KEY);
/** The payload store's bucket and key prefix (`s3://bucket/prefix` -> `bucket`, `prefix/`). */
const STORE_BUCKET = `sprig.regexReplaceAll('^s3://([^/]+).*$', ${STORE}, '$1')`;
const STORE_PREFIX = `sprig.regexReplaceAll('^s3://[^/]+/*', ${STORE} + '/', '')`;
/** The iteration template's inputs: its payload and its index (`00000`), plus one per selected item value. */
const ITERATION_INPUT = 'input';
const ITERATION_INDEX = 'index';

/**
 * Values of the iteration's item (Step Functions ItemSelector), as references its steps pass
 * as parameters or test in `when`: `iteration.item.id`, `.collection`, `.property('eo:cloud_cover')`,
 * `.get('assets', 'visual', 'href')`. The split pod reads each from the item; a string is
 * itself, other JSON its text, '' when the item lacks it.
 */
export class MapItem {
  private readonly selected = new Map<string, { key: string; ref: Ref }>();

  /** @internal */
  constructor(private readonly scopePath: string, private readonly scopeName: string) {}

  /** The item's `id`. */
  public get id(): Ref {
    return this.get('id');
  }

  /** The item's `collection`. */
  public get collection(): Ref {
    return this.get('collection');
  }

  /** `properties.<name>` of the item, e.g. `property('eo:cloud_cover')`. */
  public property(name: string): Ref {
    return this.get('properties', name);
  }

  /** The value at a path of keys into the item, e.g. `get('assets', 'visual', 'href')`. */
  public get(...path: string[]): Ref {
    if (path.length === 0 || !path.every((p) => typeof p === 'string' && p !== '')) {
      throw new Error(`iteration.item.get: the path ${describeValue(path)} is not a list of keys; give keys such as get('properties', 'datetime')`);
    }
    const id = JSON.stringify(path);
    let entry = this.selected.get(id);
    if (!entry) {
      const key = `s${this.selected.size}`;
      const name = `item-${key}`;
      entry = { key, ref: new ScopedRef(`{{inputs.parameters.${name}}}`, index('inputs.parameters', name), this.scopePath, this.scopeName) };
      this.selected.set(id, entry);
    }
    return entry.ref;
  }

  /** key -> path of every selected value, in the order first used. @internal */
  public get selection(): Record<string, string[]> {
    return Object.fromEntries([...this.selected.entries()].map(([path, { key }]) => [key, JSON.parse(path) as string[]]));
  }
}

/**
 * The steps one iteration runs (Step Functions ItemProcessor): added with `addStep` as in a
 * workflow (retries, `catch`/`onFailure`, `when`), reading `iteration.input` (the iteration's
 * payload, the default input), `iteration.item` values, earlier steps' outputs and workflow
 * parameters. The iteration's output is its last step's, or `setOutput(step)`'s; a catch
 * handler's output payload stands in for it when the handler ran.
 */
export class MapIteration {
  /** The iteration's payload: the input payload with only this iteration's features, without its `id`. */
  public readonly input: Ref;
  public readonly item: MapItem;
  private readonly steps: DagNode[] = [];
  private readonly names = new Map<string, string>();
  private readonly context: WorkflowContext;
  private finalStep?: DagNode;

  /** @internal use Workflow.addMap */
  constructor(private readonly map: MapStep, outer: WorkflowContext) {
    const scopeName = `the iteration of map "${map.name}"`;
    this.input = new ScopedRef(`{{inputs.parameters.${ITERATION_INPUT}}}`, index('inputs.parameters', ITERATION_INPUT), map.node.path, scopeName);
    this.item = new MapItem(map.node.path, scopeName);
    const location = (step: string) => ({
      url: `{{workflow.parameters.${PAYLOAD_STORE_KEY}}}/{{workflow.name}}/${map.name}/items/{{inputs.parameters.${ITERATION_INDEX}}}/${step}/output.json`,
      expression: `${STORE} + '/' + workflow.name + ${quote(`/${map.name}/items/`)} + ${index('inputs.parameters', ITERATION_INDEX)} + ${quote(`/${step}/output.json`)}`,
    });
    this.context = {
      node: map.node,
      namespace: outer.namespace,
      get declaredParameterNames() {
        return outer.declaredParameterNames;
      },
      knownValues: (variable) => outer.knownValues(variable),
      claimStepName: (name, scope) => {
        const existing = this.names.get(name);
        if (existing !== undefined) failAt(`${scope.node.path}/${name}`, `duplicate step name "${name}" in the iteration of map "${map.name}" (already used by ${existing}); give every step of an iteration its own name`);
        this.names.set(name, `${scope.node.path}/${name}`);
      },
      register: (node) => {
        this.steps.push(node);
      },
      lookup: (name) => this.steps.find((n) => n.name === name),
      outputLocation: location,
      foreignRead: (producer) =>
        `reads an output of step "${producer.name}" outside the iteration of map "${map.name}"; an iteration's steps read iteration.input, iteration.item, ` +
        'earlier steps of the iteration and workflow parameters: run that step inside the iteration, or after the map on its output',
    };
  }

  /** Adds a step to the iteration, as `Workflow.addStep`; its default input is `iteration.input`. */
  public addStep<IP extends InputParameters, OP extends OutputParameters, IA extends InputArtifacts, OA extends OutputArtifacts>(
    name: string, task: Task<IP, OP, IA, OA>, ...props: StepArgs<IP, IA>
  ): Step<OP, OA> {
    return new Step<OP, OA>(
      this.map, this.context, name, task as unknown as AnyTask,
      (props[0] ?? {}) as StepProps<InputParameters, InputArtifacts>, this.input,
    );
  }

  /** The step whose output payload is the iteration's output. @default the single last step */
  public setOutput(step: DagNode): this {
    this.finalStep = step;
    return this;
  }

  /** The iteration's steps, in the order they were added. */
  public get nodes(): readonly DagNode[] {
    return this.steps;
  }

  /** The step whose output is the iteration's output, if one can be named. */
  public get outputNode(): DagNode | undefined {
    if (this.finalStep) return this.finalStep;
    const upstream = new Set(this.steps.flatMap((n) => n.dependencies));
    const sinks = this.steps.filter((n) => !upstream.has(n) && !handledBy(n));
    return sinks.length === 1 ? sinks[0] : undefined;
  }

  /** Steps whose output is the iteration's, first present wins: the output step, then the catch handlers. @internal */
  public get outputSteps(): DagNode[] {
    const output = this.outputNode;
    return [...(output ? [output] : []), ...this.steps.filter((n) => n !== output && handledBy(n) && n instanceof Step)];
  }

  /** The iteration's DAG template. @internal */
  public renderTemplate(name: string): Record<string, unknown> {
    return {
      name,
      inputs: {
        parameters: [{ name: ITERATION_INPUT }, { name: ITERATION_INDEX }, ...Object.keys(this.item.selection).map((k) => ({ name: `item-${k}` }))],
      },
      dag: { tasks: this.steps.map((n) => n.renderTask()) },
    };
  }

  /** @internal */
  public problems(): string[] {
    const errors: string[] = [];
    if (this.steps.length === 0) errors.push('the iteration has no steps; add one with iteration.addStep()');
    const output = this.outputNode;
    if (this.steps.length && !output) {
      errors.push("the iteration's output is ambiguous (several last steps); name the step whose output is the iteration's with iteration.setOutput(step)");
    } else if (output && !this.steps.includes(output)) {
      errors.push(`setOutput() names "${output.node.path}", which is not a step of this iteration`);
    } else if (output && (output.conditional || output.fanOut || !(output instanceof Step))) {
      errors.push(`the iteration's output step "${output.name}" is ${output.fanOut ? 'fanned out' : 'conditional'}; its output must exist whenever the iteration succeeds, so end the iteration with a step that always runs once`);
    }
    for (const n of this.steps) {
      if (n.fanOut) errors.push(`step "${n.name}" of the iteration fans out (forEach); an iteration already runs per item: map over the items instead, or fan out after the map`);
    }
    return errors;
  }
}

export class MapStep extends PlatformCallNode {
  /** The task each iteration runs, for a map of one task (not `task`: the map has no single exit code to catch on). */
  public readonly itemTask?: AnyTask;
  /** The iteration's steps, for a map built with an iteration builder. */
  public readonly iteration?: MapIteration;
  /** The merged ItemCollection's URL, `<payload-store>/<run>/<name>/output.json`. */
  public readonly output: Ref;
  private readonly props: MapOptions;
  protected readonly parameters: Record<string, Value>;
  private readonly defaultInput: Value;

  /** @internal use Workflow.addMap */
  constructor(scope: Construct, context: WorkflowContext, name: string, body: AnyTask | MapIterationBuilder, props: MapProps<InputParameters>, defaultInput: Value) {
    if (typeof props !== 'object' || props === null) throw new Error(`${context.node.path}/${name}: the map's props are ${describeValue(props)}; give an object`);
    super(scope, context, name, {
      ...(props.input !== undefined ? { input: props.input } : {}),
      ...(props.when !== undefined ? { when: props.when } : {}),
      ...(props.dependsOn !== undefined ? { dependsOn: props.dependsOn } : {}),
    });
    for (const key of ['maxConcurrency', 'toleratedFailureCount', 'toleratedFailurePercentage', 'maxItemsPerBatch'] as const) checkNumber(this.node.path, key, props[key]);
    this.props = props;
    this.parameters = { ...((props.parameters ?? {}) as Record<string, Value>) };
    this.defaultInput = defaultInput;
    this.output = new Ref(outputUrl(name, false), outputUrlExpression(name), 'step-payload', this);
    if (typeof body === 'function') {
      if (props.parameters !== undefined) failAt(this.node.path, "parameters are given to a map built with an iteration builder; pass them to the iteration's steps (iteration.addStep(..., { parameters }))");
      this.iteration = new MapIteration(this, context);
      body(this.iteration);
    } else {
      this.itemTask = body;
    }
  }

  /** The Argo template the DAG task calls. */
  public get templateName(): string {
    return `swoop-map-${this.name}`;
  }

  public get maxConcurrency(): number | undefined {
    return this.props.maxConcurrency;
  }

  /** Features per iteration. */
  public get batchSize(): number {
    return this.props.maxItemsPerBatch ?? 1;
  }

  /** The tasks one iteration runs. */
  public get iterationTasks(): AnyTask[] {
    if (this.itemTask) return [this.itemTask];
    return (this.iteration?.nodes ?? []).flatMap((n) => (n instanceof Step ? [n.task] : []));
  }

  private get tolerates(): boolean {
    return (this.props.toleratedFailureCount ?? 0) > 0 || (this.props.toleratedFailurePercentage ?? 0) > 0;
  }

  protected get input(): Value {
    return this.props.input ?? this.defaultInput;
  }

  /** `<payload-store>/<run>/<name>/<rest>` as a template string, and its S3 key as an expression tag. */
  private location(rest: string): { url: string; key: string } {
    return {
      url: `{{workflow.parameters.${PAYLOAD_STORE_KEY}}}/{{workflow.name}}/${this.name}/${rest}`,
      key: `{{=${STORE_PREFIX} + workflow.name + '/${this.name}/${rest}'}}`,
    };
  }

  /** The item task of the map's DAG: the task itself, or the iteration's DAG template. */
  private renderItemTask(): Record<string, unknown> {
    const split = this.location('split');
    const items = this.location('items');
    const selection = Object.keys(this.iteration?.item.selection ?? {});
    // Items are plain indexes, or objects when the split also hands each iteration selected item values.
    const indexTag = selection.length ? '{{item.index}}' : '{{item}}';
    const common = {
      name: 'item',
      depends: 'split',
      withParam: '{{tasks.split.outputs.parameters.items}}',
      // A failed iteration lets the others go on; merge decides against the tolerance.
      ...(this.tolerates ? { continueOn: { failed: true, error: true } } : {}),
    };
    const input = { name: 'input', value: `${split.url}/${indexTag}.json` };
    if (this.iteration) {
      return {
        ...common,
        template: `${this.templateName}-iteration`,
        arguments: { parameters: [input, { name: ITERATION_INDEX, value: indexTag }, ...selection.map((k) => ({ name: `item-${k}`, value: `{{item.${k}}}` }))] },
      };
    }
    return {
      ...common,
      templateRef: this.itemTask!.templateRef,
      arguments: {
        parameters: [
          input,
          { name: 'output', value: `${items.url}/${indexTag}/output.json` },
          ...Object.keys(this.parameters).map((p) => ({ name: p, value: `{{inputs.parameters.param-${p}}}` })),
        ],
      },
    };
  }

  /** The map's DAG, its split and merge templates, and the iteration's DAG template. @internal */
  public renderTemplates(): Record<string, unknown>[] {
    const script = readFileSync(MAP_SCRIPT_FILE, 'utf8');
    const paramNames = Object.keys(this.parameters);
    const s3 = (key: string, bucket = `{{=${STORE_BUCKET}}}`) => ({ endpoint: 's3.amazonaws.com', bucket, key, useSDKCreds: true });
    const pod = (mode: 'split' | 'merge', env: Record<string, string | undefined>) => ({
      image: MAP_IMAGE,
      command: ['node'],
      source: script,
      env: Object.entries({ SWOOP_MAP_MODE: mode, ...env } as Record<string, string | undefined>)
        .filter((e): e is [string, string] => e[1] !== undefined)
        .map(([name, value]) => ({ name, value })),
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
    });
    const scratch = { volumes: [{ name: 'scratch', emptyDir: {} }], volumeMounts: [{ name: 'scratch', mountPath: SCRATCH }] };
    const split = this.location('split');
    const items = this.location('items');
    const inputIsS3 = "inputs.parameters['input'] startsWith 's3://'";
    const selection = this.iteration?.item.selection ?? {};
    const outputPaths = this.iteration ? this.iteration.outputSteps.map((n) => `${n.name}/output.json`) : ['output.json'];
    const optional = (value: number | undefined) => (value === undefined ? undefined : String(value));
    return [
      {
        name: this.templateName,
        inputs: { parameters: [{ name: 'input' }, ...paramNames.map((p) => ({ name: `param-${p}` }))] },
        ...(this.props.maxConcurrency !== undefined ? { parallelism: this.props.maxConcurrency } : {}),
        dag: {
          // With a tolerance every iteration runs to its end, whatever the others' outcome.
          ...(this.tolerates ? { failFast: false } : {}),
          tasks: [
            { name: 'split', template: `${this.templateName}-split`, arguments: { parameters: [{ name: 'input', value: '{{inputs.parameters.input}}' }] } },
            this.renderItemTask(),
            {
              name: 'merge',
              template: `${this.templateName}-merge`,
              // With a tolerance merge runs after failed iterations too (Argo's task group is Failed when one of them is).
              depends: this.tolerates ? '(item.Succeeded || item.Skipped || item.Failed || item.Errored)' : 'item',
              arguments: {
                parameters: [
                  { name: 'count', value: '{{=len(fromJSON(tasks.split.outputs.parameters.items))}}' },
                  { name: 'features', value: '{{tasks.split.outputs.parameters.features}}' },
                ],
              },
            },
          ],
        },
      },
      {
        name: `${this.templateName}-split`,
        inputs: {
          parameters: [{ name: 'input' }],
          artifacts: [{
            name: 'payload',
            path: `${INPUTS}/payload.json`,
            // Absent for an inline payload (a key that does not exist); the script reads the parameter then.
            optional: true,
            s3: s3(
              `{{=${inputIsS3} ? sprig.regexReplaceAll('^s3://[^/]+/', inputs.parameters['input'], '') : 'swoop-map/inline-payload'}}`,
              `{{=${inputIsS3} ? sprig.regexReplaceAll('^s3://([^/]+)/.*$', inputs.parameters['input'], '$1') : ${STORE_BUCKET}}}`,
            ),
          }],
        },
        outputs: {
          parameters: [
            { name: 'items', valueFrom: { path: `${SCRATCH}/items.json` } },
            { name: 'features', valueFrom: { path: `${SCRATCH}/features.txt` } },
          ],
          artifacts: [{ name: 'split', path: `${SCRATCH}/split`, archive: { none: {} }, s3: s3(split.key) }],
        },
        volumes: scratch.volumes,
        script: {
          ...pod('split', {
            SWOOP_INPUT: '{{inputs.parameters.input}}',
            SWOOP_PAYLOAD_FILE: `${INPUTS}/payload.json`,
            SWOOP_SPLIT_DIR: `${SCRATCH}/split`,
            SWOOP_ITEMS_FILE: `${SCRATCH}/items.json`,
            SWOOP_FEATURES_FILE: `${SCRATCH}/features.txt`,
            SWOOP_BATCH_SIZE: optional(this.props.maxItemsPerBatch),
            SWOOP_ITEM_SELECTION: Object.keys(selection).length ? JSON.stringify(selection) : undefined,
          }),
          volumeMounts: scratch.volumeMounts,
        },
      },
      {
        name: `${this.templateName}-merge`,
        inputs: {
          parameters: [{ name: 'count' }, { name: 'features' }],
          artifacts: [
            { name: 'base', path: `${INPUTS}/base.json`, s3: s3(this.location('split/base.json').key) },
            // No iteration (no features), or none wrote anything: no object under items/.
            { name: 'outputs', path: `${INPUTS}/items`, optional: true, s3: s3(items.key) },
          ],
        },
        outputs: {
          artifacts: [{ name: 'merged', path: `${SCRATCH}/merged/output.json`, archive: { none: {} }, s3: s3(this.location('output.json').key) }],
        },
        volumes: scratch.volumes,
        script: {
          ...pod('merge', {
            SWOOP_BASE_FILE: `${INPUTS}/base.json`,
            SWOOP_OUTPUTS_DIR: `${INPUTS}/items`,
            SWOOP_OUTPUT_PATHS: JSON.stringify(outputPaths),
            SWOOP_ITEM_COUNT: '{{inputs.parameters.count}}',
            SWOOP_FEATURE_COUNT: '{{inputs.parameters.features}}',
            SWOOP_BATCH_SIZE: optional(this.props.maxItemsPerBatch),
            SWOOP_TOLERATED_COUNT: optional(this.props.toleratedFailureCount),
            SWOOP_TOLERATED_PERCENTAGE: optional(this.props.toleratedFailurePercentage),
            SWOOP_MERGED_FILE: `${SCRATCH}/merged/output.json`,
          }),
          volumeMounts: scratch.volumeMounts,
        },
      },
      ...(this.iteration ? [this.iteration.renderTemplate(`${this.templateName}-iteration`)] : []),
    ];
  }

  protected validateSpecific(): string[] {
    const errors: string[] = [];
    if (this.itemTask) {
      // Artifacts are refused below with a map's own reason, not "pass one in artifacts".
      errors.push(...checkArguments(this.itemTask, this.parameters, {}).filter((e) => !e.includes('input artifact')));
      if (Object.values(this.itemTask.inputArtifacts ?? {}).some((a) => !(a as { optional?: boolean }).optional)) {
        errors.push(`task "${this.itemTask.taskName}" needs input artifacts, which a map iteration cannot pass; map a task whose inputs are the payload and parameters`);
      }
    }
    if (this.iteration) errors.push(...this.iteration.problems());
    const whole = (prop: string, value: number | undefined, min: number, what: string) => {
      if (value !== undefined && (!Number.isInteger(value) || value < min)) errors.push(`${prop} is ${value}; give ${what}, or leave it out`);
    };
    whole('maxConcurrency', this.props.maxConcurrency, 1, 'a whole number of iterations, at least 1');
    whole('toleratedFailureCount', this.props.toleratedFailureCount, 0, 'a whole number of items, at least 0');
    whole('maxItemsPerBatch', this.props.maxItemsPerBatch, 1, 'a whole number of items, at least 1');
    const pct = this.props.toleratedFailurePercentage;
    if (pct !== undefined && !(pct >= 0 && pct <= 100)) errors.push(`toleratedFailurePercentage is ${pct}; give a percentage from 0 to 100, or leave it out`);
    if (this.batchSize > 1 && Object.keys(this.iteration?.item.selection ?? {}).length) {
      errors.push(`the iteration reads iteration.item values but maxItemsPerBatch is ${this.batchSize}, so an iteration holds several items; select item values with batches of 1, or read them from the payload in the task`);
    }
    for (const name of Object.keys(this.parameters)) {
      if (!/^[a-zA-Z0-9][-a-zA-Z0-9_]*$/.test(name)) errors.push(`parameter name "${name}" is not a valid Argo parameter name`);
    }
    return errors;
  }
}
