import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import { referencePath } from '../../support/reference';

/**
 * Validates a value against one definition of the upstream Argo Workflows JSON schema with
 * unknown fields rejected (test/support/schema.ts does this for whole kinds only). Used for
 * the artifact repository ConfigMap entry, which is not a kind of its own.
 */
export function validateWorkflowsDefinition(definition: string, value: unknown): string[] {
  const schema = JSON.parse(readFileSync(referencePath('argo-workflows', 'schema.json'), 'utf8')) as Record<string, any>;
  const close = (node: any): void => {
    if (Array.isArray(node)) return node.forEach(close);
    if (!node || typeof node !== 'object') return;
    if (node.properties && node.additionalProperties === undefined) node.additionalProperties = false;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'properties') Object.values(v as object).forEach(close);
      else close(v);
    }
  };
  close(schema.definitions);
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ definitions: schema.definitions }, 'argo');
  const validate = ajv.compile({ $ref: `argo#/definitions/${definition}` });
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.keyword === 'additionalProperties' ? ` '${(e.params as any).additionalProperty}'` : ''}`);
}
