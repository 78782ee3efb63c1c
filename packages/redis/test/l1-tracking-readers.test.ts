import { Cache, isLarderError } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

// `l1.tracking: 'readers'` (docs/architecture.md "Two tiers"): Redis tells an instance only of
// writes of keys it read; fences and tag counters reach every instance by broadcast.

describe("L1 with 'readers' tracking", () => {
  let server: RedisServer;
  const caches: Cache[] = [];
  let n = 0;
  const instances = (count: number) => {
    const prefix = `readers-${++n}:`;
    const made = Array.from(
      { length: count },
      () =>
        new Cache({
          store: createRedisStore({ url: server.url }),
          prefix,
          l1: { invalidation: 'tracking', tracking: 'readers', lease: 400 },
        }),
    );
    caches.push(...made);
    return made;
  };
  const up = (cache: Cache) => waitFor(async () => (await cache.describeL1())?.state === 'up');

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await server?.stop();
  });

  it('a key this instance read is dropped when another writes it; a key it wrote itself is never served stale', async () => {
    const [a, b] = instances(2) as [Cache, Cache];
    await Promise.all([up(a), up(b)]);
    await a.set('k', 1);
    expect(await b.get('k')).toBe(1);
    const hits = (await b.describeL1())?.hits ?? 0;
    expect(await b.get('k')).toBe(1);
    expect((await b.describeL1())?.hits).toBe(hits + 1);
    await a.set('k', 2);
    await waitFor(async () => (await b.get('k')) === 2);
    // A wrote `mine` and never read it: Redis would not tell it of B's write, so its L1 kept nothing.
    await a.set('mine', 'a');
    await b.set('mine', 'b');
    expect(await a.get('mine')).toBe('b');
    // And another raw client's write of a key both read reaches both.
    const raw = new Redis(server.url);
    try {
      expect(await a.get('shared')).toBeUndefined();
      await b.set('shared', 'x');
      await waitFor(async () => (await a.get('shared')) === 'x');
      await raw.set(`${a.prefix}shared`, JSON.stringify('raw'));
      await waitFor(async () => (await a.get('shared')) === 'raw' && (await b.get('shared')) === 'raw');
    } finally {
      raw.disconnect();
    }
  });

  it('tag invalidations and barriers reach every instance (the reserved namespace is broadcast)', async () => {
    const [a, b, c] = instances(3) as [Cache, Cache, Cache];
    await Promise.all([up(a), up(b), up(c)]);
    await a.tags(['t']).set('tagged', 'v1');
    expect(await b.get('tagged')).toBe('v1');
    expect(await c.get('tagged')).toBe('v1');
    const started = performance.now();
    await a.invalidateTags(['t']);
    expect(performance.now() - started).toBeLessThan(400);
    // Resolved: no instance serves the entry written before the invalidation.
    expect(await b.get('tagged')).toBeUndefined();
    expect(await c.get('tagged')).toBeUndefined();
    expect((await a.describeL1())?.fleet?.lastBarrier).toMatchObject({ instances: 2, acknowledged: 2 });
  });

  it('is refused with ConfigError where the reads are not on one connection (an injected client)', () => {
    const client = new Redis(server.url);
    try {
      let error: unknown;
      try {
        new Cache({ store: createRedisStore({ client }), l1: { invalidation: 'tracking', tracking: 'readers' } });
      } catch (caught) {
        error = caught;
      }
      expect(isLarderError(error, 'E_CONFIG')).toBe(true);
      expect((error as Error).message).toMatch(/readers/);
    } finally {
      client.disconnect();
    }
  });
});
