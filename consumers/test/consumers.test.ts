import path from 'node:path';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Prepared, prepare, repo, TS_PROJECTS } from './prepare';
import { type NodeRun, runNode } from './run-node';

// The packages as an app meets them: packed with `pnpm pack`, installed from the tarballs into
// blank projects, run by plain `node` (not vitest's module graph). See consumers/README.md.

let prepared: Prepared;
let redis: RedisServer;

beforeAll(async () => {
  [prepared, redis] = await Promise.all([prepare(), startRedis()]);
}, 600_000);

afterAll(async () => {
  await redis?.stop();
});

const npmProject = (name: string) => path.join(prepared.dir, 'npm', name);

/** A clean run: exit 0 and nothing on stderr (no ExperimentalWarning either, on any Node). */
function expectClean(run: NodeRun): void {
  expect({ code: run.code, stderr: run.stderr }, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).toEqual({
    code: 0,
    stderr: '',
  });
}

describe('a blank CommonJS app (npm)', () => {
  it('requires the packages; memory and Redis stores keep the class and code of larder errors', async () => {
    expectClean(await runNode('smoke.js', npmProject('cjs'), { REDIS_URL: redis.url }));
  });

  it('runs express-session on the larder session store, on memory and on Redis', async () => {
    expectClean(await runNode('session.js', npmProject('cjs')));
    expectClean(await runNode('session.js', npmProject('cjs'), { SESSION_DRIVER: 'redis', REDIS_URL: redis.url }));
  });

  it('runs Fastify (larder plugin, responseCache) and Hono (responseCache, hono/cache on cacheStorage): second GET a HIT', async () => {
    expectClean(await runNode('frameworks.js', npmProject('cjs')));
  });

  it('runs NestJS 12: @Cached, LarderThrottlerStorage under ThrottlerGuard, LarderResponseCacheMiddleware (a HIT)', async () => {
    expectClean(await runNode('nest.js', npmProject('cjs')));
  });
});

describe('a blank ESM app (npm)', () => {
  it('imports the packages; memory and Redis stores keep the class and code of larder errors', async () => {
    expectClean(await runNode('smoke.js', npmProject('esm'), { REDIS_URL: redis.url }));
  });

  it('runs Fastify (larder plugin, responseCache) and Hono (responseCache, hono/cache on cacheStorage): second GET a HIT', async () => {
    expectClean(await runNode('frameworks.js', npmProject('esm')));
  });

  it('runs NestJS 12: @Cached, LarderThrottlerStorage under ThrottlerGuard, LarderResponseCacheMiddleware (a HIT)', async () => {
    expectClean(await runNode('nest.js', npmProject('esm')));
  });

  it('shares one core with a CommonJS dependency that requires it', async () => {
    expectClean(await runNode('smoke.js', npmProject('mixed')));
  });
});

describe.each(TS_PROJECTS)('a TypeScript app, %s (npm)', (project) => {
  it('type-checks against the packed declarations and runs', async () => {
    const { code, output } = prepared.typescript[project]!;
    expect({ code, output }).toEqual({ code: 0, output: '' });
    expectClean(await runNode(path.join('dist', 'index.js'), npmProject(project)));
  });
});

describe('an app in a pnpm workspace with hoist=false (core depends on no driver)', () => {
  const workspace = () => path.join(prepared.dir, 'pnpm');

  it('finds @larder/memory from the app, run from its own folder', async () => {
    expectClean(await runNode('smoke.js', path.join(workspace(), 'apps', 'web')));
  });

  it('finds it from the main script, run from the workspace root', async () => {
    expectClean(await runNode(path.join('apps', 'web', 'smoke.js'), workspace()));
  });

  it('runs Fastify and Hono with responseCache (their frameworks and @larder/core as peers, @larder/http their own)', async () => {
    expectClean(await runNode('smoke.js', path.join(workspace(), 'apps', 'api')));
  });

  it("loads the L1 bus client from the app's @larder/redis (a store of the app's own, an L1 over the bus)", async () => {
    expectClean(await runNode('bus.js', path.join(workspace(), 'apps', 'worker'), { REDIS_URL: redis.url }));
  });
});

describe('the built CLI', () => {
  it('`node packages/cli/dist/bin.js doctor` loads the Redis driver (CACHE_DRIVER=redis)', async () => {
    const bin = path.join(repo, 'packages', 'cli', 'dist', 'bin.js');
    const run = await runNode(bin, prepared.dir, { CACHE_DRIVER: 'redis', REDIS_URL: redis.url }, ['doctor']);
    expect(run.stdout, run.stderr).toContain('1 store(s) ok, 0 failed');
    expect(run.code).toBe(0);
  });
});

describe('the packed packages', () => {
  it('pass publint and "are the types wrong" with no finding', () => {
    const findings = prepared.packages.filter((report) => report.publint.length > 0 || report.attw.length > 0);
    expect(findings).toEqual([]);
  });
});
