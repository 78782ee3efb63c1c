import { Cache } from '@larder/core';
import { createRedisStore } from '@larder/redis';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Throttle, ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rcBackends, type Served, until } from '../../http/test/harness';
import { LarderThrottlerStorage } from '../src/index';
import { type Platform, serveNest } from './nest-app';

// @nestjs/throttler's guard on LarderThrottlerStorage, over HTTP in a Nest app (Express platform),
// on memory and a real redis-server. A Redis storage of the throttler let about 400 of 1,000
// requests through a limit of 5 (nestjs/throttler#1303): here the limit is exact.

@Controller()
class ThrottledController {
  @Get('limited')
  limited() {
    return 'ok';
  }

  @Get('blocked')
  @Throttle({ default: { limit: 2, ttl: 300, blockDuration: 1500 } })
  blocked() {
    return 'ok';
  }

  @Get('unblocked')
  @Throttle({ default: { limit: 2, ttl: 400, blockDuration: 0 } })
  unblocked() {
    return 'ok';
  }
}

const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

/** A Nest app whose ThrottlerGuard counts on `cache` (limit 5 a minute by default). */
async function throttledApp(cache: Cache, platform: Platform = 'express'): Promise<Served> {
  const storage = new LarderThrottlerStorage(cache);
  @Module({
    imports: [ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 5 }], storage })],
    controllers: [ThrottledController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  })
  class AppModule {}
  return (await serveNest(AppModule, platform)).served;
}

describe('two app instances, each with its own Redis connection, on one redis-server', () => {
  it('50 concurrent requests spread over both admit exactly the limit', async () => {
    const caches = [1, 2].map(
      () => new Cache({ store: createRedisStore({ url: env.redisUrl() }), prefix: 'nest-two:', timeout: '3s' }),
    );
    const apps = await Promise.all(caches.map((cache) => throttledApp(cache)));
    try {
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => apps[i % 2]!.get('/limited')));
      expect(replies.filter((reply) => reply.status === 200)).toHaveLength(5);
    } finally {
      for (const app of apps) await app.close();
      for (const cache of caches) await cache.close();
    }
  });
});

describe('the Fastify platform', () => {
  it('admits exactly the limit of 50 concurrent requests (memory)', async () => {
    const served = await throttledApp(env.backends[0]!.cache(), 'fastify');
    try {
      const replies = await Promise.all(Array.from({ length: 50 }, () => served.get('/limited')));
      expect(replies.filter((reply) => reply.status === 200)).toHaveLength(5);
      expect(replies.find((reply) => reply.status === 429)?.headers['retry-after']).toMatch(/^\d+$/);
    } finally {
      await served.close();
    }
  });
});

describe.each(env.backends)('@nestjs/throttler on LarderThrottlerStorage ($name)', (backend) => {
  let served: Served;
  beforeAll(async () => {
    served = await throttledApp(backend.cache());
  });
  afterAll(() => served?.close());

  it('admits exactly the limit of 50 concurrent requests, then answers 429 with Retry-After', async () => {
    const replies = await Promise.all(Array.from({ length: 50 }, () => served.get('/limited')));
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(45);
    const after = await served.get('/limited');
    expect(after.status).toBe(429);
    // blockDuration defaults to the ttl: a minute from the first refused hit.
    expect(Number(after.headers['retry-after'])).toBeGreaterThan(50);
    expect(Number(after.headers['retry-after'])).toBeLessThanOrEqual(60);
    const admitted = replies.find((reply) => reply.status === 200);
    expect(admitted?.headers['x-ratelimit-limit']).toBe('5');
  });

  it('blockDuration: the block outlasts the window, then the key is admitted again', async () => {
    expect((await served.get('/blocked')).status).toBe(200);
    expect((await served.get('/blocked')).status).toBe(200);
    const refused = await served.get('/blocked');
    const blockedAt = Date.now();
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('2'); // 1.5 s, in whole seconds
    // The 300 ms window has ended; the 1.5 s block has not (a sleep: showing that nothing is admitted).
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await served.get('/blocked')).status).toBe(429);
    await until(async () => (await served.get('/blocked')).status === 200, 5000, 'the block to end');
    expect(Date.now() - blockedAt).toBeGreaterThanOrEqual(1400);
  });

  it('blockDuration 0: a refused hit waits for the window only', async () => {
    expect((await served.get('/unblocked')).status).toBe(200);
    expect((await served.get('/unblocked')).status).toBe(200);
    const refusedAt = Date.now();
    expect((await served.get('/unblocked')).status).toBe(429);
    await until(async () => (await served.get('/unblocked')).status === 200, 3000, 'the window to end');
    expect(Date.now() - refusedAt).toBeLessThan(1000);
  });
});
