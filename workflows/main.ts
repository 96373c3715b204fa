import { resolve } from 'node:path';
import { runCommand } from '../constructs/errors';
import { formatLatencyTable, runLatency } from '../constructs/latency';
import { formatPodsTable, podsPerRun } from '../constructs/pods';
import { buildTypeChecked } from '../constructs/synth-cli';
import { EnvironmentError } from '../stacks/environment';

const USAGE = 'usage: npm run synth -- [--check] [--dist <dir>] [--debug]';

/**
 * `npm run synth` type-checks the app, then writes dist/<stack>/ for every stacks/Pulumi.<stack>.yaml (workflows/
 * environments.ts); `npm run synth -- --check` fails, listing the files, when dist/ is stale.
 * `--dist <dir>` points both at another directory; `--debug` prints stack traces. The app is
 * loaded only when the command runs, so even a mistake at the top of a workflow file is
 * reported as one line.
 */
async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const distFlag = argv.indexOf('--dist');
  if (distFlag >= 0 && !argv[distFlag + 1]) {
    process.stderr.write(`synth: --dist needs a directory\n${USAGE}\n`);
    return 2;
  }
  const dist = distFlag >= 0 ? resolve(argv[distFlag + 1]) : resolve(__dirname, '..', 'dist');
  // This file and what it imports are type-checked (tsconfig.synth.json) while the app is
  // built; nothing is written unless both succeed.
  const built = await buildTypeChecked(__filename, async () => {
    const { synthesizeEnvironments, ...environments } = await import('./environments');
    try {
      return { manifests: synthesizeEnvironments(), ...environments };
    } catch (e) {
      if (!(e instanceof EnvironmentError)) throw e;
      return { error: e, ...environments };
    }
  });
  if (!built) return 1;
  if ('error' in built) {
    process.stderr.write(`${built.error.message}\n`);
    return 1;
  }
  const { manifests, compareEnvironments, writeEnvironments } = built;
  const count = manifests.reduce((n, m) => n + m.files.size, 0);
  const stacks = manifests.map((m) => m.environment.stack).join(', ');
  if (!check) {
    writeEnvironments(manifests, dist);
    const workflows = manifests[0]?.swoop.workflows ?? [];
    const pods = workflows.map((w) => podsPerRun(w));
    const latency = formatLatencyTable(runLatency(manifests[0]?.files.values() ?? [], pods));
    process.stdout.write(`wrote ${count} files to ${dist} (stacks: ${stacks})\n\n${formatPodsTable(pods)}\n\n${latency}\n`);
    return 0;
  }
  const problems = compareEnvironments(manifests, dist);
  if (problems.length) {
    process.stderr.write(`dist/ is out of date; run \`npm run synth\` and commit the result:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 1;
  }
  process.stdout.write(`dist/ is up to date (${count} files; stacks: ${stacks})\n`);
  return 0;
}

void runCommand(main);
