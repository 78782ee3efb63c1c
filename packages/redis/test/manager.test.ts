import { BackendError, Cache, configFromEnv, createCacheManager } from '@larder/core';
import { findFreePort, type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, larderDriver, type RedisStore } from '../src/index';

describe('redis through the manager and the facade', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ password: 'mgr-pw' });
  });
  afterAll(() => server?.stop());

  it('CACHE_DRIVER=redis + REDIS_URL builds a working store through the lazy driver registry', async () => {
    const caches = createCacheManager(
      configFromEnv({ CACHE_DRIVER: 'redis', REDIS_URL: server.url, CACHE_PREFIX: 'app:' }),
    );
    try {
      const cache = caches.store();
      await cache.set('user:1', { name: 'Ada', at: new Date(0) }, '1m');
      expect(await cache.get('user:1')).toEqual({ name: 'Ada', at: new Date(0) });
      expect(await server.command('EXISTS', 'app:user:1')).toBe(1);
      expect(await cache.increment('hits')).toBe(1);
      const store = await cache.getStore();
      expect(store.driver).toBe('redis');
      // Replica reads are the router's business (no capability flag): none here.
      expect((store as RedisStore).reads.usesReplicas).toBe(false);
    } finally {
      await caches.close();
    }
  });

  it('larderDriver reads REDIS_READ_YOUR_WRITES from the context env', async () => {
    const store = await larderDriver({ driver: 'redis', url: server.url } as never, {
      storeName: 'redis',
      env: { REDIS_READ_YOUR_WRITES: '5s' },
    });
    try {
      expect(store.driver).toBe('redis');
      await store.set('drv', 'x', 1000);
    } finally {
      await store.close?.();
    }
  });

  it("a down Redis is a quick miss under onError 'miss' and a BackendError under 'throw'", async () => {
    const port = await findFreePort();
    const store = createRedisStore({ url: `redis://:mgr-pw@127.0.0.1:${port}` });
    const errors: unknown[] = [];
    const lenient = new Cache({ store, prefix: 'x:', onError: 'miss' });
    lenient.on('error', (e: unknown) => errors.push(e));
    const strict = new Cache({ store, prefix: 'x:' });
    try {
      const started = Date.now();
      expect(await lenient.get('k')).toBeUndefined();
      await lenient.set('k', 1);
      expect(errors.length).toBeGreaterThan(0);
      await expect(strict.get('k')).rejects.toBeInstanceOf(BackendError);
      expect(await lenient.remember('k', '1m', () => 'loaded')).toBe('loaded');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(JSON.stringify(errors.map(String))).not.toContain('mgr-pw');
    } finally {
      await store.close();
    }
  });
});
