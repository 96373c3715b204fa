import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/**
 * A throwaway app directory inside the repository (under the git-ignored tmp/), so its files
 * import `../../constructs` and resolve node_modules like workflows/ does.
 */
export function fixtureDir(): { dir: string; write: (name: string, text: string) => string; remove: () => void } {
  mkdirSync(join(ROOT, 'tmp'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'tmp', 'app-'));
  return {
    dir,
    write: (name, text) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs a TypeScript file with tsx, as the npm scripts do. */
export function runTs(file: string, args: string[] = [], cwd = ROOT) {
  const run = spawnSync(process.execPath, [TSX, file, ...args], { cwd, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, lines: run.stderr.split('\n').filter(Boolean) };
}

/** The head of a fixture app: a task library of two tasks, `split` (output parameter `assets`) and `merge` (input `parts`). */
export const APP_HEAD = `
import { App } from 'cdk8s';
import { ContainerTask, TaskLibrary, Workflow, synthCommand } from '../../constructs';

export function tasks(app: App) {
  const lib = new TaskLibrary(app, 'lib');
  const split = new ContainerTask(lib, 'split', {
    image: 'ghcr.io/example/stac-tools:2.1.0',
    outputs: { parameters: { assets: { path: '/tmp/assets.json' } } },
  });
  const merge = new ContainerTask(lib, 'merge', { image: 'ghcr.io/example/stac-tools:2.1.0', inputs: { parameters: { parts: {} } } });
  return { lib, split, merge };
}
void Workflow;
`;

/** A fixture app whose build function body is `body` (with \`app\` and \`t\` = tasks(app) in scope). */
export function appSource(body: string, options: { entry?: boolean } = {}): string {
  return `${APP_HEAD}
void synthCommand({
  dist: __dirname + '/dist',
  ${options.entry ? 'entry: __filename,' : ''}
  build: (outdir) => {
    const app = new App({ outdir });
    const t = tasks(app);
    ${body}
    return { app };
  },
});
`;
}
