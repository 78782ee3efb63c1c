import { Cache, type StoreDownMode } from '@larder/core';
import { freezeProcess, type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Served } from '../../http/test/harness';
import { LarderThrottlerStorage } from '../src/index';
import { serveNest } from './nest-app';

// @nestjs/throttler on LarderThrottlerStorage with a frozen redis-server (SIGSTOP), over HTTP:
// each onStoreDown mode answers within the timeouts of its store calls (the block's read, the hit,
// and for the hit that starts a block its write); after SIGCONT the store decides again.

const TIMEOUT_MS = 300;
// A decision answers within three timeouts, plus this much for HTTP on a loaded 2-core runner.
const SLACK_MS = 1200;
const MODES: StoreDownMode[] = ['closed', 'open', 'local'];

@Controller()
class PingController {
  @Get()
  ping() {
    return 'ok';
  }
}

let server: RedisServer;
let cache: Cache;
const apps = {} as Record<StoreDownMode, Served>;

beforeAll(async () => {
  server = await startRedis();
  cache = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'nest-down:', timeout: TIMEOUT_MS });
  for (const mode of MODES) {
    const storage = new LarderThrottlerStorage(cache, { onStoreDown: mode, name: mode });
    @Module({
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: 60_000, limit: 2 }],
          storage,
          getTracker: (req) => String(req.headers['x-user']),
        }),
      ],
      controllers: [PingController],
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    })
    class AppModule {}
    apps[mode] = (await serveNest(AppModule)).served;
  }
}, 30_000);

afterAll(async () => {
  for (const served of Object.values(apps)) await served.close();
  await cache?.close().catch(() => {});
  await server?.stop();
});

/** One request as `user` to the app of `mode`: its status, Retry-After and how long it took. */
async function ask(mode: StoreDownMode, user: string) {
  const started = performance.now();
  const reply = await apps[mode].get('/', { 'x-user': user });
  return { status: reply.status, retryAfter: reply.headers['retry-after'], ms: performance.now() - started };
}

describe('@nestjs/throttler on LarderThrottlerStorage with Redis frozen (SIGSTOP)', () => {
  it('closed answers 429, open 200, local its own limit, each within its calls’ timeouts; the store again after SIGCONT', async () => {
    await waitFor(async () => (await ask('closed', 'warm')).status === 200, { timeoutMs: 20_000 });
    const pid = server.pid as number;
    await freezeProcess(pid);
    try {
      const first = await Promise.all(MODES.map((mode) => ask(mode, 'ann')));
      expect(first.map((reply) => reply.status)).toEqual([429, 200, 200]);
      expect(first[0]?.retryAfter).toMatch(/^\d+$/);
      expect((await ask('local', 'ann')).status).toBe(200);
      // 'local' counts in this process: limit 2, so the third request is refused.
      const third = await ask('local', 'ann');
      expect(third.status).toBe(429);
      const slowest = Math.max(...[...first, third].map((reply) => reply.ms));
      // Not a hang: the block's read and the hit each wait one timeout (the third 'local' request a third, the block's start).
      expect(slowest).toBeLessThan(3 * TIMEOUT_MS + SLACK_MS);
      expect(first[0]!.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await ask('closed', 'bea')).status === 200, { timeoutMs: 20_000 });
  }, 60_000);
});
