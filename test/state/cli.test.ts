import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../state/config';
import { openDb, quoteIdent } from '../../state/db';
import { loadMigrations } from '../../state/migrate';
import { call, DATABASE_URL, databaseUrlAs, HAVE_POSTGRES, POSTGRES_ONLY } from './support';

const ROOT = join(__dirname, '..', '..');
const TSX = [process.execPath, '--import', 'tsx'];

describe('configuration from the environment', () => {
  it('needs tokens with a database URL, and generates them for PGlite', () => {
    expect(() => configFromEnv({ DATABASE_URL: 'postgres://x/y' })).toThrow(/STATE_WRITE_TOKEN and STATE_READ_TOKEN are required with DATABASE_URL/);
    const local = configFromEnv({});
    expect(local).toMatchObject({ databaseUrl: undefined, host: '127.0.0.1', port: 8080, generatedTokens: true });
    expect(local.writerToken).not.toBe(local.readerToken);
    expect(local.publicUrl).toBeUndefined();
    expect(configFromEnv({ STATE_PROCESSES: '[{"id": "cogs", "description": "COGs from a scene"}]' }).processes).toEqual([{ id: 'cogs', description: 'COGs from a scene' }]);
    expect(configFromEnv({ STATE_PUBLIC_URL: 'https://swoop.example.com/state' }).publicUrl).toBe('https://swoop.example.com/state');
    // The payload store POST /submit reads projections from: none without PAYLOAD_STORE, else the defaults.
    expect(local.payloads).toBeUndefined();
    expect(configFromEnv({ PAYLOAD_STORE: 's3://swoop-artifacts/payloads' }).payloads).toEqual({ store: 's3://swoop-artifacts/payloads', maxBytes: 16 * 1024 * 1024, timeoutMs: 5000 });
    expect(configFromEnv({ PAYLOAD_STORE: 's3://b-1/p', PAYLOAD_MAX_BYTES: '2048', PAYLOAD_READ_TIMEOUT_SECONDS: '15' }).payloads).toEqual({ store: 's3://b-1/p', maxBytes: 2048, timeoutMs: 15_000 });
  });
  it.each([
    [{ PORT: 'http' }, /PORT must be an integer/],
    [{ DATABASE_MAX_CONNECTIONS: '0' }, /DATABASE_MAX_CONNECTIONS must be a positive integer/],
    [{ LIFECYCLE_URL: 'swoop-lifecycle:12000' }, /LIFECYCLE_URL must be an http\(s\) URL/],
    [{ STATE_PROCESSES: '{"id": "cogs"}' }, /STATE_PROCESSES must be a JSON list/],
    [{ STATE_PROCESSES: '[{"id": "cogs", "version": 2}]' }, /element 0 is/],
    [{ STATE_PUBLIC_URL: 'state.example.com' }, /STATE_PUBLIC_URL must be an http\(s\) URL/],
    [{ STATE_PUBLIC_URL: 'https://state.example.com/?x=1' }, /STATE_PUBLIC_URL must be an http\(s\) URL without query/],
    [{ PAYLOAD_STORE: 'https://bucket/payloads' }, /PAYLOAD_STORE must be s3:\/\/<bucket>\[\/<prefix>\] \(got "https:\/\/bucket\/payloads"\)/],
    [{ PAYLOAD_STORE: 's3://b-1/p', PAYLOAD_MAX_BYTES: '10' }, /PAYLOAD_MAX_BYTES must be a whole number of bytes, at least 1024/],
    [{ PAYLOAD_STORE: 's3://b-1/p', PAYLOAD_READ_TIMEOUT_SECONDS: '30' }, /PAYLOAD_READ_TIMEOUT_SECONDS must be at most 15/],
    [{ PAYLOAD_STORE: 's3://b-1/p', PAYLOAD_READ_TIMEOUT_SECONDS: '0' }, /PAYLOAD_READ_TIMEOUT_SECONDS must be a whole number of seconds, at least 1/],
  ])('refuses %o', (env, message) => {
    expect(() => configFromEnv(env)).toThrow(message);
  });
});

describe('npm run state:serve', () => {
  it('starts on PGlite with nothing configured, says where it listens, and serves', async () => {
    const child = spawn(TSX[0]!, [...TSX.slice(1), 'state/serve.ts'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '', PORT: '0', LOG_LEVEL: 'warn' } });
    try {
      const out = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (d: Buffer) => {
          text += d.toString();
          if (/reader token: \S+/.test(text)) resolve(text);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${text}`)));
      });
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      expect(out).toContain('database: pglite (in memory)');
      const reader = /reader token: (\S+)/.exec(out)![1]!;
      expect((await call(url, 'GET', '/readyz')).status).toBe(200);
      expect((await call(url, 'GET', '/counts', { token: reader })).status).toBe(200);
      expect((await call(url, 'GET', '/counts', { token: 'guess' })).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe.skipIf(!HAVE_POSTGRES)(`npm run state:migrate${HAVE_POSTGRES ? '' : ` - ${POSTGRES_ONLY}`}`, () => {
  it('applies every migration to DATABASE_URL, then reports them as already applied', async () => {
    const schema = `swoop_test_${randomBytes(6).toString('hex')}`;
    const run = () => spawnSync(TSX[0]!, [...TSX.slice(1), 'state/migrate-cli.ts'], { cwd: ROOT, env: { ...process.env, DATABASE_SCHEMA: schema }, encoding: 'utf8' });
    const names = loadMigrations().map((m) => m.name);
    try {
      const first = run();
      expect(first.status).toBe(0);
      expect(first.stdout).toContain(`${names.length} applied, 0 already there`);
      const second = run();
      expect(second.stdout).toContain(`0 applied, ${names.length} already there`);
    } finally {
      const db = await openDb({ url: DATABASE_URL });
      await db.exec(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await db.close();
    }
  });

  it('with STATE_APP_URL, creates the service role from the URL and grants it the service privileges', async () => {
    const schema = `swoop_test_${randomBytes(6).toString('hex')}`;
    const role = `swoop_test_svc_${randomBytes(5).toString('hex')}`;
    const appUrl = databaseUrlAs(role, { password: 'p@ss:word/1' });
    const db = await openDb({ url: DATABASE_URL });
    try {
      const r = spawnSync(TSX[0]!, [...TSX.slice(1), 'state/migrate-cli.ts'], {
        cwd: ROOT, env: { ...process.env, DATABASE_SCHEMA: schema, STATE_APP_URL: appUrl }, encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`granted the service's privileges to role ${role}`);
      const [grants] = await db.query<{ usage: boolean; insert: boolean; update: boolean }>(
        `SELECT has_schema_privilege($1, $2, 'USAGE') AS usage, has_table_privilege($1, $3, 'INSERT') AS insert,
                has_table_privilege($1, $4, 'UPDATE') AS update`,
        [role, schema, `${quoteIdent(schema)}.event_journal`, `${quoteIdent(schema)}.runs`]);
      expect(grants).toEqual({ usage: true, insert: true, update: false });
    } finally {
      await db.exec(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await db.exec(`DROP OWNED BY ${quoteIdent(role)}; DROP ROLE IF EXISTS ${quoteIdent(role)}`).catch(() => undefined);
      await db.close();
    }
  });
});

describe('npm run state:migrate without a database', () => {
  it('fails clearly without DATABASE_URL', () => {
    const r = spawnSync(TSX[0]!, [...TSX.slice(1), 'state/migrate-cli.ts'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '' }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('state:migrate: DATABASE_URL is required');
  });
  it('names the problem with STATE_APP_URL before touching the database', () => {
    const run = (appUrl: string) => spawnSync(TSX[0]!, [...TSX.slice(1), 'state/migrate-cli.ts'], {
      cwd: ROOT, env: { ...process.env, DATABASE_URL: 'postgres://127.0.0.1:1/none', STATE_APP_URL: appUrl }, encoding: 'utf8',
    });
    expect(run('swoop_state:secret@db').stderr).toContain('STATE_APP_URL is not a URL');
    expect(run('postgres://db.example:5432/swoop').stderr).toContain('STATE_APP_URL names no user');
  });
});
