/**
 * One small database interface over two drivers: `pg` (a Pool against PostgreSQL, when a
 * URL is given) and PGlite (embedded Postgres in WebAssembly, so the service and its
 * tests run with nothing installed). Errors that mean "the database is unreachable" are
 * turned into DbUnavailableError, which the HTTP layer maps to 503.
 */
import type { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';

export interface Queryable {
  /**
   * A parameterized query ($1, $2, ...); returns the rows. A `name` makes it a prepared
   * statement on PostgreSQL, parsed and planned once per connection (hot paths only: one
   * name per text).
   */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[], name?: string): Promise<R[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Where the data lives, without credentials (for logs). */
  readonly location: string;
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /** A postgres:// URL. Default: none, meaning an embedded PGlite database. */
  readonly url?: string;
  /** Schema to create (if missing) and put first on the search_path. Default: `public`. */
  readonly schema?: string;
  /** PGlite data directory. Default: in memory (lost on exit). */
  readonly dataDir?: string;
  /** Pool size for PostgreSQL. Default: 10. */
  readonly maxConnections?: number;
  /** Give up connecting after this many ms (then DbUnavailableError). Default: 5000. */
  readonly connectTimeoutMs?: number;
  /** Per-statement timeout in ms on PostgreSQL. Default: 15000. */
  readonly statementTimeoutMs?: number;
  /** application_name on PostgreSQL. Default: `swoop-state`. */
  readonly applicationName?: string;
}

/** The database could not be reached or dropped the connection; retrying later may work. */
export class DbUnavailableError extends Error {
  constructor(readonly cause: unknown) {
    super(`database unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'DbUnavailableError';
  }
}

// SQLSTATE classes that mean the server or the connection, not the statement, failed.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-3])/;

/** Server-side errors carry a five-character SQLSTATE; anything else is transport. */
function classify(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  const isSqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
  if (isSqlState && !UNAVAILABLE_SQLSTATE.test(code)) return err;
  return new DbUnavailableError(err);
}

async function run<R>(q: () => Promise<R>): Promise<R> {
  try {
    return await q();
  } catch (err) {
    throw classify(err);
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function openDb(options: OpenDbOptions = {}): Promise<Db> {
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

async function openPostgres(url: string, o: OpenDbOptions): Promise<Db> {
  const schema = o.schema ?? 'public';
  const pool = new Pool({
    connectionString: url,
    max: o.maxConnections ?? 10,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5_000,
    application_name: o.applicationName ?? 'swoop-state',
    statement_timeout: o.statementTimeoutMs ?? 15_000,
    // JIT off: every statement here is meant to take milliseconds, and LLVM compiling one
    // takes 15-40 ms (up to seconds on a loaded node). The planner decides on estimates,
    // which for tables that empty and refill (run_count_changes, the transition tables)
    // cross jit_above_cost now and then: the dashboard's overview went from p50 11 ms to
    // p99 45 ms that way (docs/dashboard.md).
    options: `-c search_path=${quoteIdent(schema)} -c jit=off`,
  });
  // An idle client losing its connection must not crash the process; the pool drops it.
  pool.on('error', () => undefined);
  // Only when missing: the service's own role may not create schemas (0009), and
  // CREATE SCHEMA IF NOT EXISTS checks that privilege before it checks existence.
  if (schema !== 'public'
      && (await run(() => pool.query('SELECT to_regnamespace($1) IS NULL AS missing', [quoteIdent(schema)]))).rows[0].missing) {
    await run(() => pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`)).catch(async (e) => {
      // Two processes creating the same schema at once: the loser sees a unique violation.
      if ((e as { code?: string }).code !== '23505') throw e;
    });
  }
  const parsed = new URL(url);
  const db: Db = {
    kind: 'postgres',
    location: `postgres://${parsed.host}${parsed.pathname} (schema ${schema})`,
    query: (text, params, name) => run(async () => (await pool.query({ text, values: params as unknown[], name })).rows),
    exec: (sql) => run(async () => void (await pool.query(sql))),
    transaction: async (fn) => {
      const client = await run(() => pool.connect());
      let broken: unknown;
      const tx: Queryable = {
        query: (text, params, name) => run(async () => (await client.query({ text, values: params as unknown[], name })).rows),
        exec: (sql) => run(async () => void (await client.query(sql))),
      };
      try {
        await tx.exec('BEGIN');
        const out = await fn(tx);
        await tx.exec('COMMIT');
        return out;
      } catch (err) {
        broken = err;
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        // A client whose connection failed must not go back into the pool.
        client.release(broken instanceof DbUnavailableError ? broken : undefined);
      }
    },
    close: () => pool.end(),
  };
  return db;
}

async function openPglite(o: OpenDbOptions): Promise<Db> {
  // Loaded only here: the image's bundle (state/build.ts) leaves PGlite out, as it always
  // runs against PostgreSQL.
  let Pglite: typeof PGlite;
  try {
    // require, not import(): resolved like the bundle's other externals (NODE_PATH included).
    Pglite = (require('@electric-sql/pglite') as typeof import('@electric-sql/pglite')).PGlite;
  } catch {
    throw new Error('PGlite is not installed here (the state image runs against PostgreSQL only); set DATABASE_URL');
  }
  const pg = await Pglite.create(o.dataDir);
  const schema = o.schema ?? 'public';
  if (schema !== 'public') {
    await pg.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}; SET search_path TO ${quoteIdent(schema)}`);
  }
  return {
    kind: 'pglite',
    location: o.dataDir ? `pglite ${o.dataDir}` : 'pglite (in memory)',
    query: (text, params) => run(async () => (await pg.query(text, params as unknown[])).rows as never[]),
    exec: (sql) => run(async () => void (await pg.exec(sql))),
    transaction: (fn) =>
      pg.transaction(async (tx) =>
        fn({
          query: (text, params) => run(async () => (await tx.query(text, params as unknown[])).rows as never[]),
          exec: (sql) => run(async () => void (await tx.exec(sql))),
        }),
      ),
    close: () => pg.close(),
  };
}
