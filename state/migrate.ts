/**
 * Applies state/migrations/NNNN_name.sql in order. Each migration runs in its own
 * transaction together with its row in swoop_migrations, under an advisory lock per
 * schema, so concurrent migrators (the Job, a second replica, parallel tests) apply each
 * file exactly once. An applied file whose text changed is an error: migrations are
 * append-only, fixes go in a new file.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db';

export const MIGRATIONS_DIR = join(__dirname, 'migrations');

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
}

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const migrations = files.map((file) => {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) {
      throw new Error(`${join(dir, file)}: migration files are named NNNN_lower_snake.sql`);
    }
    const sql = readFileSync(join(dir, file), 'utf8');
    return {
      version: Number(match[1]),
      name: file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    };
  });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`${join(dir, m.name)}: expected version ${String(i + 1).padStart(4, '0')} (versions are consecutive from 0001)`);
    }
  });
  return migrations;
}

export async function migrate(db: Db, migrations: readonly Migration[] = loadMigrations()): Promise<MigrationResult> {
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  for (const m of migrations) {
    await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('swoop-migrate:' || current_schema()))`);
      await tx.exec(`CREATE TABLE IF NOT EXISTS swoop_migrations (
        version    int PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const [done] = await tx.query<{ name: string; checksum: string }>(
        'SELECT name, checksum FROM swoop_migrations WHERE version = $1',
        [m.version],
      );
      if (done) {
        if (done.checksum !== m.checksum) {
          throw new Error(`migration ${m.name} was changed after it was applied (recorded as ${done.name}); add a new migration instead`);
        }
        alreadyApplied.push(m.name);
        return;
      }
      await tx.exec(m.sql);
      await tx.query('INSERT INTO swoop_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        m.checksum,
      ]);
      applied.push(m.name);
    });
  }
  return { applied, alreadyApplied };
}
