import { COMPUTE_CLASSES, COMPUTE_CLASS_LABEL, GPU_RESOURCE, isComputeClassName, type ComputeClassSpec } from '../../constructs/compute-classes';
import type { LintDocument } from './documents';
import type { LintContext } from './context';
import { at, list, obj, objects, str, type Json } from './json';
import { templateType } from './workflow-model';

/**
 * Every container asks for CPU and memory (the autoscaler sizes nodes from requests), and
 * every pod can land where it asks to: a pod that selects a compute class tolerates that
 * pool's taints, and a pod that requests GPUs selects a GPU pool and fits on its nodes.
 * Pools come from constructs/compute-classes.ts, the list the infrastructure also builds.
 */
export function checkPods(ctx: LintContext): void {
  for (const unit of ctx.workflows.units) {
    const defaults = obj(unit.spec.templateDefaults);
    for (const site of unit.sites) {
      const type = templateType(site.template);
      if (type !== 'container' && type !== 'script' && type !== 'containerSet') continue;
      const t = site.template;
      const containers: PodContainer[] = [];
      if (type === 'containerSet') {
        objects(obj(t.containerSet).containers).forEach((c, i) => containers.push({ container: c, path: at(`${site.path}.containerSet.containers`, c, i), label: `container "${str(c.name) ?? i}"` }));
      } else {
        const main = obj(t[type]);
        const fallback = obj(obj(defaults[type]).resources);
        containers.push({ container: main.resources ? main : { ...main, resources: fallback }, path: `${site.path}.${type}`, label: type === 'container' ? 'the container' : 'the script container' });
      }
      for (const key of ['initContainers', 'sidecars']) {
        objects(t[key]).forEach((c, i) => containers.push({ container: c, path: at(`${site.path}.${key}`, c, i), label: `${key === 'sidecars' ? 'sidecar' : 'init container'} "${str(c.name) ?? i}"` }));
      }
      const pod: Pod = {
        nodeSelector: { ...obj(unit.spec.nodeSelector), ...obj(defaults.nodeSelector), ...obj(t.nodeSelector) },
        tolerations: [...objects(unit.spec.tolerations), ...objects(defaults.tolerations), ...objects(t.tolerations)],
        affinity: obj(t.affinity ?? defaults.affinity ?? unit.spec.affinity),
      };
      checkPod(ctx, unit.doc, site.path, `template "${site.name}"`, pod, containers, true);
    }
  }
  for (const doc of ctx.inventory.documents) {
    const found = workloadPodSpec(doc);
    if (!found) continue;
    const { spec, path } = found;
    const containers = ['initContainers', 'containers'].flatMap((key) =>
      objects(spec[key]).map((c, i) => ({ container: c, path: at(`${path}.${key}`, c, i), label: `container "${str(c.name) ?? i}"` })),
    );
    checkPod(ctx, doc, path, 'the pod', { nodeSelector: obj(spec.nodeSelector), tolerations: objects(spec.tolerations), affinity: obj(spec.affinity) }, containers, false);
  }
}

interface PodContainer {
  readonly container: Json;
  readonly path: string;
  readonly label: string;
}

interface Pod {
  readonly nodeSelector: Json;
  readonly tolerations: Json[];
  readonly affinity: Json;
}

function workloadPodSpec(doc: LintDocument): { spec: Json; path: string } | undefined {
  const spec = obj(doc.body.spec);
  if (doc.kind === 'Pod') return { spec, path: 'spec' };
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(doc.kind)) return { spec: obj(obj(spec.template).spec), path: 'spec.template.spec' };
  if (doc.kind === 'CronJob') return { spec: obj(obj(obj(obj(spec.jobTemplate).spec).template).spec), path: 'spec.jobTemplate.spec.template.spec' };
  return undefined;
}

function checkPod(ctx: LintContext, doc: LintDocument, podPath: string, podLabel: string, pod: Pod, containers: PodContainer[], isTask: boolean): void {
  let gpus = 0;
  for (const { container, path, label } of containers) {
    const resources = obj(container.resources);
    // Kubernetes copies a limit into a missing request, so a limit alone is a request too.
    const amount = (name: string): unknown => obj(resources.requests)[name] ?? obj(resources.limits)[name];
    for (const [name, what] of [['cpu', 'CPU'], ['memory', 'memory']] as const) {
      if (amount(name) === undefined) ctx.report(doc, path, 'container-requests', `${label} has no ${what} request (set resources.requests.${name})`);
    }
    gpus += Number(amount(GPU_RESOURCE) ?? 0) || 0;
  }
  const classes = selectedClasses(pod);
  for (const name of classes ?? []) {
    if (!isComputeClassName(name)) {
      ctx.report(doc, podPath, 'scheduling', `${podLabel} selects ${COMPUTE_CLASS_LABEL}=${name}, which is not a compute class (one of ${Object.keys(COMPUTE_CLASSES).join(', ')})`);
      continue;
    }
    const spec: ComputeClassSpec = COMPUTE_CLASSES[name];
    if (isTask && !spec.forTasks) ctx.report(doc, podPath, 'scheduling', `${podLabel} selects compute class "${name}", which is reserved for the platform, not tasks`);
    for (const taint of spec.taints) {
      if (!pod.tolerations.some((t) => tolerates(t, taint))) {
        ctx.report(doc, podPath, 'scheduling', `${podLabel} selects compute class "${name}" but does not tolerate its taint ${taint.key}=${taint.value ?? ''}:${taint.effect}, so it never schedules (add the toleration)`);
      }
    }
    if (gpus > 0 && spec.gpusPerNode === 0) {
      ctx.report(doc, podPath, 'scheduling', `${podLabel} requests ${gpus} ${GPU_RESOURCE} but selects compute class "${name}", which has no GPUs`);
    } else if (gpus > spec.maxPod.gpus && spec.gpusPerNode > 0) {
      ctx.report(doc, podPath, 'scheduling', `${podLabel} requests ${gpus} ${GPU_RESOURCE}; nodes of compute class "${name}" offer at most ${spec.maxPod.gpus}`);
    }
  }
  if (gpus > 0 && classes === undefined) {
    const gpuClasses = Object.entries(COMPUTE_CLASSES).filter(([, c]) => c.gpusPerNode > 0).map(([n]) => n);
    ctx.report(doc, podPath, 'scheduling', `${podLabel} requests ${gpus} ${GPU_RESOURCE} but selects no GPU compute class (set nodeSelector ${COMPUTE_CLASS_LABEL}: ${gpuClasses.join(' or ')})`);
    if (!pod.tolerations.some((t) => tolerates(t, { key: GPU_RESOURCE, value: 'true', effect: 'NoSchedule' }))) {
      ctx.report(doc, podPath, 'scheduling', `${podLabel} requests ${gpus} ${GPU_RESOURCE} but does not tolerate the ${GPU_RESOURCE} taint of GPU nodes (add the toleration)`);
    }
  }
}

/** Compute classes the pod may land on, or undefined when it does not constrain the class. */
function selectedClasses(pod: Pod): string[] | undefined {
  const selected = str(pod.nodeSelector[COMPUTE_CLASS_LABEL]);
  if (selected !== undefined) return [selected];
  const terms = objects(obj(obj(obj(pod.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution).nodeSelectorTerms);
  const values: string[] = [];
  for (const term of terms) {
    const expr = objects(term.matchExpressions).find((e) => e.key === COMPUTE_CLASS_LABEL && e.operator === 'In');
    if (!expr) return undefined; // a term that does not constrain the class lets the pod land anywhere
    values.push(...list(expr.values).filter((v): v is string => typeof v === 'string'));
  }
  return terms.length > 0 ? [...new Set(values)] : undefined;
}

/** Kubernetes toleration matching. */
function tolerates(toleration: Json, taint: { key: string; value?: string; effect: string }): boolean {
  if (toleration.effect !== undefined && toleration.effect !== '' && toleration.effect !== taint.effect) return false;
  if (toleration.operator === 'Exists') return toleration.key === undefined || toleration.key === '' || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}
