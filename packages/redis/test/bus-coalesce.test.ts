import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

// The bus coalesces a turn's invalidations into one message (docs/architecture.md "Two tiers").

/** PUBLISH commands the bus server has run, from INFO commandstats. */
async function publishes(bus: RedisServer): Promise<number> {
  const text = String(await bus.command('INFO', 'commandstats'));
  return Number(/cmdstat_publish:calls=(\d+)/.exec(text)?.[1] ?? 0);
}

describe('the L1 bus', () => {
  let server: RedisServer;
  let bus: RedisServer;
  const caches: Cache[] = [];

  beforeAll(async () => {
    [server, bus] = await Promise.all([startRedis(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await Promise.all([server?.stop(), bus?.stop()]);
  });

  it('sends the invalidations of one turn as one message, and every key of it reaches the other instance', async () => {
    for (let i = 0; i < 2; i++) {
      caches.push(
        new Cache({
          store: createRedisStore({ url: server.url }),
          prefix: 'coalesce:',
          l1: { invalidation: 'bus', busUrl: bus.url },
        }),
      );
    }
    const [writer, reader] = caches as [Cache, Cache];
    await Promise.all(caches.map((cache) => waitFor(async () => (await cache.describeL1())?.state === 'up')));
    const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((key) => writer.set(key, 'old')));
    // The reader holds every key in its L1.
    expect(await reader.getMany(keys)).toEqual(keys.map(() => 'old'));
    const before = await publishes(bus);
    await Promise.all(keys.map((key) => writer.set(key, 'new')));
    await waitFor(async () => (await publishes(bus)) > before);
    // 64 writes: the first goes at once, the keys acknowledged while it is in flight go together when
    // it is answered, and so on: two messages when the replies come in two reads of the socket, a few
    // more when a loaded machine reads them in more (CI counted 3), never one per key.
    expect((await publishes(bus)) - before).toBeLessThanOrEqual(4);
    // Each key's invalidation arrived: the reader's next reads go to the store and see the new value.
    await waitFor(async () => (await reader.getMany(keys)).every((value) => value === 'new'));
  });
});
