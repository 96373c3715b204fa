import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildState, type BuiltState } from '../../state/build';

/**
 * The state service as its image runs it (state/Dockerfile): the esbuild bundle of
 * state/build.ts, started from a directory outside the repository, so no node_modules can
 * help it. Its size is printed, not asserted.
 */
const ROOT = resolve(__dirname, '..', '..');
const DATABASE_URL = process.env.DATABASE_URL;
const dir = mkdtempSync(join(tmpdir(), 'swoop-state-bundle-'));
let built: BuiltState;
const children: ChildProcess[] = [];

beforeAll(async () => {
  built = await buildState(join(dir, 'state'));
  const runtime = Object.entries(built.files).filter(([f]) => !f.endsWith('.map')).reduce((a, [, n]) => a + n, 0);
  console.log(`state bundle: ${(runtime / 1024).toFixed(0)} KiB to run (${Object.keys(built.files).filter((f) => f.endsWith('.js')).join(', ')} and ${readdirSync(join(built.outdir, 'migrations')).length} migrations), ${(built.totalBytes / 1024).toFixed(0)} KiB with source maps`);
}, 120_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `node <file>` with only `env` (plus PATH); resolves with the exit code and output. */
function run(file: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(built.outdir, file)], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => done({ code, out }));
  });
}

/** Starts the bundled service; resolves with its base URL once it says where it listens. */
function serve(env: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(built.outdir, 'serve.js')], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', STATE_WRITE_TOKEN: 'w', STATE_READ_TOKEN: 'r', ...env } });
    children.push(child);
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url) done(url);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => fail(new Error(`serve.js exited ${code}: ${out}`)));
  });
}

async function probes(url: string): Promise<number[]> {
  for (let i = 0; i < 50; i++) {
    const ready = await fetch(`${url}/readyz`);
    if (ready.status === 200) return [(await fetch(`${url}/healthz`)).status, ready.status];
    await new Promise((r) => setTimeout(r, 100));
  }
  return [(await fetch(`${url}/healthz`)).status, (await fetch(`${url}/readyz`)).status];
}

describe('the state service bundle (npm run build:state)', () => {
  it('holds the two entry points and the migrations, and none of the Pulumi SDKs or PGlite', () => {
    expect(Object.keys(built.files).filter((f) => f.endsWith('.js'))).toEqual(['migrate-cli.js', 'serve.js']);
    expect(readdirSync(join(built.outdir, 'migrations'))).toEqual(readdirSync(join(ROOT, 'state', 'migrations')).sort());
    const text = readFileSync(join(built.outdir, 'serve.js'), 'utf8');
    expect(text).not.toMatch(/@pulumi\//);
    expect(text).toContain('require("@electric-sql/pglite")');
    expect(text).toContain('fastify');
  });

  it.skipIf(!DATABASE_URL)('migrates and serves against PostgreSQL: /healthz and /readyz answer 200', async () => {
    const schema = `swoop_bundle_${randomBytes(5).toString('hex')}`;
    try {
      const migrated = await run('migrate-cli.js', { DATABASE_URL: DATABASE_URL!, DATABASE_SCHEMA: schema });
      expect(migrated.code, migrated.out).toBe(0);
      expect(migrated.out).toMatch(/ applied, 0 already there/);
      const url = await serve({ DATABASE_URL: DATABASE_URL!, DATABASE_SCHEMA: schema });
      expect(await probes(url)).toEqual([200, 200]);
    } finally {
      const client = new Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  }, 60_000);

  it('serves on PGlite where PGlite is installed (development), /readyz 200', async () => {
    const url = await serve({ NODE_PATH: join(ROOT, 'node_modules') });
    expect(await probes(url)).toEqual([200, 200]);
  }, 60_000);

  it('without DATABASE_URL and without PGlite (the image) it stops with a one-line reason', async () => {
    const result = await run('serve.js', { STATE_WRITE_TOKEN: 'w', STATE_READ_TOKEN: 'r', PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.out.trim()).toBe('state:serve: PGlite is not installed here (the state image runs against PostgreSQL only); set DATABASE_URL');
  }, 60_000);
});
