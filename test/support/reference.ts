import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where the upstream reference material (Argo JSON schemas, official examples, Helm values)
 * lives. It is not part of this repository: `.ci/run` sets SWOOP_REFERENCE_DIR to the
 * `shared/reference` folder laid beside the clone. On a laptop, point SWOOP_REFERENCE_DIR at
 * a folder holding `argo-workflows/schema.json` (from argo-workflows v4.0.6
 * `api/jsonschema/schema.json`), `argo-events/schema.json` (argo-events v1.9.10
 * `api/jsonschema/schema.json`), the `examples/` folders of both, and `helm/`.
 */
export const REFERENCE_DIR = resolve(
  process.env.SWOOP_REFERENCE_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'reference'),
);

export const HAVE_REFERENCE = existsSync(join(REFERENCE_DIR, 'argo-workflows', 'schema.json'));

export const REFERENCE_MISSING_MESSAGE =
  `upstream reference material not found at ${REFERENCE_DIR}: set SWOOP_REFERENCE_DIR ` +
  '(see test/support/reference.ts for what it must contain); CI requires it';

if (!HAVE_REFERENCE && process.env.CI) {
  throw new Error(REFERENCE_MISSING_MESSAGE);
}

export function referencePath(...parts: string[]): string {
  return join(REFERENCE_DIR, ...parts);
}
