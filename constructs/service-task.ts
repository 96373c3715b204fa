import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { COMPUTE_CLASSES, COMPUTE_CLASS_LABEL, isComputeClassName, type TaskComputeClass } from './compute-classes';
import { containerProblems, renderContainer, resolveComputeClass, taskIO, type EnvEntry } from './container';
import { checkContainer, checkDuration, checkNumber, checkRetry, checkString } from './checks';
import { standardLabels } from './names';
import { INPUT_PARAM, OUTPUT_PARAM, TASK_ENTRY_TEMPLATE } from './platform';
import { index, quote } from './refs';
import { normalizeRetry, renderRetry, retryProblems, Task, type InputParameters, type None, type RetryPolicy, type RetrySpec } from './task';
import { TaskLibrary } from './task-library';

export interface ServiceTaskProps<IP extends InputParameters> {
  /** Name of the WorkflowTemplate, Deployment and Service. @default the construct id */
  readonly name?: string;
  readonly version?: string;
  readonly description?: string;
  /** Small parameters, sent in the request body's `parameters` object. */
  readonly inputs?: { readonly parameters?: IP };
  /** Pinned image of the warm service. */
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, EnvEntry>>;
  /** Port the service listens on. @default 8080 */
  readonly port?: number;
  /** Request path of the task endpoint. @default '/' */
  readonly path?: string;
  /** Path answering 200 when the service is ready. @default a TCP check on the port */
  readonly readinessPath?: string;
  /** Warm replicas. @default 2 */
  readonly replicas?: number;
  /** Requests and limits of each replica. @default cpu request 250m, memory 512Mi */
  readonly resources?: kplus.ContainerResources;
  /** @default 'general' */
  readonly computeClass?: TaskComputeClass;
  /** Longest one request may take. @default 5 minutes */
  readonly timeout?: Duration;
  /** Retries of a failed request (non-2xx or timeout); rules may match classes and messages, not exit codes. @default 3, 5s backoff doubling */
  readonly retry?: RetrySpec;
  /** UID of the service's container. @default 1000 */
  readonly runAsUser?: number;
}

export const DEFAULT_SERVICE_RETRY: RetryPolicy = { limit: 3, policy: 'Always', backoff: { delay: Duration.seconds(5), factor: 2 } };

/**
 * A task served by a warm container (Deployment + Service) and called by an Argo HTTP step,
 * which runs in the workflow's shared agent pod: no pod start per call. This is how cirrus
 * "lambda" tasks run. The service receives `POST <path>` with
 * `{"input": <input>, "output": <output URL>, "parameters": {...}}`, writes the output payload
 * and answers 2xx with `{"output": <output URL>}`.
 */
export class ServiceTask<IP extends InputParameters = None> extends Task<IP, None, None, None> {
  public readonly kind = 'service' as const;
  public readonly port: number;
  public readonly path: string;
  public readonly url: string;
  public readonly deployment: kplus.Deployment;
  public readonly service: kplus.Service;
  public readonly workflowTemplate: ApiObject;
  private readonly timeout: Duration;
  private readonly retry: RetryPolicy;

  constructor(scope: TaskLibrary, id: string, props: ServiceTaskProps<IP>) {
    super(scope, id, { name: props.name, version: props.version, description: props.description, inputs: props.inputs });
    checkContainer(this.node.path, props as unknown as Record<string, unknown>);
    checkDuration(this.node.path, 'timeout', props.timeout);
    checkRetry(this.node.path, 'retry', props.retry);
    checkNumber(this.node.path, 'port', props.port);
    checkNumber(this.node.path, 'replicas', props.replicas);
    checkString(this.node.path, 'path', props.path);
    const library = TaskLibrary.of(this);
    this.port = props.port ?? 8080;
    this.path = props.path ?? '/';
    this.timeout = props.timeout ?? Duration.minutes(5);
    this.retry = normalizeRetry(props.retry, DEFAULT_SERVICE_RETRY);
    this.node.addValidation({ validate: () => retryProblems(this.retry, this.errors, { exitCodes: false }) });
    this.url = `http://${this.taskName}.${library.namespace}.svc.cluster.local:${this.port}${this.path}`;
    const settings = { ...props, gpus: 0 };
    this.node.addValidation({ validate: () => containerProblems(settings) });
    this.node.addValidation({
      validate: () => (this.path.startsWith('/') ? [] : [`path "${this.path}" does not start with "/"; use "/${this.path}"`]),
    });

    const labels = standardLabels(this.taskName, 'service-task', this.version);
    const uid = props.runAsUser ?? 1000;
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: this.taskName, labels },
      replicas: props.replicas ?? 2,
      podMetadata: { labels },
      automountServiceAccountToken: false,
      securityContext: { ensureNonRoot: true, user: uid, group: uid, fsGroup: uid },
      containers: [
        {
          name: 'main',
          image: props.image,
          portNumber: this.port,
          command: props.command ? [...props.command] : undefined,
          args: props.args ? [...props.args] : undefined,
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          // Same defaults as container tasks; the memory limit defaults to the request.
          resources: {
            cpu: { request: props.resources?.cpu?.request ?? kplus.Cpu.millis(250), limit: props.resources?.cpu?.limit },
            memory: {
              request: props.resources?.memory?.request ?? Size.mebibytes(512),
              limit: props.resources?.memory?.limit ?? props.resources?.memory?.request ?? Size.mebibytes(512),
            },
            ephemeralStorage: props.resources?.ephemeralStorage,
          },
          securityContext: {
            ensureNonRoot: true,
            user: uid,
            group: uid,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: false,
          },
          readiness: props.readinessPath
            ? kplus.Probe.fromHttpGet(props.readinessPath, { port: this.port })
            : kplus.Probe.fromTcpSocket({ port: this.port }),
        },
      ],
    });
    const computeClass = resolveComputeClass(settings);
    ApiObject.of(this.deployment).addJsonPatch(
      JsonPatch.add('/spec/template/spec/nodeSelector', { [COMPUTE_CLASS_LABEL]: computeClass }),
      JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
      // cdk8s-plus has no "ALL" capability constant.
      JsonPatch.add('/spec/template/spec/containers/0/securityContext/capabilities', { drop: ['ALL'] }),
      // Same env and resources rendering as container tasks (Secret/ConfigMap references included).
      JsonPatch.add('/spec/template/spec/containers/0/env', (renderContainer(settings, taskIO({}, {})).env as { name: string }[])
        .filter((e) => e.name !== 'SWOOP_INPUT' && e.name !== 'SWOOP_OUTPUT')),
    );
    if (isComputeClassName(computeClass)) {
      const tolerations = COMPUTE_CLASSES[computeClass].taints.map((t) => ({ key: t.key, operator: 'Equal', value: t.value, effect: t.effect }));
      if (tolerations.length) ApiObject.of(this.deployment).addJsonPatch(JsonPatch.add('/spec/template/spec/tolerations', tolerations));
    }
    this.service = this.deployment.exposeViaService({
      name: this.taskName,
      ports: [{ port: this.port, targetPort: this.port }],
    });
    this.service.metadata.addLabel('app.kubernetes.io/name', this.taskName);

    this.workflowTemplate = this.newWorkflowTemplate(library.namespace, labels, () => ({ templates: [this.renderTemplate()] }));
  }

  private renderTemplate(): Record<string, unknown> {
    const params = Object.keys(this.inputParameters)
      .map((p) => `${quote(p)}: ${index('inputs.parameters', p)}`)
      .join(', ');
    // The spaces keep "}}" out of the expression: Argo ends a {{=...}} tag at the first "}}".
    const body = `{'input': inputs.parameters.${INPUT_PARAM}, 'output': inputs.parameters.${OUTPUT_PARAM}, 'parameters': { ${params} } }`;
    return {
      name: TASK_ENTRY_TEMPLATE,
      inputs: this.renderInputs(),
      http: {
        url: this.url,
        method: 'POST',
        headers: [{ name: 'Content-Type', value: 'application/json' }],
        body: `{{=toJson(${body})}}`,
        successCondition: 'response.statusCode >= 200 && response.statusCode < 300',
        timeoutSeconds: this.timeout.toSeconds(),
      },
      retryStrategy: renderRetry(this.retry),
    };
  }
}
