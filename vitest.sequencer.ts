import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files that took 10 s or more on a CI run (Node 24, 2026-11-27), slowest first. vitest
 * orders a run it has no timings for (a clean clone) by file size, and these are small files that
 * run big suites or start many servers: started last, one of them finished the run alone while
 * the other workers idled (the DynamoDB conformance file, 107 s, was the 306th of 311).
 */
const SLOW_FIRST = [
  'packages/dynamodb/test/conformance.test.ts',
  'bench/test/soak.test.ts',
  'packages/memcached/test/conformance.test.ts',
  'consumers/test/consumers.test.ts',
  'packages/cli/test/process.test.ts',
  'packages/redis/test/conformance-single.test.ts',
  'packages/redis/test/l1-barrier.test.ts',
  'packages/core/test/rate-limit/frameworks-fleet.test.ts',
  'examples/express-app/test/health.test.ts',
  'packages/redis/test/cluster.test.ts',
  'packages/redis/test/sentinel.test.ts',
  'packages/express/test/session-rolling.test.ts',
  'packages/express/test/response-cache-revalidate.test.ts',
  'packages/cli/test/doctor-failures.test.ts',
  'packages/fastify/test/fastify-rate-limit-upstream.test.ts',
  'packages/memory/test/conformance.test.ts',
  'packages/dynamodb/test/dynamodb-local.test.ts',
  'examples/express-app/test/startup.test.ts',
  'consumers/test/install.test.ts',
];

/** vitest's own order (timings of earlier runs, else size), but the known slow files first. */
export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const path = file.moduleId.replaceAll('\\', '/');
      const index = SLOW_FIRST.findIndex((slow) => path.endsWith(`/${slow}`));
      return index < 0 ? SLOW_FIRST.length : index;
    };
    const ranked = sorted.map((file, order) => ({ file, order, rank: rank(file) }));
    ranked.sort((a, b) => a.rank - b.rank || a.order - b.order);
    return ranked.map(({ file }) => file);
  }
}
