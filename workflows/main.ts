import { resolve } from 'node:path';
import { synthCommand } from '../constructs/synth-cli';

/**
 * `npm run synth` writes dist/; `npm run synth -- --check` synthesizes to a temporary
 * directory and fails, listing the files, when dist/ is stale. `--dist <dir>` points both at
 * another directory; `--debug` prints stack traces. The app is loaded only when the command
 * runs, so even a mistake at the top of a workflow file is reported as one line.
 */
void synthCommand({
  dist: resolve(__dirname, '..', 'dist'),
  build: async (outdir) => (await import('./app')).buildApp(outdir),
});
