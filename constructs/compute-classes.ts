/**
 * Compute classes: the one list of node pools shared by the construct library (which
 * schedules task pods onto them) and the Pulumi infrastructure (which creates them).
 * Changing a class here changes both the manifests in dist/ and the node groups.
 */

/** The node label every pool carries; tasks select their pool with it. */
export const COMPUTE_CLASS_LABEL = 'swoop.dev/compute-class';

/** The taint (and extended resource) that keeps non-GPU pods off GPU nodes. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

export interface ComputeClassSpec {
  /** What the pool is for, shown in docs and errors. */
  readonly description: string;
  /** EC2 instance types the pool may launch, largest last. */
  readonly instanceTypes: readonly string[];
  /** Spot capacity allowed (interruptible, cheaper). */
  readonly spot: boolean;
  /** GPUs per node of the smallest instance type; 0 for CPU pools. */
  readonly gpusPerNode: number;
  /** Taints nodes of this pool carry; pods must tolerate them to land there. */
  readonly taints: readonly { key: string; value?: string; effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule' }[];
  /** Node-group scaling bounds (min may be 0: the pool scales from zero). */
  readonly scaling: { readonly min: number; readonly max: number };
  /** Largest allocatable request a single pod may make on this pool (after system reserve). */
  readonly maxPod: { readonly cpuMillis: number; readonly memoryMiB: number; readonly gpus: number };
  /** Whether workflow tasks may select this pool (the system pool is for controllers only). */
  readonly forTasks: boolean;
}

export const COMPUTE_CLASSES = {
  system: {
    description: 'cluster add-ons, Argo controllers and the state service',
    instanceTypes: ['m6i.large'],
    spot: false,
    gpusPerNode: 0,
    taints: [{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NoSchedule' }],
    scaling: { min: 2, max: 4 },
    maxPod: { cpuMillis: 1_900, memoryMiB: 7_000, gpus: 0 },
    forTasks: false,
  },
  general: {
    description: 'ordinary CPU tasks (spot)',
    instanceTypes: ['m6i.xlarge', 'm6i.2xlarge', 'm6i.4xlarge'],
    spot: true,
    gpusPerNode: 0,
    taints: [],
    scaling: { min: 0, max: 50 },
    maxPod: { cpuMillis: 15_800, memoryMiB: 60_000, gpus: 0 },
    forTasks: true,
  },
  memory: {
    description: 'memory-heavy tasks such as mosaics and large rasters',
    instanceTypes: ['r6i.2xlarge', 'r6i.4xlarge', 'r6i.8xlarge'],
    spot: true,
    gpusPerNode: 0,
    taints: [{ key: 'swoop.dev/memory', value: 'true', effect: 'NoSchedule' }],
    scaling: { min: 0, max: 20 },
    maxPod: { cpuMillis: 31_800, memoryMiB: 250_000, gpus: 0 },
    forTasks: true,
  },
  gpu: {
    description: 'NVIDIA GPU tasks such as ML cloud masking',
    instanceTypes: ['g5.xlarge', 'g5.2xlarge', 'g5.12xlarge'],
    spot: false,
    gpusPerNode: 1,
    taints: [{ key: GPU_RESOURCE, value: 'true', effect: 'NoSchedule' }],
    scaling: { min: 0, max: 10 },
    maxPod: { cpuMillis: 47_800, memoryMiB: 185_000, gpus: 4 },
    forTasks: true,
  },
} as const satisfies Record<string, ComputeClassSpec>;

export type ComputeClassName = keyof typeof COMPUTE_CLASSES;

/** Compute classes a task may ask for. */
export type TaskComputeClass = {
  [K in ComputeClassName]: (typeof COMPUTE_CLASSES)[K]['forTasks'] extends true ? K : never;
}[ComputeClassName];

export function isComputeClassName(name: string): name is ComputeClassName {
  return Object.prototype.hasOwnProperty.call(COMPUTE_CLASSES, name);
}

/** Kubernetes toleration of one taint of a pool. */
export interface Toleration {
  readonly key: string;
  readonly operator: 'Equal' | 'Exists';
  readonly value?: string;
  readonly effect: string;
}

/** Where a pod of a class runs: the pool's node label, and a toleration for each of its taints. */
export function placementOn(name: ComputeClassName): { nodeSelector: Record<string, string>; tolerations?: Toleration[] } {
  const tolerations: Toleration[] = COMPUTE_CLASSES[name].taints.map((t: ComputeClassSpec['taints'][number]) => ({
    key: t.key,
    operator: t.value === undefined ? 'Exists' : 'Equal',
    ...(t.value === undefined ? {} : { value: t.value }),
    effect: t.effect,
  }));
  return { nodeSelector: { [COMPUTE_CLASS_LABEL]: name }, ...(tolerations.length ? { tolerations } : {}) };
}
