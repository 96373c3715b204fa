import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import { referencePath } from './reference';

type Json = Record<string, unknown>;

/**
 * Validates Argo manifests against the upstream JSON schemas with unknown fields rejected:
 * every object definition that lists properties gets `additionalProperties: false`, so a
 * misspelt or misplaced field fails here instead of being dropped by the API server.
 * The Argo Events schema marks many optional fields as required, so its `required` lists
 * are ignored (as the events issue says); the Argo Workflows ones are kept.
 */
export interface SchemaValidator {
  /** Returns one line per problem, empty when the document is valid. */
  validate(doc: unknown): string[];
}

const WORKFLOW_KINDS: Record<string, string> = {
  WorkflowTemplate: 'io.argoproj.workflow.v1alpha1.WorkflowTemplate',
  Workflow: 'io.argoproj.workflow.v1alpha1.Workflow',
  ClusterWorkflowTemplate: 'io.argoproj.workflow.v1alpha1.ClusterWorkflowTemplate',
  CronWorkflow: 'io.argoproj.workflow.v1alpha1.CronWorkflow',
};
const EVENTS_KINDS: Record<string, string> = {
  EventBus: 'io.argoproj.events.v1alpha1.EventBus',
  EventSource: 'io.argoproj.events.v1alpha1.EventSource',
  Sensor: 'io.argoproj.events.v1alpha1.Sensor',
};

function closeObjects(node: unknown, dropRequired: boolean): void {
  if (Array.isArray(node)) {
    node.forEach((n) => closeObjects(n, dropRequired));
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as Json;
  if (obj.properties && typeof obj.properties === 'object' && obj.additionalProperties === undefined) {
    obj.additionalProperties = false;
  }
  if (dropRequired && Array.isArray(obj.required)) delete obj.required;
  for (const [key, value] of Object.entries(obj)) {
    // `properties` maps names to schemas; a property literally called "required" is a schema, not a list.
    if (key === 'properties' && value && typeof value === 'object') {
      Object.values(value as Json).forEach((v) => closeObjects(v, dropRequired));
    } else {
      closeObjects(value, dropRequired);
    }
  }
}

interface LoadedSchema {
  readonly ajv: Ajv;
  readonly file: string;
  readonly compiled: Map<string, ValidateFunction>;
}

function load(file: string, dropRequired: boolean, draft2020: boolean): LoadedSchema {
  const schema = JSON.parse(readFileSync(referencePath(file), 'utf8')) as Json;
  delete schema.$schema;
  delete schema.$id;
  delete schema.oneOf;
  delete schema.type;
  closeObjects(schema.definitions, dropRequired);
  // The Argo Workflows schema types IntOrString as string only; Kubernetes takes both.
  const defs = schema.definitions as Record<string, Json>;
  defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = { type: ['integer', 'string'] };
  const opts = { strict: false, allErrors: true, validateFormats: false } as const;
  const ajv = draft2020 ? new Ajv2020(opts) : new Ajv(opts);
  ajv.addSchema(schema, 'argo');
  return { ajv, file, compiled: new Map() };
}

function check(loaded: LoadedSchema, definition: string, value: unknown): string[] {
  let validator = loaded.compiled.get(definition);
  if (!validator) {
    validator = loaded.ajv.compile({ $ref: `argo#/definitions/${definition}` });
    loaded.compiled.set(definition, validator);
  }
  if (validator(value)) return [];
  return (validator.errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as Json).additionalProperty}'` : '';
    return `${e.instancePath || '/'} ${e.message}${extra}`;
  });
}

function build(loaded: LoadedSchema, kinds: Record<string, string>): SchemaValidator {
  return {
    validate(doc: unknown): string[] {
      const kind = (doc as Json | null)?.kind;
      const definition = typeof kind === 'string' ? kinds[kind] : undefined;
      if (!definition) return [`no schema for kind ${String(kind)} in ${loaded.file}`];
      return check(loaded, definition, doc);
    },
  };
}

let workflowsSchema: LoadedSchema | undefined;
const loadWorkflows = () => (workflowsSchema ??= load('argo-workflows/schema.json', false, true));

/**
 * Validates a value against one definition of the Argo Workflows schema, which also embeds
 * the core Kubernetes types (e.g. `io.k8s.api.core.v1.Container`), unknown fields rejected.
 */
export function validateWorkflowsDefinition(definition: string, value: unknown): string[] {
  return check(loadWorkflows(), definition, value);
}

let workflows: SchemaValidator | undefined;
let events: SchemaValidator | undefined;

/** Validator for Argo Workflows kinds (v4.0.6 schema). */
export function argoWorkflowsSchema(): SchemaValidator {
  return (workflows ??= build(loadWorkflows(), WORKFLOW_KINDS));
}

/** Validator for Argo Events kinds (v1.9.10 schema, `required` lists ignored). */
export function argoEventsSchema(): SchemaValidator {
  return (events ??= build(load('argo-events/schema.json', true, false), EVENTS_KINDS));
}

/** Validates any Argo document by its kind; non-Argo kinds (core Kubernetes) return []. */
export function validateArgoDocument(doc: unknown): string[] {
  const kind = (doc as Json | null)?.kind;
  if (typeof kind === 'string' && kind in WORKFLOW_KINDS) return argoWorkflowsSchema().validate(doc);
  if (typeof kind === 'string' && kind in EVENTS_KINDS) return argoEventsSchema().validate(doc);
  return [];
}
