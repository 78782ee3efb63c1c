import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const packages = [
  'core',
  'memory',
  'redis',
  'memcached',
  'dynamodb',
  'http',
  'hono',
  'fastify',
  'nestjs',
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

// LARDER_TEST_SET=floor: the suite without the files that run fleets of processes, fault proxies,
// frozen servers and whole topologies (Sentinel, Cluster), the networked drivers' conformance
// (Redis single and replicas, memcached, DynamoDB; Keyv's suite and two session instances on
// DynamoDB) and the browser. CI runs it on Node 22 and Node 20 (past its end of life, still allowed
// by `engines`); Node 24 runs every file. The files left out test the backends' protocols, which do
// not change with the Node line, and they are most of the run's time.
const FLEET_AND_FAULT_FILES = [
  '**/l1-barrier.test.ts',
  '**/l1-coherence-*.test.ts',
  '**/l1-history.test.ts',
  '**/l1-churn.test.ts',
  '**/*-fleet.test.ts',
  '**/fault-matrix.test.ts',
  '**/ejection.test.ts',
  'packages/redis/test/{cluster,cluster-faults,sentinel,sentinel-faults,sentinel-topology,not-modified-cluster,l1-barrier-cluster}.test.ts',
  'packages/dev-services/test/redis-cluster.test.ts',
  'packages/core/test/rate-limit/redis-cluster.test.ts',
  'packages/{dynamodb,memcached}/test/conformance.test.ts',
  'packages/redis/test/{conformance-single,replicas}.test.ts',
  'packages/keyv/test/keyv-dynamodb.test.ts',
  'packages/express/test/session-instances-dynamodb.test.ts',
  'packages/express/test/response-cache-{swr,unsafe-stream,stale-if-error,revalidate,revalidate-bytes,store-down}.test.ts',
  'packages/express/test/session-rolling.test.ts',
  'packages/nestjs/test/throttler-store-down.test.ts',
  'packages/fastify/test/fastify-rate-limit-upstream.test.ts',
  'packages/cli/test/{process,doctor-failures}.test.ts',
  'examples/express-app/test/{docker-image,live-page.browser}.test.ts',
];

// The floor set's files share their worker's modules with the files it ran before (`isolate:
// false`): each file paid about 0.75 s of CPU to evaluate core and the drivers from source again,
// 40% of a floor run's CPU on CI's two cores (Node 20: 178 s against 312 s, every test passing).
// Not the whole suite: its fleet and fault files leave clients reconnecting to servers they
// stopped, which a shared worker then carries into every later file (535 s against 576 s).
// Files that need a module graph and timers of their own run isolated in every run: those that
// mock or reset modules (ioredis at the lowest version the peer range allows, a memjs without its
// internals), and those that fake timers (a client left reconnecting by an earlier file would set
// its timers on the fake clock, and `vi.getTimerCount()` would count them), found by their text;
// and those that read module state a shared worker has already filled (the binary lookups' cache).
const ISOLATING = /\bvi\.(mock|doMock|resetModules|useFakeTimers)\(/;
const MODULE_STATE_FILES = ['packages/dev-services/test/ports-and-binaries.test.ts'];
const root = fileURLToPath(new URL('.', import.meta.url));
// The folders `include` names (a package's or example's `test`, the bench's, the consumers'): not
// their builds or node_modules.
const testDirs = [
  ...['packages', 'examples'].flatMap((parent) =>
    readdirSync(join(root, parent)).map((name) => join(parent, name, 'test')),
  ),
  'bench/test',
  'consumers/test',
].filter((dir) => existsSync(join(root, dir)));
const testFiles = testDirs.flatMap((dir) =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join(dir, file)),
);
const ISOLATED_FILES = [
  ...MODULE_STATE_FILES,
  ...testFiles.filter((file) => ISOLATING.test(readFileSync(join(root, file), 'utf8'))),
];

const include = [
  'packages/*/test/**/*.test.ts',
  'examples/*/test/**/*.test.ts',
  'bench/test/**/*.test.ts',
  'consumers/test/**/*.test.ts',
];
const floor = process.env.LARDER_TEST_SET === 'floor';
const exclude = floor ? [...configDefaults.exclude, ...FLEET_AND_FAULT_FILES] : configDefaults.exclude;

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      { extends: true, test: { name: 'main', include, exclude: [...exclude, ...ISOLATED_FILES], isolate: !floor } },
      { extends: true, test: { name: 'isolated', include: ISOLATED_FILES, exclude, isolate: true } },
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
