import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
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
