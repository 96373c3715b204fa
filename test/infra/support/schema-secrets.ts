import { readFileSync } from 'node:fs';
import { referencePath } from '../../support/reference';

/**
 * Secret positions read from the upstream JSON schemas (Argo Workflows v4, Argo Events;
 * both embed the Kubernetes core types), not from the program: the test holds the program's
 * scanner (infra/manifest-secrets.ts) against them.
 */
type Schema = { $ref?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean };

const CORE = 'io.k8s.api.core.v1.';
/** Kubernetes types that name a Secret, and how. */
const SECRET_TYPES: Record<string, 'selector' | 'object' | 'volume'> = {
  [`${CORE}SecretKeySelector`]: 'selector',
  [`${CORE}SecretEnvSource`]: 'object',
  [`${CORE}SecretReference`]: 'object',
  [`${CORE}SecretVolumeSource`]: 'volume',
  [`${CORE}SecretProjection`]: 'volume',
};

let loaded: Record<string, Schema> | undefined;
/** Both schemas' definitions (the Kubernetes types they share are the same). */
export function definitions(): Record<string, Schema> {
  if (!loaded) {
    loaded = {};
    for (const project of ['argo-workflows', 'argo-events']) {
      Object.assign(loaded, (JSON.parse(readFileSync(referencePath(project, 'schema.json'), 'utf8')) as { definitions: Record<string, Schema> }).definitions);
    }
  }
  return loaded;
}

const refName = (s: Schema | undefined): string | undefined => s?.$ref?.split('/').pop();
const targetOf = (s: Schema): string | undefined => refName(s) ?? refName(s.items) ?? (typeof s.additionalProperties === 'object' ? refName(s.additionalProperties) : undefined);

/**
 * How a property names a Secret: its type is one of SECRET_TYPES, or a LocalObjectReference
 * whose field name says secret (the type is generic: `configMap` of Argo's Cache is one too).
 */
function secretKind(field: string, s: Schema): 'selector' | 'object' | 'volume' | undefined {
  const target = targetOf(s);
  if (!target) return undefined;
  if (SECRET_TYPES[target]) return SECRET_TYPES[target];
  if (target === `${CORE}LocalObjectReference` && /secret/i.test(field)) return 'object';
  return undefined;
}

/** Field names per kind of Secret position, over every definition of both schemas. */
export function schemaSecretFields(): Record<'selector' | 'object' | 'volume', Set<string>> {
  const out = { selector: new Set<string>(), object: new Set<string>(), volume: new Set<string>() };
  for (const def of Object.values(definitions())) {
    for (const [field, s] of Object.entries(def.properties ?? {})) {
      const kind = secretKind(field, s);
      if (kind) out[kind].add(field);
    }
  }
  return out;
}

/** Top-level kinds the schemas define, and the pod template of the Kubernetes workloads dist/ holds. */
const KIND_DEFINITIONS: Record<string, string> = {
  Workflow: 'io.argoproj.workflow.v1alpha1.Workflow',
  WorkflowTemplate: 'io.argoproj.workflow.v1alpha1.WorkflowTemplate',
  ClusterWorkflowTemplate: 'io.argoproj.workflow.v1alpha1.ClusterWorkflowTemplate',
  CronWorkflow: 'io.argoproj.workflow.v1alpha1.CronWorkflow',
  EventBus: 'io.argoproj.events.v1alpha1.EventBus',
  EventSource: 'io.argoproj.events.v1alpha1.EventSource',
  Sensor: 'io.argoproj.events.v1alpha1.Sensor',
};
const POD_TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

/** Whether this test can type an object of `kind` by the schemas. */
export const typedKind = (kind: string): boolean => kind in KIND_DEFINITIONS || POD_TEMPLATE_KINDS.has(kind);

/**
 * `<namespace>/<name>[/<key>]` for every Secret `obj` references, found by walking it along its
 * schema type (so only at positions the schemas type as a Secret). Throws for kinds it cannot type.
 */
export function typedSecretReferences(obj: Record<string, any>, namespace: string): string[] {
  const defs = definitions();
  const refs: string[] = [];
  const add = (name: unknown, key?: unknown, ns?: unknown) => {
    if (typeof name === 'string') refs.push([typeof ns === 'string' ? ns : namespace, name, ...(typeof key === 'string' ? [key] : [])].join('/'));
  };
  const walk = (value: unknown, schema: Schema | undefined, field: string): void => {
    if (value === null || value === undefined || !schema) return;
    const name = refName(schema);
    if (name) {
      const kind = secretKind(field, schema);
      if (kind) return record(kind, value);
      return walk(value, defs[name], field);
    }
    if (Array.isArray(value)) return value.forEach((v) => walk(v, schema.items, field));
    if (typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const ps = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (ps && secretKind(k, ps)) record(secretKind(k, ps)!, v);
      else walk(v, ps, k);
    }
  };
  const record = (kind: 'selector' | 'object' | 'volume', value: any) => {
    for (const v of [value].flat()) {
      if (kind === 'selector') add(v?.name, v?.key);
      else if (kind === 'object') add(v?.name, undefined, v?.namespace);
      else if (Array.isArray(v?.items) && v.items.length > 0) v.items.forEach((i: any) => add(v.secretName ?? v.name, i?.key));
      else add(v?.secretName ?? v?.name);
    }
  };
  if (obj.kind in KIND_DEFINITIONS) walk(obj, defs[KIND_DEFINITIONS[obj.kind]], '');
  else if (POD_TEMPLATE_KINDS.has(obj.kind)) {
    // Deployment/Job... are not in these schemas; their pod template is (core/v1 PodTemplateSpec).
    const template = obj.kind === 'CronJob' ? obj.spec?.jobTemplate?.spec?.template : obj.spec?.template;
    walk(template, defs[`${CORE}PodTemplateSpec`], 'template');
  } else throw new Error(`${obj.kind}: no schema here to type it`);
  return refs;
}
