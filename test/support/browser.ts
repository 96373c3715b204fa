/**
 * A real browser for the dashboard tests and `npm run screenshots`: Debian's Chromium
 * (`apt-get install chromium`, which .ci/run does) driven by playwright-core. Outside CI a
 * machine without Chromium skips the browser tests with the reason; in CI (CI=true) a
 * missing Chromium is a failure, so the tests can never silently stop running there.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const NO_CHROMIUM = `needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH); skipped outside CI`;

if (!HAVE_CHROMIUM && process.env.CI === 'true') {
  throw new Error(`CI=true but ${NO_CHROMIUM.replace('; skipped outside CI', '')}: .ci/run installs it`);
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile, deleted on close. */
export async function launchBrowser(options: { width?: number; height?: number } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'swoop-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--font-render-hinting=none'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
