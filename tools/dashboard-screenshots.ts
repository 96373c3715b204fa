/**
 * `npm run screenshots`: regenerates docs/dashboard/*.png, the README's pictures of the
 * dashboard. It starts the real state service on an in-memory PGlite, writes the seed
 * history of the browser tests through the write API (test/support/dashboard-seed.ts),
 * signs in with the reader token as a user would, and photographs each view in Debian's
 * Chromium at a fixed size. Times on the pictures are the time of the run; everything else
 * is the same on every run.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../test/support/browser';
import { SEED, seedDashboard } from '../test/support/dashboard-seed';
import { createTestDb, READER, startTestService, WRITER } from '../test/state/support';

const OUT = join(__dirname, '..', 'docs', 'dashboard');

async function main(): Promise<void> {
  const t = await createTestDb();
  const s = await startTestService(t.db, { dashboard: { argoWorkflowUrl: 'https://argo.example.com/workflows/swoop/{name}?uid={uid}' } });
  const browser = await launchBrowser({ width: 1280, height: 900 });
  try {
    await seedDashboard(s.url, WRITER);
    const page = await browser.context.newPage();
    await page.goto(`${s.url}/dashboard`);
    await page.getByLabel(/Reader token/).fill(READER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${s.url}/dashboard`);
    mkdirSync(OUT, { recursive: true });
    const shots: [string, string][] = [
      ['overview', '/dashboard'],
      ['overview-filtered', '/dashboard?window=6h&workflow=cog-archive'],
      ['failure', `/dashboard/payload?id=${encodeURIComponent(SEED.failed.payloadId)}`],
      ['timeline-chain', `/dashboard/payload?id=${encodeURIComponent(SEED.chained.payloadId)}`],
      ['search', `/dashboard/search?q=${SEED.chained.collection}`],
    ];
    for (const [name, path] of shots) {
      await page.goto(`${s.url}${path}`);
      const file = join(OUT, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`wrote ${file}`);
    }
  } finally {
    await browser.close();
    await s.close();
    await t.drop();
  }
}

main().catch((err: Error) => {
  console.error(`screenshots: ${err.stack ?? err.message}`);
  process.exit(1);
});
