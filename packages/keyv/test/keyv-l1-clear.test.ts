import { Cache } from '@larder/core';
import { type RedisServer, redisCommandStats, startRedis, waitFor } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { Keyv } from 'keyv';
import { Keyv as Keyv6 } from 'keyv6';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyv } from '../src/index';

// A namespace's clear() is a larder scope's drop(): the L1 barrier's guarantee comes with it, so
// another instance's L1 never serves a cleared entry once clear() resolved.
describe('two Keyvs over one redis-server with L1s: clear() is seen by the other at once', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const invalidation of ['tracking', 'bus'] as const) {
    for (const { label, keyv: KeyvOf } of [
      { label: 'Keyv 5', keyv: Keyv },
      { label: 'Keyv 6', keyv: Keyv6 },
    ]) {
      it(`${label}, L1 ${invalidation}`, async () => {
        const l1 = { invalidation, ...(invalidation === 'bus' ? { busUrl: server.url } : {}) };
        const prefix = `kv-l1-${invalidation}-${label.replace(' ', '')}:`;
        const caches = [1, 2].map(() => new Cache({ store: createRedisStore({ url: server.url }), prefix, l1 }));
        try {
          for (const c of caches) {
            await waitFor(async () => (await c.describeL1())?.state === 'up', { description: 'L1 up' });
          }
          const [a, b] = caches as [Cache, Cache];
          const writer = createKeyv(a, { keyv: KeyvOf, namespace: 'ns' });
          const reader = createKeyv(b, { keyv: KeyvOf, namespace: 'ns' });
          const outside = createKeyv(b, { keyv: KeyvOf, namespace: 'other' });
          for (let round = 0; round < 5; round++) {
            await writer.set('k', round, 60_000);
            await writer.set('j', round, 60_000);
            await outside.set('k', round, 60_000);
            await a.syncL1();
            expect(await reader.get('k')).toBe(round);
            const hits = b.stats().tiers?.l1 ?? 0;
            expect(await reader.get('k')).toBe(round);
            expect(await reader.get('j')).toBe(round);
            // The reader's copies come from its L1.
            expect(b.stats().tiers?.l1).toBeGreaterThan(hits);
            await writer.clear();
            expect(await reader.get('k')).toBeUndefined();
            expect(await reader.get('j')).toBeUndefined();
            expect(await outside.get('k')).toBe(round);
          }
        } finally {
          for (const c of caches) await c.close();
        }
      });
    }
  }
});

/** Calls of `command` Redis counted so far (commands run by scripts count too). */
async function calls(server: RedisServer, command: string): Promise<number> {
  return (await redisCommandStats(server))[command] ?? 0;
}

describe('what a namespace costs per call on Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('without an L1 the namespace is cleared by prefix: a set is one plain SET, a get one GET (no tag script), and clear() removes exactly it', async () => {
    const cache = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'cost:' });
    try {
      const keyv = createKeyv(cache, { namespace: 'ns' });
      const other = createKeyv(cache, { namespace: 'other' });
      await keyv.set('warm', 0, 60_000);
      const [evalsha, set] = [await calls(server, 'evalsha'), await calls(server, 'set')];
      for (let i = 0; i < 20; i++) await keyv.set(`k${i}`, i, 60_000);
      for (let i = 0; i < 20; i++) expect(await keyv.get(`k${i}`)).toBe(i);
      expect(await calls(server, 'evalsha')).toBe(evalsha);
      expect(await calls(server, 'set')).toBe(set + 20);
      await other.set('k0', 'kept', 60_000);
      await keyv.clear();
      expect(await keyv.get('k0')).toBeUndefined();
      expect(await other.get('k0')).toBe('kept');
    } finally {
      await cache.close();
    }
  });

  it('with a tracking L1 the namespace is a scope, and its writes are plain SETs once the scope version is known', async () => {
    const cache = new Cache({
      store: createRedisStore({ url: server.url }),
      prefix: 'cost-l1:',
      l1: { invalidation: 'tracking' },
    });
    try {
      await waitFor(async () => (await cache.describeL1())?.state === 'up', { description: 'L1 up' });
      const keyv = createKeyv(cache, { namespace: 'ns' });
      await waitFor(
        async () => {
          const before = await calls(server, 'evalsha');
          await keyv.set('warm', 0, 60_000);
          return (await calls(server, 'evalsha')) === before;
        },
        { description: 'a namespace write without the tag script' },
      );
      const evalsha = await calls(server, 'evalsha');
      for (let i = 0; i < 20; i++) await keyv.set(`k${i}`, i, 60_000);
      expect(await calls(server, 'evalsha')).toBe(evalsha);
      await keyv.clear();
      for (let i = 0; i < 20; i++) expect(await keyv.get(`k${i}`)).toBeUndefined();
    } finally {
      await cache.close();
    }
  });
});
