import fastifyRateLimit from '@fastify/rate-limit';
import { Cache } from '@larder/core';
import { freezeProcess, type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitStore } from '../src/index';

// @fastify/rate-limit on rateLimitStore with a frozen redis-server (SIGSTOP): over HTTP, each
// onStoreDown mode answers the request within the cache's timeout (@fastify/rate-limit's own Redis
// store fails open on a hung Redis, fastify/fastify-rate-limit#84); back to the store after SIGCONT.

/** The cache's timeout: how long a decision waits for the store. */
const TIMEOUT_MS = 300;
// A decision answers within the timeout, plus this much for HTTP on a loaded 2-core runner.
const SLACK_MS = 1200;
const MODES = ['closed', 'open', 'local'] as const;
type Mode = (typeof MODES)[number];

let server: RedisServer;
let cache: Cache;
const apps = {} as Record<Mode, { app: FastifyInstance; url: string }>;

beforeAll(async () => {
  server = await startRedis();
  cache = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'frl-down:', timeout: TIMEOUT_MS });
  for (const mode of MODES) {
    const app = Fastify();
    await app.register(fastifyRateLimit, {
      max: 2,
      timeWindow: 60_000,
      keyGenerator: (request) => String(request.headers['x-user'] ?? 'anon'),
      store: rateLimitStore({ cache, onStoreDown: mode, name: mode }),
    });
    app.get('/', async () => 'ok');
    apps[mode] = { app, url: await app.listen({ port: 0, host: '127.0.0.1' }) };
  }
}, 30_000);

afterAll(async () => {
  for (const { app } of Object.values(apps)) await app.close();
  await cache?.close().catch(() => {});
  await server?.stop();
});

/** One request as `user` to the app of `mode`: its status and how long the answer took. */
async function ask(mode: Mode, user: string): Promise<{ status: number; ms: number; retryAfter: string | null }> {
  const started = performance.now();
  // A decision that waited for the frozen store would hang: the abort fails the test instead.
  const res = await fetch(`${apps[mode].url}/`, { headers: { 'x-user': user }, signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get('retry-after') };
}

describe('@fastify/rate-limit on rateLimitStore with Redis frozen (SIGSTOP)', () => {
  it('each onStoreDown mode answers within the timeout: closed 429, open 200, local its own limit; the store again after SIGCONT', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Connected: 'closed' admits only when the store decides (a loaded runner may connect slowly).
      await waitFor(async () => (await ask('closed', 'warm')).status === 200, { timeoutMs: 20_000 });
      for (const mode of ['open', 'local'] as const) expect((await ask(mode, 'warm')).status).toBe(200);
      const pid = server.pid as number;
      await freezeProcess(pid);
      try {
        const [closed, open, local] = await Promise.all(MODES.map((mode) => ask(mode, 'ann')));
        expect([closed?.status, open?.status, local?.status]).toEqual([429, 200, 200]);
        expect(closed?.retryAfter).toMatch(/^\d+$/);
        const second = await Promise.all(MODES.map((mode) => ask(mode, 'ann')));
        expect(second.map((r) => r.status)).toEqual([429, 200, 200]);
        // 'local' counts in this process: max 2, so the third request is denied.
        const third = await ask('local', 'ann');
        expect(third.status).toBe(429);
        const slowest = Math.max(...[closed, open, local, ...second, third].map((r) => r?.ms ?? Number.NaN));
        console.log(
          `frozen Redis: slowest of 7 decisions over HTTP ${slowest.toFixed(0)} ms (timeout ${TIMEOUT_MS} ms)`,
        );
        expect(slowest).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // Back to the store: 'closed' admits a new user again.
      await waitFor(async () => (await ask('closed', 'bea')).status === 200, { timeoutMs: 20_000 });
      // The commands that hung settle now; none of them may surface.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 60_000);
});
