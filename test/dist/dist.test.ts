import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, lint, loadFiles, yamlFiles } from '../../tools/lint/index';
import { stackNames } from '../../stacks/environment';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';

/**
 * What GitOps (or Pulumi) applies: every manifest `npm run synth` wrote to dist/<stack>/ is
 * valid against the upstream schemas (unknown fields rejected) and each stack's set as a
 * whole passes `npm run lint`.
 */
const ROOT = resolve(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const folders = existsSync(DIST) ? readdirSync(DIST).filter((d) => statSync(join(DIST, d)).isDirectory()).sort() : [];
const relativeTo = (line: string) => line.split(`${ROOT}/`).join('');

describe('dist/', () => {
  it('holds one folder per stack settings file, and nothing else', () => {
    expect(folders).toEqual(stackNames());
    expect(readdirSync(DIST).filter((f) => !folders.includes(f))).toEqual([]);
  });
});

describe.each(folders)('dist/%s/', (stack) => {
  const files = yamlFiles([join(DIST, stack)]);
  const { documents, problems: parseProblems } = loadFiles(files);

  it('holds the synthesized manifests', () => {
    expect(documents.length, `dist/${stack}/ has no YAML documents: run \`npm run synth\``).toBeGreaterThan(0);
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
