// @ts-check
/**
 * Stryker over the `unit` Vitest project (no redis-server, virtual time). Run it through
 * `npm run mutation` (scripts/mutation.ts), which mutates one module at a time with its own
 * incremental file under reports/mutation/, bounds the wall-clock time and prints the scores.
 * docs/testing.md says how, and why each setting is what it is.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  // Only the tests that reach a mutant run for it.
  coverageAnalysis: 'perTest',
  // The checker drops mutants that do not compile (an emptied body that must return a number,
  // `signal?.x` made `signal.x`); they are not valid mutants and do not count in the score.
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // Every module of the core; scripts/mutation.ts passes one file at a time.
  mutate: ['src/*.ts', '!src/index.ts', '!src/core.ts'],
  // 2 shared cores: one test runner (plus the checker process).
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/mutation/all.json',
  reporters: ['clear-text', 'progress-append-only'],
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // A mutant that loops forever on virtual time fails on VirtualTime.run's step bound; one that
  // blocks the event loop is cut by this timeout (counted as detected, as Stryker does).
  timeoutMS: 10_000,
  dryRunTimeoutMinutes: 10,
};
