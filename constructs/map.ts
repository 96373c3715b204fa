/**
 * Map over the payload's items (Step Functions `Map` over `$.features`, cirrus' split/merge):
 * one iteration of a task per feature, each iteration's input a single-item payload, at most
 * `maxConcurrency` at once, and the iterations' outputs merged back into one ItemCollection,
 * the step's `.output`.
 *
 * Rendered as one DAG task calling a DAG template of its own, `swoop-map-<name>`, whose
 * `parallelism` is the concurrency limit (Argo caps the running children of that template,
 * not the whole run):
 * - `split`: a short platform pod (plain Node, constructs/map-script.cjs) that Argo hands the
 *   payload (inline, or an S3 input artifact) and whose single-item payloads it uploads to
 *   `<payload-store>/<run>/<name>/split/<index>.json` (an output artifact, no archive), with
 *   the list of indexes as output parameter `items`;
 * - `item`: the task, `withParam` over `items`, input `.../split/<index>.json`, output
 *   `.../items/<index>/output.json`;
 * - `merge`: a second short pod that Argo hands every iteration's output (the `items/` prefix
 *   as one directory artifact) and the payload without its features, and whose merged
 *   ItemCollection it uploads to `<payload-store>/<run>/<name>/output.json`.
 * Pod cost: 2 (split, merge) plus one per item for a container task (none for a service
 * task: its calls run in the agent pod). Payloads must live in S3 (`payload-store` s3://, the
 * input inline or s3://). The split/merge need a pod because reading and writing S3 objects
 * is what they do; no HTTP template can.
 */
import type { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkNumber, describeValue } from './checks';
import { DISPATCH_IMAGE } from './events/dispatch';
import { PAYLOAD_STORE_KEY } from './platform';
import { type Condition, index, Ref, type Value } from './refs';
import { DagNode, PlatformCallNode, checkArguments, outputUrl, outputUrlExpression, type ParameterArgs, type WorkflowContext } from './step';
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
}

type RequiredParameterKeys<IP> = { [K in keyof IP]-?: IP[K] extends { readonly default: string } ? never : K }[keyof IP];
/** Map options plus the task's parameters (the same for every iteration); required ones must be given. */
export type MapProps<IP> = MapOptions & ([RequiredParameterKeys<IP>] extends [never]
  ? { readonly parameters?: ParameterArgs<IP> }
  : { readonly parameters: ParameterArgs<IP> });
export type MapArgs<IP> = [RequiredParameterKeys<IP>] extends [never] ? [props?: MapProps<IP>] : [props: MapProps<IP>];

/** What the script writes (an emptyDir: the root filesystem is read-only); input artifacts go beside it, where Argo mounts each. */
const SCRATCH = '/tmp/swoop';
const INPUTS = '/tmp/swoop-in';
const STORE = index('workflow.parameters', PAYLOAD_STORE_KEY);
/** The payload store's bucket and key prefix (`s3://bucket/prefix` -> `bucket`, `prefix/`). */
const STORE_BUCKET = `sprig.regexReplaceAll('^s3://([^/]+).*$', ${STORE}, '$1')`;
const STORE_PREFIX = `sprig.regexReplaceAll('^s3://[^/]+/*', ${STORE} + '/', '')`;

export class MapStep extends PlatformCallNode {
  /** The task each iteration runs (not `task`: the map has no single exit code to catch on). */
  public readonly itemTask: AnyTask;
  /** The merged ItemCollection's URL, `<payload-store>/<run>/<name>/output.json`. */
  public readonly output: Ref;
  private readonly props: MapOptions;
  protected readonly parameters: Record<string, Value>;
  private readonly defaultInput: Value;

  /** @internal use Workflow.addMap */
  constructor(scope: Construct, context: WorkflowContext, name: string, task: AnyTask, props: MapProps<InputParameters>, defaultInput: Value) {
    if (typeof props !== 'object' || props === null) throw new Error(`${context.node.path}/${name}: the map's props are ${describeValue(props)}; give an object`);
    super(scope, context, name, {
      ...(props.input !== undefined ? { input: props.input } : {}),
      ...(props.when !== undefined ? { when: props.when } : {}),
      ...(props.dependsOn !== undefined ? { dependsOn: props.dependsOn } : {}),
    });
    checkNumber(this.node.path, 'maxConcurrency', props.maxConcurrency);
    this.itemTask = task;
    this.props = props;
    this.parameters = { ...((props.parameters ?? {}) as Record<string, Value>) };
    this.defaultInput = defaultInput;
    this.output = new Ref(outputUrl(name, false), outputUrlExpression(name), 'step-payload', this);
  }

  /** The Argo template the DAG task calls. */
  public get templateName(): string {
    return `swoop-map-${this.name}`;
  }

  public get maxConcurrency(): number | undefined {
    return this.props.maxConcurrency;
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

  /** The map's DAG and its split and merge templates. @internal */
  public renderTemplates(): Record<string, unknown>[] {
    const script = readFileSync(MAP_SCRIPT_FILE, 'utf8');
    const paramNames = Object.keys(this.parameters);
    const s3 = (key: string, bucket = `{{=${STORE_BUCKET}}}`) => ({ endpoint: 's3.amazonaws.com', bucket, key, useSDKCreds: true });
    const pod = (mode: 'split' | 'merge', env: Record<string, string>) => ({
      image: MAP_IMAGE,
      command: ['node'],
      source: script,
      env: Object.entries({ SWOOP_MAP_MODE: mode, ...env }).map(([name, value]) => ({ name, value })),
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
    });
    const scratch = { volumes: [{ name: 'scratch', emptyDir: {} }], volumeMounts: [{ name: 'scratch', mountPath: SCRATCH }] };
    const split = this.location('split');
    const items = this.location('items');
    const inputIsS3 = "inputs.parameters['input'] startsWith 's3://'";
    return [
      {
        name: this.templateName,
        inputs: { parameters: [{ name: 'input' }, ...paramNames.map((p) => ({ name: `param-${p}` }))] },
        ...(this.props.maxConcurrency !== undefined ? { parallelism: this.props.maxConcurrency } : {}),
        dag: {
          tasks: [
            { name: 'split', template: `${this.templateName}-split`, arguments: { parameters: [{ name: 'input', value: '{{inputs.parameters.input}}' }] } },
            {
              name: 'item',
              templateRef: this.itemTask.templateRef,
              depends: 'split',
              withParam: '{{tasks.split.outputs.parameters.items}}',
              arguments: {
                parameters: [
                  { name: 'input', value: `${split.url}/{{item}}.json` },
                  { name: 'output', value: `${items.url}/{{item}}/output.json` },
                  ...paramNames.map((p) => ({ name: p, value: `{{inputs.parameters.param-${p}}}` })),
                ],
              },
            },
            {
              name: 'merge',
              template: `${this.templateName}-merge`,
              depends: 'item',
              arguments: { parameters: [{ name: 'count', value: "{{=len(fromJSON(tasks.split.outputs.parameters.items))}}" }] },
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
          parameters: [{ name: 'items', valueFrom: { path: `${SCRATCH}/items.json` } }],
          artifacts: [{ name: 'split', path: `${SCRATCH}/split`, archive: { none: {} }, s3: s3(split.key) }],
        },
        volumes: scratch.volumes,
        script: {
          ...pod('split', {
            SWOOP_INPUT: '{{inputs.parameters.input}}',
            SWOOP_PAYLOAD_FILE: `${INPUTS}/payload.json`,
            SWOOP_SPLIT_DIR: `${SCRATCH}/split`,
            SWOOP_ITEMS_FILE: `${SCRATCH}/items.json`,
          }),
          volumeMounts: scratch.volumeMounts,
        },
      },
      {
        name: `${this.templateName}-merge`,
        inputs: {
          parameters: [{ name: 'count' }],
          artifacts: [
            { name: 'base', path: `${INPUTS}/base.json`, s3: s3(this.location('split/base.json').key) },
            // No iteration (no features): no object under items/.
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
            SWOOP_ITEM_COUNT: '{{inputs.parameters.count}}',
            SWOOP_MERGED_FILE: `${SCRATCH}/merged/output.json`,
          }),
          volumeMounts: scratch.volumeMounts,
        },
      },
    ];
  }

  protected validateSpecific(): string[] {
    // Artifacts are refused below with a map's own reason, not "pass one in artifacts".
    const errors = checkArguments(this.itemTask, this.parameters, {}).filter((e) => !e.includes('input artifact'));
    if (Object.values(this.itemTask.inputArtifacts ?? {}).some((a) => !(a as { optional?: boolean }).optional)) {
      errors.push(`task "${this.itemTask.taskName}" needs input artifacts, which a map iteration cannot pass; map a task whose inputs are the payload and parameters`);
    }
    const m = this.props.maxConcurrency;
    if (m !== undefined && (!Number.isInteger(m) || m < 1)) errors.push(`maxConcurrency is ${m}; give a whole number of iterations, at least 1, or leave it out`);
    for (const name of Object.keys(this.parameters)) {
      if (!/^[a-zA-Z0-9][-a-zA-Z0-9_]*$/.test(name)) errors.push(`parameter name "${name}" is not a valid Argo parameter name`);
    }
    return errors;
  }
}
