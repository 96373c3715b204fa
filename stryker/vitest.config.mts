import { defineConfig } from 'vitest/config';

/**
 * The test run StrykerJS mutates against: only the test files that belong to the file being
 * mutated (SWOOP_MUTATION_TESTS, set by tools/mutate.ts), so each mutant runs in seconds.
 */
const tests = (process.env.SWOOP_MUTATION_TESTS ?? '').split(',').filter(Boolean);
if (tests.length === 0) throw new Error('SWOOP_MUTATION_TESTS is empty: run mutation tests with `npm run mutate -- <file>`');

export default defineConfig({
  test: {
    include: tests,
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
