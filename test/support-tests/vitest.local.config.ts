import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: '.',
    include: ['test/support-tests/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
