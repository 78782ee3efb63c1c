import path from 'node:path';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Prepared, prepare, TS_PROJECTS } from './prepare';
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
});

describe('a blank ESM app (npm)', () => {
  it('imports the packages; memory and Redis stores keep the class and code of larder errors', async () => {
    expectClean(await runNode('smoke.js', npmProject('esm'), { REDIS_URL: redis.url }));
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

describe('the packed packages', () => {
  it('pass publint and "are the types wrong" with no finding', () => {
    const findings = prepared.packages.filter((report) => report.publint.length > 0 || report.attw.length > 0);
    expect(findings).toEqual([]);
  });
});
