import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { unitProject } from './vitest.config.js';

/**
 * Fast files first: Stryker stops at the first failing test (bail), so a mutant a unit test
 * kills is decided in milliseconds before any simulation runs; then alphabetical, so every
 * run has the same order.
 */
class FastFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => (f.moduleId.includes('/test/property/') ? 1 : 0);
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}

/**
 * The Vitest configuration of `npm run mutation` (stryker.config.mjs): the `unit` project of
 * vitest.config.ts (no redis-server, virtual time), with a pinned simulation seed so that every
 * mutant meets the same schedules as the initial run (test/support/simulation/replay.ts) and a
 * fast-first order. Not used by `npm test`.
 */
export default defineConfig({
  test: {
    ...unitProject.test,
    env: { QUORUMLOCK_SEED: '20261216' },
    sequence: { ...unitProject.test.sequence, sequencer: FastFirst },
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
