import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../workflows/app';
import { BACKEND, startPlatform, type RunningPlatform } from '../e2e/support/platform';
import { HAVE_REFERENCE } from '../support/reference';
import { synthesizeApp, workflowProblems } from './checks';

/**
 * The organisation's app, checked generically: whatever workflows workflows/app.ts defines,
 * each one synthesizes, validates, lints clean, has sample payloads that route to it, and
 * those runs flow through the real state service (test/app/checks.ts). No workflow is named
 * here, so adding or removing one needs no test edit (test/app/copy.test.ts proves it).
 *
 * A workflow without samples fails (rather than skips): a skip is green in CI, and the
 * routing and lifecycle of a workflow nobody sent a payload to would go untested.
 */
const SAMPLES = join(resolve(__dirname, '..', '..'), 'workflows', 'samples');
const swoop = buildApp();
const synth = synthesizeApp(swoop);

describe(`every workflow of workflows/app.ts (${BACKEND})`, () => {
  let platform: RunningPlatform;
  const results = new Map<string, Promise<Record<string, string[]>>>();
  beforeAll(async () => {
    platform = await startPlatform(synth);
  });
  afterAll(async () => platform?.stop());
  const problems = (name: string) => {
    if (!results.has(name)) results.set(name, workflowProblems(swoop, synth, SAMPLES, platform, name, { schema: HAVE_REFERENCE }));
    return results.get(name)!;
  };

  it('the app defines at least one workflow', () => {
    expect(synth.names.length).toBeGreaterThan(0);
  });

  describe.each(synth.names)('%s', (name) => {
    it('synthesizes into a file of its own, with no validation error in the app', async () => {
      expect((await problems(name)).synth).toEqual([]);
    });
    it.skipIf(!HAVE_REFERENCE)('validates against the upstream schemas with its tasks, unknown fields rejected', async () => {
      expect((await problems(name)).schema).toEqual([]);
    });
    it('lints clean with the whole app', async () => {
      expect((await problems(name)).lint).toEqual([]);
    });
    it(`has sample payloads in workflows/samples/${name}/`, async () => {
      expect((await problems(name)).samples).toEqual([]);
    });
    it('each sample starts one run of it on every payload source (simulator)', async () => {
      expect((await problems(name)).routing).toEqual([]);
    });
    it('each sample run flows claim -> running -> completed through the real state service, step outputs generated from their declarations', async () => {
      expect((await problems(name)).flow).toEqual([]);
    });
  });
});
