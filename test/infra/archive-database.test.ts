/**
 * The archive database Job's script (infra/argo.ts) run as it is, with psql, against the
 * real PostgreSQL: the role, its password and its database, idempotently.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ARCHIVE_DATABASE_SCRIPT } from '../../infra/argo';
import { openDb, quoteIdent } from '../../state/db';
import { DATABASE_URL, databaseUrlAs } from '../state/support';

const HAVE_PSQL = spawnSync('psql', ['--version']).status === 0;
const SKIP = !DATABASE_URL ? 'needs a real PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)'
  : !HAVE_PSQL ? 'needs psql on PATH (Debian: apt-get install postgresql-client)' : undefined;

describe.skipIf(SKIP !== undefined)(`the archive database Job${SKIP ? ` - ${SKIP}` : ''}`, () => {
  const role = `argo_archive_test_${randomBytes(5).toString('hex')}`;
  const database = `argo_test_${randomBytes(5).toString('hex')}`;
  // CREATE/DROP DATABASE wait for a checkpoint, which can outlast the service's 15 s statement timeout on a busy server.
  const admin = () => openDb({ url: DATABASE_URL, maxConnections: 1, statementTimeoutMs: 0 });

  const runJob = (password: string) => {
    const url = new URL(DATABASE_URL!);
    return spawnSync('sh', ['-c', ARCHIVE_DATABASE_SCRIPT], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH, PGHOST: url.hostname, PGPORT: url.port || '5432', PGDATABASE: 'postgres',
        PGUSER: decodeURIComponent(url.username) || 'postgres', PGPASSWORD: decodeURIComponent(url.password),
        ARCHIVE_USER: role, ARCHIVE_PASSWORD: password, ARCHIVE_DATABASE: database,
      },
    });
  };

  afterAll(async () => {
    const db = await admin();
    await db.exec(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
    await db.exec(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    await db.close();
  });

  it('creates a plain login role owning the archive database, and re-runs idempotently with a new password', async () => {
    const first = runJob('first-password');
    expect(first.stderr.replace(/^NOTICE:.*\n/gm, '')).toBe('');
    expect(first.status).toBe(0);
    const db = await admin();
    try {
      const look = () => db.query<{ login: boolean; super: boolean; createrole: boolean; createdb: boolean; owner: string; secret: string }>(
        `SELECT r.rolcanlogin AS login, r.rolsuper AS super, r.rolcreaterole AS createrole, r.rolcreatedb AS createdb,
                pg_get_userbyid(d.datdba) AS owner, a.rolpassword AS secret
         FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid, pg_database d WHERE r.rolname = $1 AND d.datname = $2`, [role, database]);
      const [before] = await look();
      expect(before).toMatchObject({ login: true, super: false, createrole: false, createdb: false, owner: role });
      expect(before!.secret).toMatch(/^SCRAM-SHA-256\$/);

      const again = runJob('rotated-password');
      expect(again.status).toBe(0);
      const [after] = await look();
      expect(after).toMatchObject({ login: true, owner: role });
      expect(after!.secret).not.toBe(before!.secret);
    } finally {
      await db.close();
    }
    // Argo creates its tables itself: the role can, in its own database.
    const asArchive = await openDb({ url: databaseUrlAs(role, { password: 'rotated-password', database }), maxConnections: 1 });
    try {
      await asArchive.exec('CREATE TABLE argo_workflows (id text PRIMARY KEY)');
      expect(await asArchive.query('SELECT count(*)::int AS n FROM argo_workflows')).toEqual([{ n: 0 }]);
    } finally {
      await asArchive.close();
    }
  });

  it('stops at the first error, creating nothing, when the user running it may not create roles', async () => {
    const weak = `${role}_weak`;
    const other = `${role}_never`;
    const db = await admin();
    await db.exec(`CREATE ROLE ${quoteIdent(weak)} LOGIN`);
    try {
      const url = new URL(DATABASE_URL!);
      const r = spawnSync('sh', ['-c', ARCHIVE_DATABASE_SCRIPT], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, PGHOST: url.hostname, PGPORT: url.port || '5432', PGDATABASE: 'postgres', PGUSER: weak,
          ARCHIVE_USER: other, ARCHIVE_PASSWORD: 'x', ARCHIVE_DATABASE: other },
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/permission denied to create role/);
      const [left] = await db.query<{ roles: number; dbs: number }>(
        'SELECT (SELECT count(*)::int FROM pg_roles WHERE rolname = $1) AS roles, (SELECT count(*)::int FROM pg_database WHERE datname = $1) AS dbs', [other]);
      expect(left).toEqual({ roles: 0, dbs: 0 });
    } finally {
      await db.exec(`DROP ROLE ${quoteIdent(weak)}`);
      await db.close();
    }
  });
});
