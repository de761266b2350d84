import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // One build for the library entries, so that code they share (the core: its classes, its
    // errors) is emitted once, in a shared chunk: an error thrown through `quorumlock/client`
    // is `instanceof` the class users import from `quorumlock` (docs/adr/011-entry-points.md).
    entry: {
      index: 'src/index.ts',
      testing: 'src/testing/index.ts',
      client: 'src/client/index.ts',
      compat: 'src/compat/index.ts',
      otel: 'src/otel/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    treeshake: true,
    splitting: true,
  },
  {
    // `npx quorumlock doctor`: ESM only, no types.
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    splitting: false,
  },
]);
