/**
 * The cost of synth's own checks (constructs/typecheck.ts: the type check of the app's entry
 * and what it imports), measured on a generated fixture app of 20 workflows, not on the
 * organisation's workflows/. Each run is the real command in its own process (tsx, as
 * `npm run synth`): the same app synthesized by an entry without the type check (plain) and
 * by one with it, cold (no build info), after an edit of one workflow file (the usual loop),
 * and with nothing changed since the last check.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { typecheckCacheFiles } from '../constructs/typecheck';
import { stopChecker } from '../constructs/typecheck-server';

const ROOT = resolve(__dirname, '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
export const CHECK_WORKFLOWS = 20;

/** Writes the fixture app: a task library, one file per workflow, an app, and the two entries. */
function writeApp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tasks.ts'), `import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { ContainerTask, ServiceTask, TaskLibrary } from '../../constructs';

export function defineTasks(library: TaskLibrary) {
  const split = new ContainerTask(library, 'split', {
    image: 'ghcr.io/example/stac-tools:2.1.0',
    args: (io) => ['split', io.input, io.output],
    outputs: { parameters: { assets: { path: '/tmp/assets.json', list: true } } },
  });
  const convert = new ContainerTask(library, 'convert', {
    image: 'ghcr.io/osgeo/gdal:ubuntu-small-3.9.2',
    inputs: { parameters: { asset: {}, compression: { default: 'DEFLATE', enum: ['DEFLATE', 'ZSTD'] } } },
    args: (io) => ['cogify', io.input, io.output, io.parameters.asset, io.parameters.compression],
    resources: { cpu: { request: Cpu.units(2) }, memory: { request: Size.gibibytes(4) } },
    timeout: Duration.hours(1),
    retry: { limit: 3, policy: 'OnError', backoff: { delay: Duration.seconds(10) } },
  });
  const merge = new ContainerTask(library, 'merge', { image: 'ghcr.io/example/stac-tools:2.1.0', inputs: { parameters: { parts: {} } } });
  const publish = new ServiceTask(library, 'publish', { image: 'ghcr.io/example/publisher:1.0.4', path: '/publish', inputs: { parameters: { collection: {} } } });
  return { split, convert, merge, publish };
}
export type Tasks = ReturnType<typeof defineTasks>;
`);
  const names = Array.from({ length: CHECK_WORKFLOWS }, (_, i) => `wf${String(i).padStart(2, '0')}`);
  for (const name of names) {
    writeFileSync(join(dir, `${name}.ts`), `import { Duration } from 'cdk8s';
import type { App } from 'cdk8s';
import { Workflow } from '../../constructs';
import type { Tasks } from './tasks';

export function ${name}(app: App, t: Tasks) {
  const wf = new Workflow(app, '${name}', { parameters: { collection: { default: 'sentinel-2-l2a' } }, timeout: Duration.hours(2) });
  const split = wf.addStep('split', t.split);
  const convert = wf.addStep('convert', t.convert, { input: split.output, forEach: split.outputs.parameters.assets, parameters: { asset: wf.item } });
  const merge = wf.addStep('merge', t.merge, { input: split.output, parameters: { parts: convert.output } });
  wf.addStep('publish', t.publish, { input: merge.output, parameters: { collection: wf.params.collection } });
  return wf;
}
`);
  }
  writeFileSync(join(dir, 'app.ts'), `import { App } from 'cdk8s';
import { TaskLibrary } from '../../constructs';
import { defineTasks } from './tasks';
${names.map((n) => `import { ${n} } from './${n}';`).join('\n')}

export function buildApp(outdir: string) {
  const app = new App({ outdir });
  const t = defineTasks(new TaskLibrary(app, 'task-library'));
  const workflows = [${names.map((n) => `${n}(app, t)`).join(', ')}];
  for (let i = 1; i < workflows.length; i++) workflows[i - 1].then(workflows[i]);
  return { app };
}
`);
  for (const [file, entry] of [['plain.ts', ''], ['checked.ts', '\n  entry: __filename,']]) {
    writeFileSync(join(dir, file), `import { synthCommand } from '../../constructs';

void synthCommand({
  dist: __dirname + '/dist',${entry}
  build: async (outdir) => (await import('./app')).buildApp(outdir),
});
`);
  }
}

function runSeconds(dir: string, entry: string, env: NodeJS.ProcessEnv = {}): number {
  const t0 = performance.now();
  const run = spawnSync(process.execPath, [TSX, join(dir, entry), '--dist', join(dir, 'dist')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  const seconds = (performance.now() - t0) / 1000;
  if (run.status !== 0) throw new Error(`synth of the ${CHECK_WORKFLOWS}-workflow fixture (${entry}) failed: ${run.stderr.trim()}`);
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface ChecksResult {
  readonly plain: number;
  readonly cold: number;
  readonly afterEdit: number;
  readonly unchanged: number;
  /** After an edit where no warm checker may run (CI, tests): the check in a worker thread beside the build. */
  readonly afterEditNoChecker: number;
  /** Whether the after-edit runs were answered by a warm checker (the default outside CI). */
  readonly warm: boolean;
}

/**
 * Median of `runs` runs of each case, in seconds of wall time per command. Cold: no build
 * info and no warm checker. After an edit: one workflow file really edited, so the check
 * cannot be answered by the stamp; with the warm checker that the previous synth started
 * (the default outside CI), and again with SWOOP_SYNTH_CHECKER=off (a worker thread, as in CI).
 * The warm checker is stopped at the end.
 */
export async function measureChecks(workDir: string, runs = 3): Promise<ChecksResult> {
  const dir = join(workDir, 'app20');
  writeApp(dir);
  const checked = join(dir, 'checked.ts');
  const clear = async () => {
    await stopChecker(checked);
    typecheckCacheFiles(checked).forEach((f) => rmSync(f, { force: true }));
  };
  let edits = 0;
  // One workflow file edited since the last check: the usual edit-synth loop.
  const edit = () => writeFileSync(join(dir, 'wf07.ts'), `${readFileSync(join(dir, 'wf07.ts'), 'utf8')}// edit ${edits++}\n`);
  const plain: number[] = [];
  const cold: number[] = [];
  const afterEdit: number[] = [];
  const unchanged: number[] = [];
  const afterEditNoChecker: number[] = [];
  let warm = false;
  try {
    for (let i = 0; i < runs; i++) {
      plain.push(runSeconds(dir, 'plain.ts'));
      await clear();
      cold.push(runSeconds(dir, 'checked.ts'));
      edit();
      afterEdit.push(runSeconds(dir, 'checked.ts'));
      unchanged.push(runSeconds(dir, 'checked.ts'));
      edit();
      afterEditNoChecker.push(runSeconds(dir, 'checked.ts', { SWOOP_SYNTH_CHECKER: 'off' }));
    }
  } finally {
    warm = (await stopChecker(checked)) !== undefined;
  }
  return { plain: median(plain), cold: median(cold), afterEdit: median(afterEdit), unchanged: median(unchanged), afterEditNoChecker: median(afterEditNoChecker), warm };
}
