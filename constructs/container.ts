import { Size, SizeRoundingBehavior } from 'cdk8s';
import { Cpu, type ContainerResources } from 'cdk8s-plus-27';
import {
  COMPUTE_CLASSES, COMPUTE_CLASS_LABEL, GPU_RESOURCE, isComputeClassName, placementOn, type ComputeClassName, type TaskComputeClass,
} from './compute-classes';
import { listed, strictRecord } from './checks';
import { failAt } from './errors';
import { imagePinProblem } from './image';
import { INPUT_ENV, INPUT_PARAM, OUTPUT_ENV, OUTPUT_PARAM } from './platform';
import type { InputArtifacts, InputParameters } from './task';

/** An environment variable read from a Secret, a ConfigMap or the pod itself. */
export class EnvSource {
  /** A key of a Secret in the workflow's namespace. */
  public static secret(name: string, key: string, options: { optional?: boolean } = {}): EnvSource {
    return new EnvSource({ secretKeyRef: { name, key, ...(options.optional ? { optional: true } : {}) } });
  }

  /** A key of a ConfigMap in the workflow's namespace. */
  public static configMap(name: string, key: string, options: { optional?: boolean } = {}): EnvSource {
    return new EnvSource({ configMapKeyRef: { name, key, ...(options.optional ? { optional: true } : {}) } });
  }

  /** A field of the pod, e.g. `metadata.name`. */
  public static field(fieldPath: string): EnvSource {
    return new EnvSource({ fieldRef: { fieldPath } });
  }

  private constructor(public readonly valueFrom: Record<string, unknown>) {}
}

/** Anything with cdk8s-plus `EnvValue`'s shape is accepted too. */
export type EnvEntry = string | EnvSource | { readonly value?: unknown; readonly valueFrom?: unknown };

/** Template-text handles a task uses in `args`/`env` to read its own inputs. */
export interface TaskIO<IP extends InputParameters, IA extends InputArtifacts> {
  /** The input payload location (`{{inputs.parameters.input}}`). */
  readonly input: string;
  /** Where to write the output payload (`{{inputs.parameters.output}}`). */
  readonly output: string;
  /** Each declared input parameter, as template text. */
  readonly parameters: { readonly [K in keyof IP]: string };
  /** Each declared input artifact, as the path it is fetched to. */
  readonly artifacts: { readonly [K in keyof IA]: string };
}

export interface ContainerSettings<IP extends InputParameters, IA extends InputArtifacts> {
  /** Pinned image: a version tag or a digest. `:latest`, a missing tag or another moving tag is rejected. */
  readonly image: string;
  /** Entrypoint override. @default the image's entrypoint */
  readonly command?: readonly string[];
  /** Arguments; a function receives typed handles on the task's inputs. @default the image's CMD */
  readonly args?: readonly string[] | ((io: TaskIO<IP, IA>) => readonly string[]);
  /** Extra environment (SWOOP_INPUT and SWOOP_OUTPUT are always set). @default none */
  readonly env?: Readonly<Record<string, EnvEntry | ((io: TaskIO<IP, IA>) => string)>>;
  /** Requests and limits. @default cpu request 250m, memory request and limit 512Mi */
  readonly resources?: ContainerResources;
  /** NVIDIA GPUs (the `nvidia.com/gpu` limit). Implies compute class `gpu`. @default 0 */
  readonly gpus?: number;
  /** Node pool (constructs/compute-classes.ts). @default 'gpu' when gpus > 0, else 'general' */
  readonly computeClass?: TaskComputeClass;
  /** @default the image's working directory */
  readonly workingDir?: string;
  /** UID the container runs as (non-root is enforced). @default 1000 */
  readonly runAsUser?: number;
  /** Mount the root filesystem read-only (tasks then write under /tmp via an emptyDir). @default false */
  readonly readOnlyRootFilesystem?: boolean;
}

const DEFAULT_CPU = Cpu.millis(250);
const DEFAULT_MEMORY = Size.mebibytes(512);
const DEFAULT_UID = 1000;

export function cpuMillis(cpu: Cpu): number {
  const amount = cpu.amount;
  return amount.endsWith('m') ? Number(amount.slice(0, -1)) : Math.round(Number(amount) * 1000);
}

export function sizeQuantity(size: Size): string {
  const mib = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  return Number.isInteger(mib) ? `${mib}Mi` : `${Math.ceil(size.toKibibytes({ rounding: SizeRoundingBehavior.NONE }))}Ki`;
}

function mebibytes(size: Size): number {
  return size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
}

/** The typed handles a task's args/env functions receive, for a template whose inputs are named as declared. */
export function taskIO<IP extends InputParameters, IA extends InputArtifacts>(
  parameters: IP, artifacts: IA, rename: (name: string) => string = (n) => n, path = 'task',
): TaskIO<IP, IA> {
  const tag = (name: string) => `{{inputs.parameters.${rename(name)}}}`;
  const undeclared = (kind: string, names: string[]) => (name: string): never =>
    failAt(path, `args/env read io.${kind}.${name}, but the task declares no input ${kind === 'parameters' ? 'parameter' : 'artifact'} "${name}" (declared: ${listed(names)}); declare it in the task's inputs`);
  return {
    input: tag(INPUT_PARAM),
    output: tag(OUTPUT_PARAM),
    parameters: strictRecord(
      Object.fromEntries(Object.keys(parameters).map((k) => [k, tag(k)])), undeclared('parameters', Object.keys(parameters)),
    ) as TaskIO<IP, IA>['parameters'],
    artifacts: strictRecord(
      Object.fromEntries(Object.entries(artifacts).map(([k, spec]) => [k, spec.path])), undeclared('artifacts', Object.keys(artifacts)),
    ) as TaskIO<IP, IA>['artifacts'],
  };
}

/** Compute class a container lands on. */
export function resolveComputeClass(settings: { gpus?: number; computeClass?: string }): string {
  return settings.computeClass ?? ((settings.gpus ?? 0) > 0 ? 'gpu' : 'general');
}

export interface Demand {
  readonly cpuMillis: number;
  readonly memoryMiB: number;
  readonly gpus: number;
}

export function demandOf(settings: { resources?: ContainerResources; gpus?: number }): Demand {
  return {
    cpuMillis: cpuMillis(settings.resources?.cpu?.request ?? DEFAULT_CPU),
    memoryMiB: mebibytes(settings.resources?.memory?.request ?? DEFAULT_MEMORY),
    gpus: settings.gpus ?? 0,
  };
}

/** Problems with placing `demand` on a compute class; also used for the sum over a container group. */
export function placementProblems(computeClass: string, demand: Demand, what = 'requests'): string[] {
  const known = Object.keys(COMPUTE_CLASSES).filter((c) => COMPUTE_CLASSES[c as ComputeClassName].forTasks);
  if (!isComputeClassName(computeClass)) {
    return [`compute class "${computeClass}" does not exist; use one of ${known.join(', ')} (constructs/compute-classes.ts)`];
  }
  const spec = COMPUTE_CLASSES[computeClass];
  if (!spec.forTasks) return [`compute class "${computeClass}" is reserved for the platform; use one of ${known.join(', ')}`];
  const errors: string[] = [];
  const larger = (check: (c: ComputeClassName) => boolean) =>
    known.filter((c) => c !== computeClass && check(c as ComputeClassName)).join(', ') || 'none';
  if (demand.gpus > 0 && spec.maxPod.gpus === 0) {
    errors.push(`${what} ${demand.gpus} GPU(s) but compute class "${computeClass}" has no GPUs; use computeClass 'gpu' or remove gpus`);
  } else if (demand.gpus > spec.maxPod.gpus) {
    errors.push(`${what} ${demand.gpus} GPUs but a pod on compute class "${computeClass}" can get at most ${spec.maxPod.gpus}; request at most ${spec.maxPod.gpus}`);
  }
  if (demand.cpuMillis > spec.maxPod.cpuMillis) {
    errors.push(
      `${what} ${demand.cpuMillis}m CPU but a pod on compute class "${computeClass}" can get at most ${spec.maxPod.cpuMillis}m; ` +
        `lower it or choose a class that fits (${larger((c) => COMPUTE_CLASSES[c].maxPod.cpuMillis >= demand.cpuMillis)})`,
    );
  }
  if (demand.memoryMiB > spec.maxPod.memoryMiB) {
    errors.push(
      `${what} ${demand.memoryMiB}Mi memory but a pod on compute class "${computeClass}" can get at most ${spec.maxPod.memoryMiB}Mi; ` +
        `lower it or choose a class that fits (${larger((c) => COMPUTE_CLASSES[c].maxPod.memoryMiB >= demand.memoryMiB)})`,
    );
  }
  return errors;
}

/** Problems with one container's settings (image, GPUs, requests vs limits, class fit). */
export function containerProblems(settings: ContainerSettings<InputParameters, InputArtifacts>): string[] {
  const errors: string[] = [];
  const image = imagePinProblem(settings.image);
  if (image) errors.push(image);
  const gpus = settings.gpus ?? 0;
  if (!Number.isInteger(gpus) || gpus < 0) {
    errors.push(`gpus is ${gpus}; use a whole number >= 0`);
  }
  const r = settings.resources;
  if (r?.cpu?.request && r.cpu.limit && cpuMillis(r.cpu.limit) < cpuMillis(r.cpu.request)) {
    errors.push(`CPU limit ${r.cpu.limit.amount} is below its request ${r.cpu.request.amount}; raise the limit or drop it`);
  }
  const memRequest = r?.memory?.request ?? DEFAULT_MEMORY;
  if (r?.memory?.limit && mebibytes(r.memory.limit) < mebibytes(memRequest)) {
    errors.push(`memory limit ${sizeQuantity(r.memory.limit)} is below its request ${sizeQuantity(memRequest)}; raise the limit`);
  }
  if (settings.runAsUser === 0) errors.push('runAsUser 0 is root; tasks run as non-root, pick a non-zero UID');
  if (gpus >= 0 && Number.isInteger(gpus)) {
    errors.push(...placementProblems(resolveComputeClass(settings), demandOf(settings)));
  }
  return errors;
}

function renderEnv(
  env: ContainerSettings<InputParameters, InputArtifacts>['env'],
  io: TaskIO<InputParameters, InputArtifacts>,
): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [
    { name: INPUT_ENV, value: io.input },
    { name: OUTPUT_ENV, value: io.output },
  ];
  for (const [name, entry] of Object.entries(env ?? {})) {
    if (typeof entry === 'function') entries.push({ name, value: entry(io) });
    else if (typeof entry === 'string') entries.push({ name, value: entry });
    else if (entry instanceof EnvSource) entries.push({ name, valueFrom: entry.valueFrom });
    else entries.push({ name, ...(entry.valueFrom !== undefined ? { valueFrom: entry.valueFrom } : { value: String(entry.value ?? '') }) });
  }
  return entries;
}

/** The Kubernetes container (without name) for a task's settings. */
export function renderContainer(
  settings: ContainerSettings<InputParameters, InputArtifacts>,
  io: TaskIO<InputParameters, InputArtifacts>,
): Record<string, unknown> {
  const r = settings.resources;
  const requests: Record<string, string> = {
    cpu: (r?.cpu?.request ?? DEFAULT_CPU).amount,
    memory: sizeQuantity(r?.memory?.request ?? DEFAULT_MEMORY),
  };
  // Memory is incompressible: the limit defaults to the request so a pod cannot starve its node.
  const limits: Record<string, string> = { memory: sizeQuantity(r?.memory?.limit ?? r?.memory?.request ?? DEFAULT_MEMORY) };
  if (r?.cpu?.limit) limits.cpu = r.cpu.limit.amount;
  if (r?.ephemeralStorage?.request) requests['ephemeral-storage'] = sizeQuantity(r.ephemeralStorage.request);
  if (r?.ephemeralStorage?.limit) limits['ephemeral-storage'] = sizeQuantity(r.ephemeralStorage.limit);
  if ((settings.gpus ?? 0) > 0) limits[GPU_RESOURCE] = String(settings.gpus);
  const args = typeof settings.args === 'function' ? settings.args(io) : settings.args;
  return {
    image: settings.image,
    ...(settings.command ? { command: [...settings.command] } : {}),
    ...(args ? { args: [...args] } : {}),
    ...(settings.workingDir ? { workingDir: settings.workingDir } : {}),
    env: renderEnv(settings.env, io),
    resources: { requests, limits },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
      readOnlyRootFilesystem: settings.readOnlyRootFilesystem ?? false,
    },
    ...(settings.readOnlyRootFilesystem ? { volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] } : {}),
  };
}

/** Pod-level fields of a task's template: placement on its compute class and the pod security context. */
export function renderPodFields(settings: { gpus?: number; computeClass?: string; runAsUser?: number; readOnlyRootFilesystem?: boolean }): Record<string, unknown> {
  const computeClass = resolveComputeClass(settings);
  const uid = settings.runAsUser ?? DEFAULT_UID;
  return {
    // An unknown class is a validation error reported elsewhere; render its label alone meanwhile.
    ...(isComputeClassName(computeClass) ? placementOn(computeClass) : { nodeSelector: { [COMPUTE_CLASS_LABEL]: computeClass } }),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: uid,
      fsGroup: uid,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(settings.readOnlyRootFilesystem ? { volumes: [{ name: 'tmp', emptyDir: {} }] } : {}),
  };
}
