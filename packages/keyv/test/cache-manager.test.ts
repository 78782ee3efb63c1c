import type { Cache } from '@larder/core';
import { createCache } from 'cache-manager';
import { Keyv as Keyv6 } from 'keyv6';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyv } from '../src/index';
import { type Backend, memoryBackend, redisBackend, uniquePrefix } from './backends';
import { richValue } from './suites';

const backends: Backend[] = [memoryBackend(), redisBackend()];

for (const backend of backends) {
  describe(`cache-manager 7 over createKeyv (Keyv 5): ${backend.name}`, () => {
    let cache: Cache;
    beforeAll(async () => {
      await backend.start();
      cache = backend.cache(uniquePrefix('cm'));
    });
    afterAll(() => backend.stop());

    it('wrap runs the loader once for 20 concurrent callers, then serves the cached value', async () => {
      const manager = createCache({ stores: [createKeyv(cache)] });
      let calls = 0;
      const loader = async () => {
        calls += 1;
        return { user: 'ada', at: new Date(1) };
      };
      const first = await Promise.all(Array.from({ length: 20 }, () => manager.wrap('user:1', loader, 60_000)));
      expect(calls).toBe(1);
      for (const value of first) expect(value).toEqual({ user: 'ada', at: new Date(1) });
      expect(await manager.wrap('user:1', loader, 60_000)).toEqual({ user: 'ada', at: new Date(1) });
      // A second cache-manager (another request scope, another process) finds it in the store too.
      const other = createCache({ stores: [createKeyv(cache)] });
      expect(await other.wrap('user:1', loader, 60_000)).toEqual({ user: 'ada', at: new Date(1) });
      expect(calls).toBe(1);
      // Stored once, under larder's prefix and the namespace.
      expect((await cache.namespace('keyv').get<{ value: unknown }>('user:1'))?.value).toEqual({
        user: 'ada',
        at: new Date(1),
      });
    });

    it("ttl reports the entry's absolute expiry, as on Keyv's own stores", async () => {
      const manager = createCache({ stores: [createKeyv(cache)] });
      const before = Date.now();
      await manager.set('t', 'v', 60_000);
      const expires = await manager.ttl('t');
      expect(expires).toBeGreaterThanOrEqual(before + 60_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 60_000);
      expect(await manager.ttl('absent')).toBeUndefined();
    });

    it('get, set, mget, mset, del and mdel; values keep their types', async () => {
      const manager = createCache({ stores: [createKeyv(cache, { namespace: 'multi' })] });
      await manager.mset<unknown>([
        { key: 'a', value: richValue(), ttl: 60_000 },
        { key: 'b', value: 2 },
      ]);
      expect(await manager.mget(['a', 'b', 'c'])).toEqual([richValue(), 2, undefined]);
      await manager.set('c', new Set([3]));
      expect(await manager.get('c')).toEqual(new Set([3]));
      expect(await manager.del('a')).toBe(true);
      await manager.mdel(['b', 'c']);
      expect(await manager.mget(['a', 'b', 'c'])).toEqual([undefined, undefined, undefined]);
    });
  });
}

describe('keyv 6.1.0 + cache-manager 7.2.9 (README "Pairings")', () => {
  const backend = memoryBackend();
  afterAll(() => backend.stop());

  it("Keyv 6's own Map store: wrap calls the loader every time and ttl() is undefined", async () => {
    // cache-manager 7.2.9 reads `store.get(key, { raw: true })` (Keyv 5's raw option) in wrap and
    // ttl; Keyv 6's get ignores it and answers the bare value, so `data.value` is undefined. If this
    // starts failing, a cache-manager or Keyv release fixed the pairing: update the README.
    const manager = createCache({ stores: [new Keyv6() as never] });
    let calls = 0;
    const loader = async () => ++calls;
    await manager.wrap('k', loader, 60_000);
    await manager.wrap('k', loader, 60_000);
    expect(calls).toBe(2);
    expect(await manager.get('k')).toBe(2);
    expect(await manager.ttl('k')).toBeUndefined();
  });

  it('createKeyv on Keyv 6 answers the raw get: wrap runs the loader once and ttl() is the expiry', async () => {
    const manager = createCache({ stores: [createKeyv(backend.cache(uniquePrefix('k6')), { keyv: Keyv6 }) as never] });
    let calls = 0;
    const loader = async () => ({ n: ++calls, at: new Date(2) });
    const values = await Promise.all(Array.from({ length: 20 }, () => manager.wrap('k', loader, 60_000)));
    expect(await manager.wrap('k', loader, 60_000)).toEqual({ n: 1, at: new Date(2) });
    expect(values.every((value) => value.n === 1)).toBe(true);
    expect(calls).toBe(1);
    expect(await manager.ttl('k')).toBeGreaterThan(Date.now() + 50_000);
    expect(await manager.mget(['k', 'absent'])).toEqual([{ n: 1, at: new Date(2) }, undefined]);
  });
});
