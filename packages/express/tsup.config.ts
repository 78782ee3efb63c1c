import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // session-store.ts resolves the optional express-session peer with createRequire(import.meta.url).
  shims: true,
});
