import type { LintDocument } from './documents';
import type { Inventory } from './inventory';
import { at, isObject, list, obj, objects, str, type Json } from './json';

/**
 * The structure of Argo workflow specs the checks share: which templates a spec defines,
 * which templates call which, and how a `template` / `templateRef` / `inline` call resolves.
 */

export const WORKFLOW_KINDS = ['Workflow', 'WorkflowTemplate', 'ClusterWorkflowTemplate', 'CronWorkflow'];
const TEMPLATE_TYPES = ['container', 'script', 'containerSet', 'resource', 'dag', 'steps', 'suspend', 'http', 'data', 'plugin'] as const;
export type TemplateType = (typeof TEMPLATE_TYPES)[number];

export interface TemplateSite {
  readonly template: Json;
  readonly name: string;
  readonly path: string;
  readonly unit: WorkflowUnit;
}

/** One workflow spec: a Workflow-kind document, a CronWorkflow's, or one a Sensor trigger creates. */
export interface WorkflowUnit {
  /** The document problems are reported on (the Sensor for a trigger's Workflow). */
  readonly doc: LintDocument;
  readonly spec: Json;
  readonly specPath: string;
  readonly kind: string;
  readonly namespace?: string;
  /** How messages name it, e.g. `WorkflowTemplate/x` or `the Workflow Sensor/y creates`. */
  readonly label: string;
  /** Templates by name, as `template:` references see them. */
  readonly templates: Map<string, TemplateSite>;
  /** Every template defined in this spec, named and inline, in document order. */
  readonly sites: TemplateSite[];
  /** WorkflowTemplate named by `spec.workflowTemplateRef`, once linked. */
  base?: WorkflowUnit;
}

/** A place that invokes a template, with the arguments it passes. */
export interface Call {
  readonly node: Json;
  readonly path: string;
  readonly via: 'entrypoint' | 'onExit' | 'hook' | 'task' | 'step';
  /** The arguments passed, or undefined when Argo passes none to check against. */
  readonly args?: Json;
}

export type Resolution =
  | { readonly site: TemplateSite }
  | { readonly error: string; readonly rule: 'template' | 'template-ref' }
  | { readonly none: true };

export function templateType(template: Json): TemplateType | undefined {
  return TEMPLATE_TYPES.find((t) => template[t] !== undefined);
}

export class WorkflowModel {
  readonly units: WorkflowUnit[] = [];
  private readonly byDocument = new Map<LintDocument, WorkflowUnit>();
  private readonly inline = new Map<Json, TemplateSite>();

  constructor(private readonly inventory: Inventory) {
    for (const doc of inventory.documents) {
      if (WORKFLOW_KINDS.includes(doc.kind)) {
        const cron = doc.kind === 'CronWorkflow';
        const spec = obj(cron ? obj(doc.body.spec).workflowSpec : doc.body.spec);
        const unit = this.addUnit(doc, doc.kind, `${doc.kind}/${doc.name}`, spec, cron ? 'spec.workflowSpec' : 'spec', doc.namespace);
        this.byDocument.set(doc, unit);
      } else if (doc.kind === 'Sensor') {
        for (const { resource, path } of sensorWorkflowResources(doc)) {
          const namespace = str(obj(resource.metadata).namespace) ?? doc.namespace;
          this.addUnit(doc, 'Workflow', `the Workflow ${path} of Sensor/${doc.name} creates`, obj(resource.spec), `${path}.spec`, namespace);
        }
      }
    }
    for (const unit of this.units) {
      const ref = obj(unit.spec.workflowTemplateRef);
      const name = str(ref.name);
      if (name) unit.base = this.unitOf(ref.clusterScope === true ? 'ClusterWorkflowTemplate' : 'WorkflowTemplate', name, unit.namespace);
    }
  }

  unitOf(kind: string, name: string, namespace: string | undefined): WorkflowUnit | undefined {
    const doc = this.inventory.find(kind, name, namespace);
    return doc && this.byDocument.get(doc);
  }

  /** Whether a run starts from this spec (a WorkflowTemplate without entrypoint is only a library). */
  isRunnable(unit: WorkflowUnit): boolean {
    return unit.kind === 'Workflow' || unit.kind === 'CronWorkflow' || this.entrypointOf(unit) !== undefined;
  }

  entrypointOf(unit: WorkflowUnit): string | undefined {
    return str(unit.spec.entrypoint) ?? (unit.base && str(unit.base.spec.entrypoint));
  }

  /** Declared workflow parameters: the spec's own plus its workflowTemplateRef's. */
  parametersOf(unit: WorkflowUnit): Set<string> {
    const names = new Set<string>();
    for (const u of [unit, unit.base]) {
      for (const p of objects(obj(u?.spec.arguments).parameters)) if (str(p.name)) names.add(p.name as string);
    }
    return names;
  }

  /** Workflow-level calls: entrypoint, exit handler and lifecycle hooks. */
  unitCalls(unit: WorkflowUnit): Call[] {
    const args = obj(unit.spec.arguments);
    const calls: Call[] = [];
    const entrypoint = str(unit.spec.entrypoint);
    if (entrypoint) calls.push({ node: { template: entrypoint }, path: `${unit.specPath}.entrypoint`, via: 'entrypoint', args });
    const onExit = str(unit.spec.onExit);
    if (onExit) calls.push({ node: { template: onExit }, path: `${unit.specPath}.onExit`, via: 'onExit', args });
    for (const [name, hook] of Object.entries(obj(unit.spec.hooks))) {
      calls.push({ node: obj(hook), path: `${unit.specPath}.hooks.${name}`, via: 'hook', args: obj(obj(hook).arguments) });
    }
    return calls;
  }

  /** Calls a template makes: its DAG tasks or steps, and their hooks. */
  templateCalls(site: TemplateSite): Call[] {
    const calls: Call[] = [];
    for (const { node, path, via } of children(site)) {
      calls.push({ node, path, via, args: obj(node.arguments) });
      const onExit = str(node.onExit);
      if (onExit) calls.push({ node: { template: onExit }, path: `${path}.onExit`, via: 'onExit' });
      for (const [name, hook] of Object.entries(obj(node.hooks))) {
        calls.push({ node: obj(hook), path: `${path}.hooks.${name}`, via: 'hook', args: obj(obj(hook).arguments) });
      }
    }
    return calls;
  }

  /** Resolves a call's `inline`, `template` or `templateRef` from the spec it is written in. */
  resolve(unit: WorkflowUnit, node: Json): Resolution {
    if (isObject(node.inline)) {
      const site = this.inline.get(node.inline);
      return site ? { site } : { none: true };
    }
    const name = str(node.template);
    if (name !== undefined) {
      const site = unit.templates.get(name) ?? unit.base?.templates.get(name);
      if (site) return { site };
      return { rule: 'template', error: `template "${name}" is not defined in ${unit.specPath}.templates${unit.base ? ` nor in WorkflowTemplate/${unit.base.doc.name}` : ''}` };
    }
    if (isObject(node.templateRef)) {
      const ref = node.templateRef;
      const kind = ref.clusterScope === true ? 'ClusterWorkflowTemplate' : 'WorkflowTemplate';
      const refName = str(ref.name);
      const template = str(ref.template);
      if (!refName || !template) return { rule: 'template-ref', error: 'templateRef needs both name and template' };
      const target = this.unitOf(kind, refName, unit.namespace);
      if (!target) return { rule: 'template-ref', error: `templateRef names ${kind}/${refName}, which is not in the set` };
      const site = target.templates.get(template);
      if (!site) return { rule: 'template-ref', error: `templateRef names template "${template}", which ${kind}/${refName} does not define` };
      return { site };
    }
    return { none: true };
  }

  private addUnit(doc: LintDocument, kind: string, label: string, spec: Json, specPath: string, namespace: string | undefined): WorkflowUnit {
    const unit: WorkflowUnit = { doc, spec, specPath, kind, label, namespace, templates: new Map(), sites: [] };
    list(spec.templates).forEach((template, i) => {
      if (!isObject(template)) return;
      const site: TemplateSite = { template, name: str(template.name) ?? `#${i}`, path: at(`${specPath}.templates`, template, i), unit };
      if (!unit.templates.has(site.name)) unit.templates.set(site.name, site);
      this.addSite(site);
    });
    this.units.push(unit);
    return unit;
  }

  private addSite(site: TemplateSite): void {
    site.unit.sites.push(site);
    for (const { node, path } of children(site)) {
      if (!isObject(node.inline)) continue;
      const inline: TemplateSite = { template: node.inline, name: `${str(node.name) ?? '?'} (inline)`, path: `${path}.inline`, unit: site.unit };
      this.inline.set(node.inline, inline);
      this.addSite(inline);
    }
  }
}

/** DAG tasks or steps of a template, each with its path. */
export function children(site: TemplateSite): { node: Json; path: string; via: 'task' | 'step'; group?: number }[] {
  const out: { node: Json; path: string; via: 'task' | 'step'; group?: number }[] = [];
  const tasks = obj(site.template.dag).tasks;
  list(tasks).forEach((task, i) => {
    if (isObject(task)) out.push({ node: task, path: at(`${site.path}.dag.tasks`, task, i), via: 'task' });
  });
  list(site.template.steps).forEach((group, g) => {
    list(group).forEach((step, i) => {
      if (isObject(step)) out.push({ node: step, path: at(`${site.path}.steps[${g}]`, step, i), via: 'step', group: g });
    });
  });
  return out;
}

/** Workflow objects a Sensor's triggers create (`argoWorkflow` or `k8s` with an inline resource). */
export function sensorWorkflowResources(doc: LintDocument): { resource: Json; path: string; trigger: Json; triggerPath: string }[] {
  const out: { resource: Json; path: string; trigger: Json; triggerPath: string }[] = [];
  for (const { trigger, path: triggerPath } of sensorTriggers(doc)) {
    for (const type of ['argoWorkflow', 'k8s']) {
      const resource = obj(obj(obj(obj(trigger.template)[type]).source).resource);
      if (resource.kind === 'Workflow') out.push({ resource, path: `${triggerPath}.template.${type}.source.resource`, trigger, triggerPath });
    }
  }
  return out;
}

/** Every trigger of a Sensor, including dead-letter triggers. */
export function sensorTriggers(doc: LintDocument): { trigger: Json; path: string }[] {
  const out: { trigger: Json; path: string }[] = [];
  const visit = (trigger: Json, path: string): void => {
    out.push({ trigger, path });
    if (isObject(trigger.dlqTrigger)) visit(trigger.dlqTrigger, `${path}.dlqTrigger`);
  };
  list(obj(doc.body.spec).triggers).forEach((trigger, i) => {
    if (isObject(trigger)) visit(trigger, `spec.triggers[${str(obj(trigger.template).name) ?? i}]`);
  });
  return out;
}

/** Task references in a `depends` expression, e.g. `A && (B.Failed || C)`. */
export function parseDepends(expression: string): { name: string; result?: string; token: string }[] {
  return expression
    .replace(/&&|\|\||[!()]/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .map((token) => {
      const dot = token.lastIndexOf('.');
      return dot > 0 ? { name: token.slice(0, dot), result: token.slice(dot + 1), token } : { name: token, token };
    });
}

/** Names of the sibling tasks a DAG task waits for. */
export function taskDependencies(task: Json): string[] {
  const deps = list(task.dependencies).filter((d): d is string => typeof d === 'string');
  const depends = str(task.depends);
  return depends === undefined ? deps : [...deps, ...parseDepends(depends).map((d) => d.name)];
}
