import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Migration, loadMigrations, migrate, MIGRATIONS_DIR } from '../../state/migrate';
import { BACKEND, createTestDb, HAVE_POSTGRES, POSTGRES_ONLY, type TestDb } from './support';

describe(`migrations (${BACKEND})`, () => {
  let t: TestDb | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  it('are numbered consecutively and load in order', () => {
    const names = loadMigrations().map((m) => m.name);
    expect(names.length).toBeGreaterThanOrEqual(4);
    expect(names).toEqual([...names].sort());
    names.forEach((n, i) => expect(n.startsWith(String(i + 1).padStart(4, '0'))).toBe(true));
  });

  it('apply in order, are recorded with checksums, and a second run applies nothing', async () => {
    t = await createTestDb({ migrate: false });
    const all = loadMigrations();
    const first = await migrate(t.db);
    expect(first.applied).toEqual(all.map((m) => m.name));
    const recorded = await t.db.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM swoop_migrations ORDER BY applied_at, version',
    );
    expect(recorded).toEqual(all.map((m) => ({ version: m.version, name: m.name, checksum: m.checksum })));
    const objects = async () => (await t!.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = current_schema()::regnamespace`))[0]!.n;
    const before = await objects();
    const second = await migrate(t.db);
    expect(second).toEqual({ applied: [], alreadyApplied: all.map((m) => m.name) });
    expect(await objects()).toBe(before);
  });

  it('applies only the new ones when more are added later', async () => {
    t = await createTestDb({ migrate: false });
    const all = loadMigrations();
    await migrate(t.db, all.slice(0, 2));
    const rest = await migrate(t.db, all);
    expect(rest.applied).toEqual(all.slice(2).map((m) => m.name));
    expect(rest.alreadyApplied).toEqual(all.slice(0, 2).map((m) => m.name));
  });

  it('refuses an applied migration whose text changed, and leaves nothing half-done', async () => {
    t = await createTestDb({ migrate: false });
    const all = loadMigrations();
    await migrate(t.db, all);
    const edited: Migration[] = [{ ...all[0]!, sql: `${all[0]!.sql}\n-- edited`, checksum: 'different' }];
    await expect(migrate(t.db, edited)).rejects.toThrow(/0001_payloads_runs\.sql was changed after it was applied/);

    const broken: Migration = { version: all.length + 1, name: 'broken.sql', sql: 'CREATE TABLE half_done (a int); SELECT no_such_function();', checksum: 'x' };
    await expect(migrate(t.db, [...all, broken])).rejects.toThrow(/no_such_function/);
    const [half] = await t.db.query<{ r: string | null }>(`SELECT to_regclass('half_done')::text AS r`);
    expect(half!.r).toBeNull();
    const [n] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM swoop_migrations');
    expect(n!.n).toBe(all.length);
  });

  it('rejects badly named or non-consecutive files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swoop-migrations-'));
    writeFileSync(join(dir, '0001_a.sql'), readFileSync(join(MIGRATIONS_DIR, '0001_payloads_runs.sql')));
    writeFileSync(join(dir, '0003_c.sql'), 'SELECT 1;');
    expect(() => loadMigrations(dir)).toThrow(/0003_c\.sql: expected version 0002/);
    writeFileSync(join(dir, 'Add-Thing.sql'), 'SELECT 1;');
    expect(() => loadMigrations(dir)).toThrow(/Add-Thing\.sql: migration files are named NNNN_lower_snake\.sql/);
  });

  it('keeps history in month partitions and moves early rows out of the default one', async () => {
    t = await createTestDb();
    const parts = await t.db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'run_events'::regclass ORDER BY 1`,
    );
    const month = (d: Date) => `run_events_${d.toISOString().slice(0, 7).replace('-', '_')}`;
    expect(parts.map((p) => p.name)).toContain(month(new Date()));
    expect(parts.map((p) => p.name)).toContain('run_events_default');

    // A run created in a month with no partition yet lands in the default partition...
    await t.db.query(`INSERT INTO runs (run, workflow, state, created_at) VALUES ('future', 'wf', 'QUEUED', '2031-05-03T00:00:00Z')`);
    await t.db.query(`SELECT * FROM swoop_record_event('future', 'wf', 'RUNNING', 'running')`);
    const where = async () => t!.db.query<{ part: string; n: number }>(
      `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM run_events WHERE run = 'future' GROUP BY 1`);
    expect(await where()).toEqual([{ part: 'run_events_default', n: 1 }]);
    // ...and moves to its own partition when that month is created.
    const [made] = await t.db.query<{ n: number }>(`SELECT swoop_ensure_event_partitions('2031-05-20T00:00:00Z', 1) AS n`);
    expect(made!.n).toBe(1);
    expect(await where()).toEqual([{ part: 'run_events_2031_05', n: 1 }]);
    const [again] = await t.db.query<{ n: number }>(`SELECT swoop_ensure_event_partitions('2031-05-20T00:00:00Z', 1) AS n`);
    expect(again!.n).toBe(0);
  });

  describe.skipIf(!HAVE_POSTGRES)('concurrent migrators', () => {
    it(`apply each migration exactly once (${HAVE_POSTGRES ? 'PostgreSQL' : POSTGRES_ONLY})`, async () => {
      t = await createTestDb({ migrate: false });
      const pools = await Promise.all([t.open(), t.open(), t.open()]);
      const results = await Promise.all(pools.map((db) => migrate(db)));
      const applied = results.flatMap((r) => r.applied).sort();
      expect(applied).toEqual(loadMigrations().map((m) => m.name));
    });
  });
});
