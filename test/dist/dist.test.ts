import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, lint, loadFiles, yamlFiles } from '../../tools/lint/index';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';

/**
 * What GitOps applies: every manifest `npm run synth` wrote to dist/ is valid against the
 * upstream schemas (unknown fields rejected) and the set as a whole passes `npm run lint`.
 */
const ROOT = resolve(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const files = existsSync(DIST) ? yamlFiles([DIST]) : [];
const { documents, problems: parseProblems } = loadFiles(files);
const relativeTo = (line: string) => line.split(`${ROOT}/`).join('');

describe('dist/', () => {
  it('holds the synthesized manifests', () => {
    expect(documents.length, 'dist/ has no YAML documents: run `npm run synth`').toBeGreaterThan(0);
    expect(parseProblems.map(formatProblem)).toEqual([]);
  });

  it.skipIf(!HAVE_REFERENCE)('every document validates against the upstream schema, unknown fields rejected', () => {
    const errors = documents.flatMap((doc) =>
      validateArgoDocument(doc.body).map((e) => `${relative(ROOT, doc.file)}: ${doc.kind}/${doc.name}: ${e}`),
    );
    expect(errors).toEqual([]);
  });

  it('the whole set passes the cross-reference lint with zero problems', () => {
    expect(documents.length).toBeGreaterThan(0);
    expect(lint(documents).map((p) => relativeTo(formatProblem(p)))).toEqual([]);
  });
});
