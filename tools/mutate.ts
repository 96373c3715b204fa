/**
 * `npm run mutate -- [--concurrency N] [file[:lines] ...]`: StrykerJS mutation testing of the
 * files whose tests must notice a bug, each against only its own tests
 * (stryker/vitest.config.mts), printing each file's score and exiting 1 when one is under the
 * bar. `file:10-50,80` mutates only those lines (to iterate on survivors; a score counts only
 * as a whole-file run); `--concurrency` sets the test runners (the config's 2 otherwise), for a
 * machine shared with other work. Needs Node 22+ (StrykerJS does); not part of `npm test`
 * (minutes per file). docs/mutation.md has the scores and the survivors that are equivalent
 * mutants.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Each mutated file and the tests that own it. */
export const TARGETS: Record<string, readonly string[]> = {
  'state/states.ts': ['test/state/states.test.ts'],
  // The unit tests only: the HTTP tests (edges, validate-fuzz) start a database per run
  // and would make each mutant cost seconds; what they would add only raises the score.
  'state/validate.ts': ['test/state/validate.test.ts'],
  'constructs/step.ts': ['test/constructs/step.test.ts', 'test/constructs/invalid.test.ts', 'test/constructs/synth.test.ts', 'test/constructs/runtime-checks.test.ts',
    // Wait-for-callback is a PlatformCallNode, as Map is (its tests are left out to keep the run
    // bounded: with them the run took over 40 minutes here; step.test.ts covers what of step.ts
    // only a Map reaches, and the run takes 8 minutes); catch handlers are rendered by the step.
    'test/constructs/wait-for-callback.test.ts', 'test/constructs/catch.test.ts'],
  'constructs/names.ts': ['test/constructs/names.test.ts', 'test/constructs/invalid.test.ts'],
  'constructs/events/routing.ts': ['test/events/routing.test.ts', 'test/events/flows.test.ts', 'test/events/manifests.test.ts'],
  'tools/lint/check-dag.ts': ['test/lint/checks.test.ts', 'test/lint/check-dag.test.ts'],
};

/** The score a file must reach (issue 15). */
export const BAR = 85;

const root = join(__dirname, '..');

function main(argv: string[]): number {
  const at = argv.indexOf('--concurrency');
  const concurrency = at === -1 ? [] : ['--concurrency', argv[at + 1] ?? ''];
  if (at !== -1 && !/^[1-9][0-9]*$/.test(concurrency[1]!)) {
    process.stderr.write(`mutate: --concurrency needs a number of test runners, e.g. --concurrency 1\n`);
    return 2;
  }
  const specs = at === -1 ? argv : [...argv.slice(0, at), ...argv.slice(at + 2)];
  const files = specs.length ? specs : Object.keys(TARGETS);
  // `file:10-50,80` mutates part of a registered file, against that file's tests
  // (StrykerJS wants `file:10-50,file:80-80`).
  const fileOf = (spec: string) => spec.split(':')[0]!;
  const mutateArg = (spec: string) => {
    const [file, lines] = spec.split(':');
    return lines === undefined ? spec : lines.split(',').map((r) => `${file}:${r.includes('-') ? r : `${r}-${r}`}`).join(',');
  };
  const unknown = files.filter((f) => !TARGETS[fileOf(f)]);
  if (unknown.length) {
    process.stderr.write(`mutate: no tests are registered for ${unknown.join(', ')}; known: ${Object.keys(TARGETS).join(', ')} (tools/mutate.ts)\n`);
    return 2;
  }
  const rows: string[] = [];
  let failed = false;
  for (const file of files) {
    const tests = TARGETS[fileOf(file)]!.filter((t) => t.includes('*') || existsSync(join(root, t)));
    // Each file in its own temporary folder, so runs never share (or clean away) a sandbox.
    const temp = join('.stryker-tmp', file.replace(/[^A-Za-z0-9]+/g, '-'));
    const reportFile = join(temp, 'report.json');
    const run = spawnSync('npx', ['stryker', 'run', 'stryker/stryker.config.mjs', '--mutate', mutateArg(file), '--tempDirName', temp, '--cleanTempDir', 'false', ...concurrency], {
      cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, SWOOP_MUTATION_TESTS: tests.join(','), SWOOP_MUTATION_REPORT: reportFile },
    });
    if (run.status !== 0) {
      process.stderr.write(`mutate: stryker failed on ${file} (exit ${run.status}); see its output above\n`);
      return 2;
    }
    const report = JSON.parse(readFileSync(join(root, reportFile), 'utf8')) as { files: Record<string, { mutants: { status: string }[] }> };
    const mutants = Object.values(report.files).flatMap((f) => f.mutants);
    const count = (status: string) => mutants.filter((m) => m.status === status).length;
    const detected = count('Killed') + count('Timeout');
    const valid = mutants.length - count('CompileError') - count('RuntimeError') - count('Ignored');
    const score = valid ? (100 * detected) / valid : 100;
    failed ||= score < BAR;
    rows.push(`${file.padEnd(32)} ${score.toFixed(1).padStart(5)}%  ${detected}/${valid} detected, ${count('Survived')} survived, ${count('NoCoverage')} not covered`);
  }
  process.stdout.write(`\nmutation scores (bar ${BAR}%):\n${rows.join('\n')}\n`);
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
