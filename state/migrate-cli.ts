/** `npm run state:migrate`: applies state/migrations to DATABASE_URL (the migration Job runs this). */
import { openDb } from './db';
import { migrate } from './migrate';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required (a postgres:// URL; Secret swoop-state-db key url)');
  const db = await openDb({ url, schema: process.env.DATABASE_SCHEMA || undefined, statementTimeoutMs: 0 });
  try {
    const result = await migrate(db);
    for (const name of result.alreadyApplied) console.log(`already applied  ${name}`);
    for (const name of result.applied) console.log(`applied          ${name}`);
    console.log(`${db.location}: ${result.applied.length} applied, ${result.alreadyApplied.length} already there`);
  } finally {
    await db.close();
  }
}

main().catch((err: Error) => {
  console.error(`state:migrate: ${err.message}`);
  process.exit(1);
});
