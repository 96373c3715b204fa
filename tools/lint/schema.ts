import type { Json } from './json';

/**
 * Strict upstream-schema validation for the CLI, when the reference schemas are present.
 * It reuses the project's validator (test/support/schema.ts, which imports no test
 * framework) so the CLI and `npm test` reject exactly the same documents.
 */
export type SchemaValidation = { readonly validate: (doc: Json) => string[] } | { readonly skipped: string };

export function loadSchemaValidation(): SchemaValidation {
  try {
    const reference = require('../../test/support/reference') as typeof import('../../test/support/reference');
    if (!reference.HAVE_REFERENCE) return { skipped: reference.REFERENCE_MISSING_MESSAGE };
    const schema = require('../../test/support/schema') as typeof import('../../test/support/schema');
    return { validate: (doc) => schema.validateArgoDocument(doc) };
  } catch (error) {
    return { skipped: (error as Error).message };
  }
}
