import { type ApiObject, Duration } from 'cdk8s';
import {
  containerProblems, renderContainer, renderPodFields, resolveComputeClass, taskIO, type ContainerSettings,
} from './container';
import { checkContainer, checkDuration, checkRetry, checkString } from './checks';
import { standardLabels } from './names';
import {
  ARTIFACT_REPOSITORY_CONFIGMAP, ARTIFACT_REPOSITORY_KEY, INPUT_PARAM, OUTPUT_PARAM, TASK_ENTRY_TEMPLATE, WORKFLOW_SERVICE_ACCOUNT,
} from './platform';
import {
  renderRetry, Task, type InputArtifacts, type InputParameters, type None, type OutputArtifacts, type OutputParameters,
  normalizeRetry, retryProblems, type RetryPolicy, type RetrySpec, type TaskBaseProps,
} from './task';
import { TaskLibrary } from './task-library';

export interface ContainerTaskProps<IP extends InputParameters, OP extends OutputParameters, IA extends InputArtifacts, OA extends OutputArtifacts>
  extends TaskBaseProps<IP, OP, IA, OA>, ContainerSettings<IP, IA> {
  /**
   * How failed attempts are retried: `{ limit, policy, backoff }`, or rules by error
   * (`[{ on: ['throttled'], limit: 5 }]`, or `{ rules, backoff }`; constructs/retry.ts).
   * @default 2 retries of any failure, 10s backoff doubling, for at most 10 minutes
   */
  readonly retry?: RetrySpec;
  /** Deadline of one attempt (`activeDeadlineSeconds`). @default none: the workflow timeout applies */
  readonly timeout?: Duration;
  /** Service account of the task's pod. @default the workflow's (`swoop-workflow`) */
  readonly serviceAccountName?: string;
}

export const DEFAULT_TASK_RETRY: RetryPolicy = {
  limit: 2,
  policy: 'Always',
  backoff: { delay: Duration.seconds(10), factor: 2, maxDuration: Duration.minutes(10) },
};

/** File a task may write the output URL it actually used to; otherwise the computed `output` is reported. */
export const OUTPUT_URL_FILE = '/tmp/swoop/output-url';

/**
 * A task that runs a container in its own pod.
 *
 * ```ts
 * const cogify = new ContainerTask(library, 'cogify', {
 *   image: 'ghcr.io/osgeo/gdal:ubuntu-small-3.9.2',
 *   inputs: { parameters: { asset: {} } },
 *   args: (io) => ['swoop-cogify', io.input, io.output, '--asset', io.parameters.asset],
 *   resources: { cpu: { request: Cpu.units(2) }, memory: { request: Size.gibibytes(8) } },
 * });
 * ```
 */
export class ContainerTask<
  IP extends InputParameters = None,
  OP extends OutputParameters = None,
  IA extends InputArtifacts = None,
  OA extends OutputArtifacts = None,
> extends Task<IP, OP, IA, OA> {
  public readonly kind = 'container' as const;
  public readonly settings: ContainerSettings<IP, IA>;
  public readonly retry: RetryPolicy;
  public readonly timeout?: Duration;
  public readonly serviceAccountName?: string;
  public readonly computeClass: string;
  public readonly workflowTemplate: ApiObject;

  constructor(scope: TaskLibrary, id: string, props: ContainerTaskProps<IP, OP, IA, OA>) {
    super(scope, id, props);
    checkContainer(this.node.path, props as unknown as Record<string, unknown>);
    checkRetry(this.node.path, 'retry', props.retry);
    checkDuration(this.node.path, 'timeout', props.timeout);
    checkString(this.node.path, 'serviceAccountName', props.serviceAccountName);
    this.settings = props;
    this.retry = normalizeRetry(props.retry, DEFAULT_TASK_RETRY);
    this.timeout = props.timeout;
    this.serviceAccountName = props.serviceAccountName;
    this.computeClass = resolveComputeClass(props);
    this.node.addValidation({ validate: () => containerProblems(this.settings as ContainerSettings<InputParameters, InputArtifacts>) });
    this.node.addValidation({
      validate: () => retryProblems(this.retry, this.errors),
    });
    const library = TaskLibrary.of(this);
    this.workflowTemplate = this.newWorkflowTemplate(library.namespace, standardLabels(this.taskName, 'task', this.version), () => this.renderSpec());
  }

  /** The container with the template's input names rewritten by `rename` (used for container groups). @internal */
  public renderContainer(rename: (name: string) => string = (n) => n): Record<string, unknown> {
    return renderContainer(
      this.settings as ContainerSettings<InputParameters, InputArtifacts>,
      taskIO(this.inputParameters, this.inputArtifacts, rename, this.node.path),
    );
  }

  /** Pod-level fields (placement, security context). @internal */
  public renderPodFields(): Record<string, unknown> {
    return renderPodFields(this.settings);
  }

  private renderSpec(): Record<string, unknown> {
    const template = {
      name: TASK_ENTRY_TEMPLATE,
      metadata: { labels: standardLabels(this.taskName, 'task', this.version) },
      inputs: this.renderInputs(),
      outputs: {
        parameters: [
          { name: OUTPUT_PARAM, valueFrom: { path: OUTPUT_URL_FILE, default: `{{inputs.parameters.${OUTPUT_PARAM}}}` } },
          ...Object.entries(this.outputParameters).map(([name, spec]) => ({
            name,
            valueFrom: { path: spec.path, ...(spec.default !== undefined ? { default: spec.default } : {}) },
            ...(spec.description ? { description: spec.description } : {}),
          })),
        ],
        artifacts: Object.entries(this.outputArtifacts).map(([name, spec]) => ({
          name,
          path: spec.path,
          ...(spec.optional ? { optional: true } : {}),
          ...(spec.raw === false ? {} : { archive: { none: {} } }),
        })),
      },
      container: { name: 'main', ...this.renderContainer() },
      ...this.renderPodFields(),
      retryStrategy: renderRetry(this.retry, this.errors),
      ...(this.timeout ? { activeDeadlineSeconds: this.timeout.toSeconds() } : {}),
      ...(this.serviceAccountName ? { serviceAccountName: this.serviceAccountName } : {}),
    };
    // Runnable on its own for debugging (`argo submit --from workflowtemplate/<task> -p input=...
    // -p output=...`) unless it needs an input artifact, which a bare submission cannot pass.
    const runnableAlone = Object.values(this.inputArtifacts).every((spec) => spec.optional);
    return {
      ...(runnableAlone ? { entrypoint: TASK_ENTRY_TEMPLATE } : {}),
      serviceAccountName: WORKFLOW_SERVICE_ACCOUNT,
      artifactRepositoryRef: { configMap: ARTIFACT_REPOSITORY_CONFIGMAP, key: ARTIFACT_REPOSITORY_KEY },
      arguments: {
        parameters: [
          { name: INPUT_PARAM },
          { name: OUTPUT_PARAM },
          ...Object.entries(this.inputParameters).map(([name, spec]) => ({ name, ...(spec.default !== undefined ? { value: spec.default } : {}) })),
        ],
      },
      templates: [template],
    };
  }
}
