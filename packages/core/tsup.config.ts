import { defineConfig } from 'tsup';

export default defineConfig({
  // The app API, the driver helpers and the test stores: three entries over shared chunks, so
  // they share one copy of core's module state (the driver registry, the error classes).
  entry: { index: 'src/index.ts', driver: 'src/driver.ts', testing: 'src/testing/index.ts' },
  // ESM only: the CommonJS entries are one-line files that require this build (see the README,
  // "CommonJS and ESM"), written by scripts/cjs-entries.mjs.
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
