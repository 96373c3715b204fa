/**
 * `npm run state:migrate`: applies state/migrations to DATABASE_URL (the migration Job runs
 * this, as the schema's owner). With STATE_APP_URL, the URL the service connects with, it
 * then grants that URL's user the service's privileges (state/roles.ts), creating the role
 * and setting its password from the URL.
 */
import { openDb } from './db';
import { migrate } from './migrate';
import { grantServiceRole } from './roles';

function serviceRole(appUrl: string): { name: string; password?: string } {
  let url: URL;
  try {
    url = new URL(appUrl);
  } catch {
    throw new Error('STATE_APP_URL is not a URL; give the postgres:// URL the service connects with (Secret swoop-state-db key url)');
  }
  if (!url.username) throw new Error('STATE_APP_URL names no user; give the postgres:// URL the service connects with, user included');
  return { name: decodeURIComponent(url.username), password: url.password ? decodeURIComponent(url.password) : undefined };
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required (the owner\'s postgres:// URL; Secret swoop-state-db-owner key url)');
  const role = process.env.STATE_APP_URL ? serviceRole(process.env.STATE_APP_URL) : undefined;
  const db = await openDb({ url, schema: process.env.DATABASE_SCHEMA || undefined, statementTimeoutMs: 0 });
  try {
    const result = await migrate(db);
    for (const name of result.alreadyApplied) console.log(`already applied  ${name}`);
    for (const name of result.applied) console.log(`applied          ${name}`);
    console.log(`${db.location}: ${result.applied.length} applied, ${result.alreadyApplied.length} already there`);
    if (role) {
      const granted = await grantServiceRole(db, role);
      console.log(granted === 'granted'
        ? `granted the service's privileges to role ${role.name}`
        : `the service connects as the owner ${role.name} itself: nothing to grant (give it its own role: docs/state.md)`);
    }
  } finally {
    await db.close();
  }
}

main().catch((err: Error) => {
  console.error(`state:migrate: ${err.message}`);
  process.exit(1);
});
