/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against the
 * real state service, on data written through its real write API: sign in, read the
 * counts, filter, open a failure, follow a chain link, search, and use it all from the
 * keyboard; axe-core checks every view against WCAG 2 A/AA (contrast included).
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, launchBrowser, NO_CHROMIUM, type Browser } from '../support/browser';
import { SEED, seedDashboard } from '../support/dashboard-seed';
import { BACKEND, createTestDb, READER, startTestService, type TestDb, type TestService, WRITER } from './support';

const ARGO = 'https://argo.example.com/workflows/swoop/{name}?uid={uid}';
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

describe.skipIf(!HAVE_CHROMIUM)(`dashboard in Chromium (${BACKEND}, real service)${HAVE_CHROMIUM ? '' : ` - ${NO_CHROMIUM}`}`, () => {
  let t: TestDb;
  let s: TestService;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    t = await createTestDb();
    s = await startTestService(t.db, { dashboard: { argoWorkflowUrl: ARGO } });
    await seedDashboard(s.url, WRITER);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
    await t?.drop();
  });

  /** The text of a counts cell: row `workflow`, column `state`. */
  const count = async (workflow: string, state: string) => {
    const columns = await page.locator('#counts thead th').allTextContents();
    const row = page.locator('#counts tbody tr, #counts tfoot tr', { has: page.locator(`th:text-is("${workflow}")`) });
    return (await row.locator('th, td').nth(columns.indexOf(state)).textContent())?.trim();
  };

  it('asks for the reader token, refuses a wrong one, and signs in with the right one', async () => {
    const res = await page.goto(`${s.url}/dashboard`);
    expect(res?.status()).toBe(401);
    await page.getByLabel(/Reader token/).fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not the state service');
    await page.getByLabel(/Reader token/).fill(READER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${s.url}/dashboard`);
    expect(await page.locator('h1').textContent()).toBe('Runs, last 24 hours');
  });

  it('shows counts by workflow and state, the hourly trend and the latest failures', async () => {
    expect(await count('cog-archive', 'SUCCESSFUL')).toBe('1');
    expect(await count('cog-archive', 'FAILED')).toBe('1');
    expect(await count('cog-archive', 'CANCELED')).toBe('1');
    expect(await count('cog-archive', 'Total')).toBe('3');
    expect(await count('publish', 'RUNNING')).toBe('1');
    expect(await count('sar-rtc', 'TIMED_OUT')).toBe('1');
    expect(await count('All', 'Total')).toBe('6');
    // The current hour's bar holds all six runs: 1 successful, 3 failed, 1 active, 1 canceled.
    const lastHour = page.locator('#trend-table tbody tr').last();
    expect((await lastHour.locator('td').allTextContents()).map(Number)).toEqual([1, 3, 1, 1]);
    expect(await page.locator('#trend-table tbody tr').count()).toBe(24);
    const failures = await page.locator('#failures tbody tr td:nth-child(3)').allTextContents();
    expect(failures.map((f) => f.trim())).toEqual(expect.arrayContaining([SEED.failed.run, SEED.timedOut.run]));
    expect(await page.locator('#failures').textContent()).toContain(SEED.failed.error);
  });

  it('filters by workflow and window', async () => {
    await page.getByLabel('Workflow', { exact: true }).selectOption('cog-archive');
    await page.getByLabel('Window', { exact: true }).selectOption('7d');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/workflow=cog-archive/);
    expect(new URL(page.url()).searchParams.get('window')).toBe('7d');
    expect(await page.locator('#counts tbody tr').count()).toBe(1);
    expect(await count('cog-archive', 'Total')).toBe('3');
    expect(await page.locator('#trend-table tbody tr').count()).toBe(168);
    const failedRuns = (await page.locator('#failures tbody tr td:nth-child(3)').allTextContents()).map((f) => f.trim());
    expect(failedRuns).toEqual([SEED.failed.run]);
  });

  it('opens a failure: the payload, its run with the error, and the run in the Argo UI', async () => {
    await page.getByRole('link', { name: SEED.failed.run, exact: true }).click();
    await page.waitForURL(/\/dashboard\/payload\?id=/);
    expect(await page.locator('h1').textContent()).toBe(`Payload ${SEED.failed.payloadId}`);
    const row = page.locator(`#run-${SEED.failed.run}`);
    expect(await row.locator('.state').textContent()).toBe('FAILED');
    expect(await row.locator('pre.error').textContent()).toBe(SEED.failed.error);
    expect(await row.getByRole('link', { name: /Argo/ }).getAttribute('href'))
      .toBe(`https://argo.example.com/workflows/swoop/${SEED.failed.run}?uid=uid-${SEED.failed.run}`);
    const kinds = await page.locator('#timeline li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-kind')));
    expect(kinds).toEqual(expect.arrayContaining(['payload', 'claim', 'event', 'notification']));
  });

  it('follows a chain link from a payload to the payload its run started, and back', async () => {
    await page.getByRole('searchbox').first().fill(SEED.chained.payloadId);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/dashboard\/payload\?id=sentinel-2-l2a%2F/);
    expect(await page.locator('#chain').textContent()).toContain(SEED.child.run);
    // the output URL of the successful run, and the refused duplicate run
    expect(await page.getByRole('link', { name: SEED.output }).first().getAttribute('href')).toBe(SEED.output);
    expect(await page.locator(`#run-${SEED.refused.run} .state`).textContent()).toBe('CANCELED');
    await page.locator('#chain').getByRole('link', { name: SEED.child.payloadId }).click();
    await page.waitForURL(/workflow-publish/);
    expect(await page.locator('h1').textContent()).toBe(`Payload ${SEED.child.payloadId}`);
    expect(await page.locator('dl.facts .state').first().textContent()).toBe('RUNNING');
    await page.locator('#chain').getByRole('link', { name: SEED.chained.payloadId }).click();
    await page.waitForURL(/workflow-cog-archive/);
  });

  it('processes a new payload and watches it finish on its page', async () => {
    const payloadId = 'sentinel-2-l2a/workflow-cog-archive/S2A_10TFK_20231005_0_L2A';
    const run = 'cog-archive-s2-watch1';
    const post = async (path: string, body: Record<string, unknown>) => {
      const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBeLessThan(300);
    };
    const event = (type: string, phase: string) => ({
      type, workflow: 'cog-archive', run, uid: `uid-${run}`, payloadId, parentRun: '', phase, startedAt: new Date(Date.now() - 60_000).toISOString(),
      finishedAt: type === 'completed' ? new Date().toISOString() : '', message: '', failures: '', input: 's3://swoop-payloads/watch.json',
      output: type === 'completed' ? 'https://data.example.com/watch/item.json' : '',
    });
    await post('/claim', { payloadId, workflow: 'cog-archive', run, input: 's3://swoop-payloads/watch.json' });
    await post('/events', event('running', 'Running'));
    await page.goto(`${s.url}/dashboard/search?q=${encodeURIComponent(payloadId)}`);
    await page.waitForURL(/\/dashboard\/payload\?id=/);
    expect(await page.locator('dl.facts .state').textContent()).toBe('RUNNING');
    await post('/events', event('completed', 'Succeeded'));
    await page.getByRole('link', { name: 'Refresh' }).click();
    await expect.poll(() => page.locator('dl.facts .state').textContent()).toBe('SUCCESSFUL');
    expect(await page.getByRole('link', { name: 'https://data.example.com/watch/item.json' }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'Refresh' }).count()).toBe(0);
  });

  it('searches by item id and by collection', async () => {
    await page.goto(`${s.url}/dashboard/search`);
    await page.getByLabel(/Payload id or hash/).fill(SEED.chained.item);
    await page.getByLabel(/Payload id or hash/).press('Enter');
    await page.waitForURL(/search\?q=/);
    expect((await page.locator('#results tbody tr').allTextContents()).join('\n')).toContain(SEED.chained.payloadId);
    await page.goto(`${s.url}/dashboard/search?q=${SEED.chained.collection}`);
    // the seeded sentinel-2 payload and the one processed above, newest first
    const rows = await page.locator('#results tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent]));
    expect(rows).toEqual([['collection', 'sentinel-2-l2a/workflow-cog-archive/S2A_10TFK_20231005_0_L2A'], ['collection', SEED.chained.payloadId]]);
    await page.goto(`${s.url}/dashboard/search?q=no-such-thing`);
    expect(await page.locator('#no-results').count()).toBe(1);
  });

  it('works from the keyboard: a skip link first, then the filters, each with a visible focus ring', async () => {
    await page.goto(`${s.url}/dashboard`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement.id')).toBe('main');
    const reached: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      // (page code as text: the test program is compiled without the DOM's types)
      const focused = await page.evaluate<{ name: string; outline: string; width: number }>(`(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return { name: el.id || el.textContent.trim() || el.tagName, outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
      })()`);
      reached.push(focused.name);
      expect(focused.outline, `focus ring on ${focused.name}`).not.toBe('none');
      expect(focused.width).toBeGreaterThanOrEqual(2);
    }
    expect(reached.slice(0, 3)).toEqual(['window', 'workflow', 'Show']);
    // The filter form works without a mouse.
    await page.focus('#window');
    await page.keyboard.press('ArrowUp');
    await page.focus('button[type=submit]:text-is("Show")');
    await page.keyboard.press('Enter');
    await page.waitForURL(/window=6h/);
  });

  const axe = async (path: string) => {
    await page.goto(`${s.url}${path}`);
    await page.evaluate(AXE_SOURCE);
    return page.evaluate<{ violations: string[]; passes: string[] }>(`(async () => {
      const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return { violations: r.violations.map((v) => v.id + ': ' + JSON.stringify(v.nodes.map((n) => n.target))), passes: r.passes.map((p) => p.id) };
    })()`);
  };

  it.each([
    ['overview', '/dashboard'],
    ['overview, one workflow, 7 days', '/dashboard?window=7d&workflow=cog-archive'],
    ['search results', `/dashboard/search?q=${SEED.chained.collection}`],
    ['payload timeline', `/dashboard/payload?id=${encodeURIComponent(SEED.chained.payloadId)}`],
    ['sign-in page', '/dashboard/login'],
  ])('axe-core finds no WCAG 2.1 A/AA violation on the %s, contrast included', async (_name, path) => {
    const { violations, passes } = await axe(path);
    expect(violations).toEqual([]);
    expect(passes).toContain('color-contrast');
  });
});
