import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Construct } from 'constructs';
import { runCommand } from './errors';
import { formatPodsTable, podsPerRun } from './pods';
import { compareFiles, synthesize, writeFiles } from './synth';
import { formatTypeProblem, startTypecheck } from './typecheck';
import { Workflow } from './workflow';

export interface SynthCommandOptions {
  /** Where `npm run synth` writes (`--dist <dir>` overrides it). */
  readonly dist: string;
  /**
   * The app's entry file (pass `__filename`): it and everything it imports are type-checked
   * (tsconfig.synth.json) before the app is built; a type error fails the command, naming
   * file:line, and nothing is written. @default no type check
   */
  readonly entry?: string;
  /**
   * Builds the app. Called only after the arguments are read, so an exception thrown while
   * building (user code included) is reported as one line like every other failure.
   */
  readonly build: (outdir: string) => { readonly app: Construct } | Promise<{ readonly app: Construct }>;
}

export const SYNTH_USAGE = 'usage: npm run synth -- [--check] [--dist <dir>] [--debug]';

/**
 * The `npm run synth` command of an app: `[--check] [--dist <dir>] [--debug]`. Type-checks
 * the entry (when given), then writes every chart to `dist`, or with `--check` fails, listing
 * the files, when `dist` is stale. Any failure is one line per problem and exit code 1
 * (`--debug`: the stack trace).
 */
export function synthCommand(options: SynthCommandOptions, argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  return runCommand((args) => synthMain(options, args), argv);
}

/**
 * Runs `build` while the app's entry file and what it imports are type-checked
 * (constructs/typecheck.ts: in the warm checker or a worker thread). On a type error prints one
 * `file:line:col: error TSxxxx: message` line per diagnostic and a summary and answers
 * undefined, whatever the build did (a type error wins over what the build made of it);
 * otherwise answers what `build` answered, or throws what it threw. Write nothing before it
 * answers.
 */
export async function buildTypeChecked<T>(entry: string, build: () => T | Promise<T>): Promise<T | undefined> {
  const typecheck = await startTypecheck(entry);
  let built: { value: T } | undefined;
  let buildError: unknown;
  try {
    built = { value: await build() };
  } catch (e) {
    buildError = e;
  }
  const { problems } = await typecheck.result;
  if (problems.length) {
    process.stderr.write(`${problems.map(formatTypeProblem).join('\n')}\n`);
    process.stderr.write(`synth: ${problems.length} type error(s) in ${relative(process.cwd(), entry)} or what it imports; fix them and run synth again (nothing was written)\n`);
    return undefined;
  }
  if (!built) throw buildError;
  return built.value;
}

async function synthMain(options: SynthCommandOptions, argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const distFlag = argv.indexOf('--dist');
  if (distFlag >= 0 && !argv[distFlag + 1]) {
    process.stderr.write(`synth: --dist needs a directory\n${SYNTH_USAGE}\n`);
    return 2;
  }
  const dist = distFlag >= 0 ? resolve(argv[distFlag + 1]) : resolve(options.dist);
  const build = async () => {
    const { app } = await options.build(dist);
    return { app, files: synthesize(app) };
  };
  const built = options.entry ? await buildTypeChecked(options.entry, build) : await build();
  if (!built) return 1;
  const { app, files } = built;
  if (!check) {
    writeFiles(files, dist);
    const workflows = app.node.findAll().filter((c) => Workflow.isWorkflow(c));
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
