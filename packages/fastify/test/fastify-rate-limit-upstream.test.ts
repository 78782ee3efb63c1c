import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// @fastify/rate-limit's own store tests, run from its npm tarball unchanged with larder's store
// swapped in: @fastify/rate-limit 11.2.0, test/redis-rate-limit.test.js, under node:test as
// upstream runs it, with test/fixtures/fastify-rate-limit-preload.cjs preloaded (every `redis:`
// registration gets `store: rateLimitStore({ cache })`, on larder's Redis driver over the test's
// own ioredis client, or on the memory driver). The cases run are the ones on the store contract;
// the file's other cases are left out by name, and why:
// - 'With redis store (ban)', 'When continue exceeding is on (Redis)' (Global and Route), 'Redis
//   with continueExceeding should not always return the timeWindow as ttl', 'With redis store and
//   exponential backoff', 'When continue exceeding is off under route (Redis)', 'Route-specific
//   exponential backoff with redis store': `ban` above 0, `continueExceeding` and
//   `exponentialBackoff` are store behaviours larder's store does not have (a larder decision
//   does not count a refused hit and keeps its window); the store refuses them with a ConfigError
//   (test/plugin.test.ts) rather than ignoring them.
// - 'Skip on redis error', 'Throw on redis error' (Global and Route), 'With { increment: false }
//   it throws on redis error': they quit the ioredis client under the plugin and test its
//   `skipOnError`; larder's store answers a down store by the limiter's `onStoreDown` instead of an
//   error (test/rate-limit-store-down.test.ts freezes a real redis-server for each mode).
// The package's other test files test the plugin with a fake store they define ('With
// CustomStore', 'timeWindow specified as a string') or its LocalStore.

const CASES = [
  'With redis store',
  'When use a custom nameSpace',
  'With { increment: false } it reads the state without consuming it',
];
const upstream = createRequire(import.meta.url).resolve('@fastify/rate-limit/test/redis-rate-limit.test.js');
const preload = fileURLToPath(new URL('./fixtures/fastify-rate-limit-preload.cjs', import.meta.url));
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(() => server?.stop());

/** Runs the upstream file's `CASES` on `backend`; resolves its exit code and TAP output. */
function runUpstream(backend: 'memory' | 'redis'): Promise<{ code: number | null; tap: string }> {
  const pattern = `^(${CASES.map(literal).join('|')})$`;
  // A failed case skips its `redis.quit()`: --test-force-exit ends the run anyway, and the
  // spawn's timeout kills a run that hangs.
  const args = ['--require', preload, '--test', '--test-force-exit', '--test-reporter=tap'];
  const child = spawn(process.execPath, [...args, `--test-name-pattern=${pattern}`, upstream], {
    env: { ...process.env, LARDER_REDIS_URL: server.url, LARDER_BACKEND: backend },
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 25_000,
  });
  let tap = '';
  child.stdout.on('data', (chunk: Buffer) => {
    tap += chunk.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, tap })));
}

// One backend at a time, and one retry: the upstream cases sleep fixed 1 s windows against real
// time (`await sleep(...)`, then expect a reset window), which a loaded runner can overshoot; a
// store defect fails both tries.
describe('@fastify/rate-limit test/redis-rate-limit.test.js on rateLimitStore', { retry: 1 }, () => {
  it.each(['redis', 'memory'] as const)(
    'its store cases pass on %s',
    async (backend) => {
      const { code, tap } = await runUpstream(backend);
      // Global: 'With redis store', the nameSpace and `{ increment: false }` cases; Route: 'With redis store'.
      for (const name of CASES) expect(tap).toMatch(new RegExp(`^\\s*ok \\d+ - ${literal(name)}$`, 'm'));
      expect(tap).toMatch(/^# pass 4$/m);
      expect(tap).toMatch(/^# fail 0$/m);
      expect(code).toBe(0);
    },
    30_000,
  );
});
