import { defineConfig } from 'tsup';

export default defineConfig({
  // The app API, the driver helpers and the test stores: three entries over shared chunks.
  entry: { index: 'src/index.ts', driver: 'src/driver.ts', testing: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  // Shared chunks in the CJS build too: the entries must share one copy of core's module state
  // (the driver-environment registry, error classes), as they do in the ESM build.
  splitting: true,
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // import.meta.url (driver-environments.ts requires `<driver>/env`) in the CJS build.
  shims: true,
});
