// StrykerJS configuration for `npm run mutate` (tools/mutate.ts sets the two variables).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'stryker/vitest.config.mts' },
  coverageAnalysis: 'perTest',
  // progress-append-only: a line every few seconds, so a long run shows how far it got.
  reporters: ['clear-text', 'json', 'progress-append-only'],
  jsonReporter: { fileName: process.env.SWOOP_MUTATION_REPORT ?? '.stryker-tmp/report.json' },
  // tools/mutate.ts gives each file its own folder under .stryker-tmp; no sandbox copies another's.
  ignorePatterns: ['/.stryker-tmp'],
  concurrency: 2,
  timeoutMS: 30000,
  // Module-level mutants (route constants, tables) are the ones most worth killing.
  ignoreStatic: false,
};
