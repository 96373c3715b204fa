import { imagePinProblem } from '../../constructs/image';
import type { LintContext } from './context';
import type { LintDocument } from './documents';
import { at, obj, objects, str, type Json } from './json';
import { templateType } from './workflow-model';

/**
 * Every container image is pinned, by the rule the constructs apply (constructs/image.ts):
 * a digest or a version tag, not `:latest`, no tag, a moving name or a bare major version.
 * Checked for template containers, scripts, containerSet containers, init containers and
 * sidecars, and the pods of core workloads. An image set by a template tag
 * (`{{inputs.parameters.image}}`) is only known at run time and is not checked.
 */
export function checkImages(ctx: LintContext): void {
  for (const unit of ctx.workflows.units) {
    for (const site of unit.sites) {
      const type = templateType(site.template);
      const t = site.template;
      if (type === 'container' || type === 'script') check(ctx, unit.doc, obj(t[type]), `${site.path}.${type}`);
      if (type === 'containerSet') objects(obj(t.containerSet).containers).forEach((c, i) => check(ctx, unit.doc, c, at(`${site.path}.containerSet.containers`, c, i)));
      for (const key of ['initContainers', 'sidecars']) objects(t[key]).forEach((c, i) => check(ctx, unit.doc, c, at(`${site.path}.${key}`, c, i)));
    }
  }
  for (const doc of ctx.inventory.documents) {
    const found = podSpecOf(doc);
    if (!found) continue;
    for (const key of ['initContainers', 'containers']) objects(found.spec[key]).forEach((c, i) => check(ctx, doc, c, at(`${found.path}.${key}`, c, i)));
  }
}

function check(ctx: LintContext, doc: LintDocument, container: Json, path: string): void {
  const image = str(container.image);
  if (image === undefined || image.includes('{{')) return;
  const problem = imagePinProblem(image);
  if (problem) ctx.report(doc, `${path}.image`, 'image-pinning', problem);
}

function podSpecOf(doc: LintDocument): { spec: Json; path: string } | undefined {
  const spec = obj(doc.body.spec);
  if (doc.kind === 'Pod') return { spec, path: 'spec' };
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(doc.kind)) return { spec: obj(obj(spec.template).spec), path: 'spec.template.spec' };
  if (doc.kind === 'CronJob') return { spec: obj(obj(obj(obj(spec.jobTemplate).spec).template).spec), path: 'spec.jobTemplate.spec.template.spec' };
  return undefined;
}
