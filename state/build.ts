/**
 * `npm run build:state [-- --outdir <dir>]`: the state service as it ships in its image
 * (state/Dockerfile). esbuild bundles the two entry points (the service, the migration
 * command) with the packages they import into one file each, so the image carries only what
 * they run: no node_modules, no Pulumi SDKs, no dev tooling. The SQL migrations go beside
 * them (`state/migrate.ts` reads `<dir>/migrations`). PGlite (the embedded database for
 * running without DATABASE_URL) is left out: the image always runs against PostgreSQL.
 */
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(__dirname, '..');
export const DEFAULT_OUTDIR = join(ROOT, 'build', 'state');

/** Packages the bundle must not contain: PGlite (never used in the image), pg's optional native binding. */
const EXTERNAL = ['@electric-sql/pglite', 'pg-native'];

export interface BuiltState {
  readonly outdir: string;
  /** File (relative to outdir) -> bytes. */
  readonly files: Record<string, number>;
  readonly totalBytes: number;
}

export async function buildState(outdir = DEFAULT_OUTDIR): Promise<BuiltState> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { serve: join(ROOT, 'state', 'serve.ts'), 'migrate-cli': join(ROOT, 'state', 'migrate-cli.ts') },
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    sourcemap: true,
    external: EXTERNAL,
    legalComments: 'none',
    logLevel: 'warning',
  });
  cpSync(join(ROOT, 'state', 'migrations'), join(outdir, 'migrations'), { recursive: true, filter: (f) => !f.endsWith('~') });
  const files: Record<string, number> = {};
  const walk = (dir: string, prefix = ''): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
      else files[`${prefix}${name}`] = statSync(path).size;
    }
  };
  walk(outdir);
  return { outdir, files, totalBytes: Object.values(files).reduce((a, b) => a + b, 0) };
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

if (require.main === module) {
  const flag = process.argv.indexOf('--outdir');
  const outdir = flag >= 0 && process.argv[flag + 1] ? resolve(process.argv[flag + 1]) : DEFAULT_OUTDIR;
  buildState(outdir).then(
    (built) => {
      const runtime = Object.entries(built.files).filter(([f]) => !f.endsWith('.map'));
      console.log(`built the state service into ${built.outdir}: ${kib(runtime.reduce((a, [, n]) => a + n, 0))} to run (${kib(built.totalBytes)} with source maps)`);
      for (const [f, n] of runtime.filter(([f]) => f.endsWith('.js'))) console.log(`  ${f}  ${kib(n)}`);
    },
    (err: Error) => {
      console.error(`build:state: ${err.message.split('\n')[0]}`);
      process.exitCode = 1;
    },
  );
}
