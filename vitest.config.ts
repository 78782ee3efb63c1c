import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = [
  'core',
  'memory',
  'redis',
  'memcached',
  'dynamodb',
  'express',
  'cli',
  'test-suite',
  'dev-services',
  'otel',
];

// Tests import the workspace packages from source, so no build is needed to run them.
const alias = Object.fromEntries(
  packages.map((name) => [
    `@larder/${name}`,
    fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url)),
  ]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // CI reads the JSON report to print its `N passed, N failed` line (see .ci/summary.mjs).
    reporters: process.env.VITEST_JSON ? ['default', 'json'] : ['default'],
    outputFile: process.env.VITEST_JSON ? { json: process.env.VITEST_JSON } : {},
  },
});
