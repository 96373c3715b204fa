/**
 * `npm run lint [-- [--disable rule,...] [--no-schema] <dir-or-file>...]`: an offline
 * `argo lint` plus cross-reference checks over a set of Argo manifests (default: each
 * `dist/<stack>/` on its own, since every stack's folder is one complete deployment).
 * Prints one `file: Kind/name: path: problem [rule]` line per problem; exits 1 when there
 * is any, 2 when the input is unusable.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../constructs/errors';
import { formatProblem, isRule, lint, loadFiles, RULES, yamlFiles, type Rule } from './lint/index';
import { loadSchemaValidation } from './lint/schema';

const USAGE = `usage: npm run lint -- [--disable rule,...] [--no-schema] [--debug] [dir-or-file...]   (default: each dist/<stack>/)
rules: ${RULES.join(', ')}`;

function main(argv: string[]): number {
  const paths: string[] = [];
  const disable: Rule[] = [];
  let schema = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return 0;
    } else if (arg === '--no-schema') {
      schema = false;
    } else if (arg === '--disable') {
      for (const rule of (argv[++i] ?? '').split(',').filter(Boolean)) {
        if (!isRule(rule)) return usageError(`unknown rule "${rule}"`);
        disable.push(rule);
      }
    } else if (arg.startsWith('-')) {
      return usageError(`unknown option ${arg}`);
    } else {
      paths.push(arg);
    }
  }
  if (paths.length === 0) {
    if (!existsSync('dist')) return usageError('no such file or directory: dist (run `npm run synth` first)');
    const stacks = readdirSync('dist').sort().map((d) => join('dist', d)).filter((d) => statSync(d).isDirectory());
    if (stacks.length === 0) return usageError('dist/ holds no stack folder (run `npm run synth` first)');
    return Math.max(...stacks.map((dir) => lintSet([dir], disable, schema)));
  }
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0) return usageError(`no such file or directory: ${missing.join(', ')}`);
  return lintSet(paths, disable, schema);
}

/** Lints `paths` as one set of manifests that reference each other; returns the exit code. */
function lintSet(paths: string[], disable: Rule[], schema: boolean): number {
  const files = yamlFiles(paths);
  const { documents, problems: parseProblems } = loadFiles(files);
  if (documents.length === 0 && parseProblems.length === 0) return usageError(`no YAML documents found in ${paths.join(', ')}`);

  const validation = schema ? loadSchemaValidation() : { skipped: 'disabled by --no-schema' };
  const fileOrder = new Map(files.map((f, i) => [f, i]));
  const problems = [...parseProblems.filter((p) => !disable.includes(p.rule)), ...lint(documents, { disable, validate: 'validate' in validation ? validation.validate : undefined })];
  problems.sort((a, b) => (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0));
  for (const problem of problems) console.log(formatProblem(problem));
  const schemaNote = 'skipped' in validation ? `strict schema validation skipped: ${validation.skipped}` : 'strict schema validation on';
  console.error(`${problems.length} problem(s) in ${documents.length} document(s) from ${files.length} file(s); ${schemaNote}`);
  return problems.length > 0 ? 1 : 0;
}

function usageError(message: string): number {
  console.error(`lint: ${message}\n${USAGE}`);
  return 2;
}

// Anything unexpected is one line and exit 1 (`--debug`: the stack trace).
void runCommand(main);
