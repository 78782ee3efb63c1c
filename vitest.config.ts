import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = [
  'core',
  'memory',
  'redis',
  'memcached',
  'dynamodb',
  'http',
  'hono',
  'fastify',
  'express',
  'cli',
  'test-suite',
  'dev-services',
  'otel',
  'keyv',
];

const drivers = ['memory', 'redis', 'memcached', 'dynamodb'];
const source = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests import the workspace packages from source, so no build is needed to run them. The
// sub-path entries (`<driver>/env`, `core/driver`, `core/testing`) come first: an alias also matches the sub-paths of its name.
const alias = [
  { find: '@larder/core/driver', replacement: source('core/src/driver.ts') },
  { find: '@larder/core/testing', replacement: source('core/src/testing/index.ts') },
  ...drivers.map((name) => ({ find: `@larder/${name}/env`, replacement: source(`${name}/src/env.ts`) })),
  ...packages.map((name) => ({ find: `@larder/${name}`, replacement: source(`${name}/src/index.ts`) })),
];

export default defineConfig({
  resolve: { alias },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
      'consumers/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two test files at a time: most of them wait on real servers, so two overlap well on CI's two
    // cores (vitest's default there is one; the whole suite took about twice as long). CI runs
    // three (LARDER_TEST_WORKERS=3): the suite keeps about 1.5 of two cores busy then, 314 s
    // against 365-380 s with two, every test passing.
    maxWorkers: Number(process.env.LARDER_TEST_WORKERS ?? 2),
    // configFromEnv finds the drivers' env modules by `require`, which would load their built
    // copies (and a second copy of core): register the source ones instead.
    setupFiles: [fileURLToPath(new URL('./vitest.setup.ts', import.meta.url))],
    // CI reads the JSON report to print its `N passed, N failed` line (see .ci/summary.mjs).
    reporters: process.env.VITEST_JSON ? ['default', 'json'] : ['default'],
    outputFile: process.env.VITEST_JSON ? { json: process.env.VITEST_JSON } : {},
  },
});
