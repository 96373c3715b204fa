/**
 * The state service's own database role (migration 0009, docs/state.md): the migration Job,
 * connected as the schema's owner, grants it what the service needs in the schema and
 * nothing more. Read everything; write the journal, the outbox's delivery columns, and
 * through the rule-holding functions that run as the owner.
 */
import type { Db, Queryable } from './db';

/** Functions the service calls; they run as the owner (0009). */
export const SERVICE_FUNCTIONS = [
  'swoop_apply_journal(int, boolean)',
  'swoop_claim(text, text, text, text, boolean, text, text)',
  'swoop_end_stuck_runs(timestamptz, interval, interval, int)',
  'swoop_ensure_event_partitions(timestamptz, int)',
  'swoop_task_open(bytea, text, text, text, text, text, text, int, int)',
  'swoop_task_expire(int, bigint)',
  'swoop_task_answer(bytea, text, text, text, text)',
  'swoop_roll_up_run_counts()',
] as const;

/** Outbox columns the forwarder updates as it delivers (state/outbox.ts). */
const OUTBOX_DELIVERY_COLUMNS = ['next_attempt_at', 'delivered_at', 'attempts', 'last_error'];
/** Callback task columns the loop updates as it applies answers to Argo (state/callback-task-loop.ts). */
const CALLBACK_APPLY_COLUMNS = ['next_apply_at', 'applied_at', 'apply_attempts', 'apply_error'];

export interface ServiceRole {
  /** The login role the service connects as. */
  readonly name: string;
  /** Set (or reset, e.g. after rotation) as the role's password; undefined leaves it. */
  readonly password?: string;
}

export type GrantResult = 'granted' | 'same-as-owner';

/**
 * Creates the login role when it does not exist, sets its password, and grants it the
 * service's privileges in the current schema. Idempotent; run after every migration, so
 * tables a later migration adds are readable too. When the service connects as the
 * migration user itself there is nothing to grant ('same-as-owner').
 */
export async function grantServiceRole(db: Db, role: ServiceRole): Promise<GrantResult> {
  if (!role.name) throw new Error('grantServiceRole: the role name is empty (the user of STATE_APP_URL)');
  return db.transaction(async (tx) => {
    // The migrator's lock: grants and migrations of one schema never interleave.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('swoop-migrate:' || current_schema()))`);
    const [me] = await tx.query<{ user: string; exists: boolean }>(
      'SELECT current_user AS user, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists', [role.name]);
    if (me!.user === role.name) return 'same-as-owner';
    // Identifiers and the password are quoted by format(%I, %L): DDL takes no bind parameters.
    const sql = async (template: string, ...args: string[]) => {
      const params = [template, ...args];
      const [row] = await tx.query<{ sql: string }>(`SELECT format(${params.map((_, i) => `$${i + 1}::text`).join(', ')}) AS sql`, params);
      await tx.exec(row!.sql);
    };
    if (!me!.exists) await sql('CREATE ROLE %I LOGIN', role.name);
    if (role.password !== undefined) await sql('ALTER ROLE %I LOGIN PASSWORD %L', role.name, role.password);
    const [schema] = await tx.query<{ name: string }>('SELECT current_schema() AS name');
    await sql('GRANT USAGE ON SCHEMA %I TO %I', schema!.name, role.name);
    await sql('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', schema!.name, role.name);
    await sql('GRANT INSERT ON event_journal TO %I', role.name);
    await sql(`GRANT UPDATE (${OUTBOX_DELIVERY_COLUMNS.join(', ')}) ON outbox TO %I`, role.name);
    await sql(`GRANT UPDATE (${CALLBACK_APPLY_COLUMNS.join(', ')}) ON callback_tasks TO %I`, role.name);
    await sql(`GRANT EXECUTE ON FUNCTION ${SERVICE_FUNCTIONS.join(', ')} TO %I`, role.name);
    return 'granted';
  });
}

/**
 * What the current role lacks of the service's privileges (empty for the owner, or once
 * granted); /readyz reports it, so a service whose role was never granted is not ready
 * instead of failing every write. Every name here is a constant of this file.
 */
export async function missingServicePrivileges(db: Queryable): Promise<{ role: string; missing: string[] }> {
  const checks: [string, string][] = [
    ['INSERT on event_journal', `has_table_privilege(to_regclass('event_journal'), 'INSERT')`],
    ['SELECT on runs', `has_table_privilege(to_regclass('runs'), 'SELECT')`],
    ['UPDATE of the outbox delivery columns', `has_column_privilege(to_regclass('outbox'), 'delivered_at', 'UPDATE')`],
    ...SERVICE_FUNCTIONS.map((f): [string, string] => [`EXECUTE on ${f}`, `has_function_privilege(to_regprocedure('${f}'), 'EXECUTE')`]),
  ];
  const [row] = await db.query<Record<string, string | boolean | null>>(
    `SELECT current_user AS role, ${checks.map(([, sql], i) => `${sql} AS c${i}`).join(', ')}`);
  return { role: row!.role as string, missing: checks.filter((_, i) => row![`c${i}`] !== true).map(([what]) => what) };
}
