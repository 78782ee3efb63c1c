import { type RedisCluster, startRedisCluster } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cache } from '../../src/cache/cache';

// Each decision is one script on one key, so it runs on the key's slot: no CROSSSLOT, and the
// limit holds on every master (keys spread over the three).
describe('rate limits on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let cache: Cache;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
    const [host, port] = cluster.startupNodes.split(',')[0]!.split(':');
    cache = new Cache({
      store: createRedisStore({ clusterNodes: [{ host: host!, port: Number(port) }] }),
      prefix: 'rl',
    });
  }, 60_000);
  afterAll(async () => {
    await cache?.close();
    await cluster?.stop();
  });

  it('every algorithm admits exactly the limit per key, on keys of every slot range', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `user:${i}`);
    for (const algorithm of ['fixed', 'sliding', 'token-bucket'] as const) {
      const limiter = cache.rateLimiter({ limit: 5, window: '1m', algorithm });
      const decisions = await Promise.all(keys.flatMap((key) => Array.from({ length: 8 }, () => limiter.hit(key))));
      expect(
        decisions.every((d) => d.source === 'store'),
        algorithm,
      ).toBe(true);
      expect(decisions.filter((d) => d.allowed)).toHaveLength(keys.length * 5);
      await limiter.reset(keys[0]!);
      expect((await limiter.peek(keys[0]!)).remaining).toBe(5);
    }
  });
});
