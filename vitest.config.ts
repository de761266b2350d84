import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/** `quorumlock` and its entries resolve to the sources, as tsconfig.json's `paths` say (examples import them). */
const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));
const alias = [
  { find: /^quorumlock$/, replacement: src('index.ts') },
  { find: /^quorumlock\/(testing|compat|otel)$/, replacement: src('$1/index.ts') },
];

/**
 * The pure and in-memory tests: no redis-server, virtual time. Exported so the mutation run
 * (vitest.mutation.config.ts) runs exactly this project rather than a copy of it.
 */
export const unitProject = {
  resolve: { alias },
  test: {
    name: 'unit',
    include: [
      'test/unit/**/*.test.ts',
      'test/property/**/*.test.ts',
      'test/contracts/memory.test.ts',
      'test/support-tests/virtual/**/*.test.ts',
    ],
    setupFiles: ['test/support/setup.ts'],
    sequence: { groupOrder: 0 },
    testTimeout: 60_000,
  },
} satisfies TestProjectInlineConfiguration;

/**
 * Two projects: pure and in-memory tests run in parallel first; tests against real redis-server
 * processes run afterwards, one file at a time, on nodes the global setup starts (or on
 * QUORUMLOCK_NODES). Any unhandled rejection or error fails the run (Vitest's default, pinned).
 */
export default defineConfig({
  test: {
    dangerouslyIgnoreUnhandledErrors: false,
    projects: [
      unitProject,
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: [
            'test/contracts/real.test.ts',
            'test/integration/**/*.test.ts',
            'test/fault/**/*.test.ts',
            'test/support-tests/real/**/*.test.ts',
            'test/client/**/*.test.ts',
          ],
          setupFiles: ['test/support/setup.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
