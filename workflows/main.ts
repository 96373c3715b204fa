import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compareFiles, formatPodsTable, podsPerRun, synthesize, ValidationError, writeFiles } from '../constructs';
import { buildApp } from './app';

/**
 * `npm run synth` writes dist/; `npm run synth -- --check` synthesizes to a temporary
 * directory and fails, listing the files, when dist/ is stale. `--dist <dir>` points both at
 * another directory.
 */
function main(argv: string[]): number {
  const check = argv.includes('--check');
  const distFlag = argv.indexOf('--dist');
  const dist = distFlag >= 0 && argv[distFlag + 1] ? resolve(argv[distFlag + 1]) : resolve(__dirname, '..', 'dist');
  const { app, workflows } = buildApp(dist);
  let files: Map<string, string>;
  try {
    files = synthesize(app);
  } catch (e) {
    if (e instanceof ValidationError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (!check) {
    writeFiles(files, dist);
    process.stdout.write(`wrote ${files.size} files to ${dist}\n\n${formatPodsTable(workflows.map((w) => podsPerRun(w)))}\n`);
    return 0;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'swoop-synth-'));
  try {
    writeFiles(files, tmp);
    const fresh = new Map(readdirSync(tmp).map((n) => [n, readFileSync(join(tmp, n), 'utf8')]));
    const diff = compareFiles(fresh, dist);
    const problems = [
      ...diff.stale.map((f) => `stale:   dist/${f}`),
      ...diff.missing.map((f) => `missing: dist/${f}`),
      ...diff.extra.map((f) => `extra:   dist/${f}`),
    ];
    if (problems.length) {
      process.stderr.write(`dist/ is out of date; run \`npm run synth\` and commit the result:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
      return 1;
    }
    process.stdout.write(`dist/ is up to date (${files.size} files)\n`);
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = main(process.argv.slice(2));
