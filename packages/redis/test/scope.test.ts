import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

// Core's `Cache.scope(name).drop()` on a real redis-server: the L1 barrier's guarantee (no read that
// starts after drop() resolves returns an entry written before it) in this process
// (the same with OS processes: scope-fleet.test.ts).
describe('scope().drop() on redis-server with L1s', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const invalidation of ['tracking', 'bus'] as const) {
    it(`two caches in this process (${invalidation}): drop() hides every scoped copy from the other's L1 once it resolves; others stay`, async () => {
      const l1 = { invalidation, ...(invalidation === 'bus' ? { busUrl: server.url } : {}) };
      const prefix = `sc${invalidation}:`;
      const a = new Cache({ store: createRedisStore({ url: server.url }), prefix, l1 });
      const b = new Cache({ store: createRedisStore({ url: server.url }), prefix, l1 });
      try {
        for (const c of [a, b]) {
          await waitFor(async () => (await c.describeL1())?.state === 'up', { description: 'L1 up' });
        }
        const keys = ['k0', 'k1', 'k2', 'k3'];
        for (let round = 0; round < 10; round++) {
          const scope = a.scope('s');
          await scope.set('k0', round, '1m');
          await scope.tags(['t']).set('k1', round, '1m');
          await scope.namespace('ns').set('k2', round, '1m');
          await scope.scope('inner').set('k3', round, '1m');
          await a.set('plain', round, '1m');
          await a.syncL1();
          // B's copies: read twice, the second from its L1.
          expect(await b.getMany(keys)).toEqual([round, round, undefined, round]);
          expect(await b.namespace('ns').get('k2')).toBe(round);
          const hits = b.stats().tiers?.l1 ?? 0;
          expect(await b.get('k0')).toBe(round);
          expect(b.stats().tiers?.l1).toBe(hits + 1);
          expect(await b.get('plain')).toBe(round);
          await a.scope('s').drop();
          // At once, no waiting: the barrier resolved only after B's L1 dropped its copies.
          expect(await b.getMany(keys)).toEqual([undefined, undefined, undefined, undefined]);
          expect(await b.namespace('ns').get('k2')).toBeUndefined();
          expect(await b.get('plain')).toBe(round);
        }
      } finally {
        await a.close();
        await b.close();
      }
    });
  }

  it("pin() on redis-server (a store that writes tagged entries in one call): another cache's drop() between pin and write wins", async () => {
    const a = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'pin:' });
    const b = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'pin:' });
    try {
      const pinned = await a.scope('page').pin('1m');
      await b.scope('page').drop();
      await pinned.set('k', 'computed before the drop', '1m');
      expect(await b.get('k')).toBeUndefined();
      await (await a.scope('page').pin('1m')).set('k', 'after', '1m');
      expect(await b.get('k')).toBe('after');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
