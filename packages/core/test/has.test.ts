import { Cache, type Codec, jsonCodec } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { createMemoryStore } from '@larder/memory';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.useRealTimers();
});

describe('has() agrees with get() for graced values', () => {
  const start = new Date('2030-01-01T00:00:00Z').getTime();
  const upper: Codec = {
    encode: (value, key) => jsonCodec.encode(value, key),
    decode: (payload, key) => jsonCodec.decode(payload, key),
  };
  const cases: [string, () => Cache][] = [
    ['jsonCodec (string payloads)', () => new Cache({ store: createChaosStore() })],
    ['custom codec', () => new Cache({ store: createChaosStore(), codec: upper })],
    ['raw values (memory, clone: false)', () => new Cache({ store: createMemoryStore({ clone: false }) })],
    ['memory (binary-safe copies)', () => new Cache({ store: createMemoryStore() })],
  ];
  for (const [label, make] of cases) {
    it(`${label}: past its logical TTL has() is false like get()/getMany()`, async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(start);
      const cache = make();
      await cache.remember('k', '1m', () => ({ n: 1 }), { grace: '1h' });
      await cache.set('plain', 'v');
      await cache.set('object', { '\u0000grace': 'not an envelope, user data' });
      expect(await cache.has('k')).toBe(true);
      vi.setSystemTime(start + 61_000);
      expect(await cache.get('k')).toBeUndefined();
      expect(await cache.getMany(['k'])).toEqual([undefined]);
      expect(await cache.has('k')).toBe(false);
      expect(await cache.has('plain')).toBe(true);
      expect(await cache.has('missing')).toBe(false);
      // remember still serves it stale within grace
      expect(await cache.remember('k', '1m', () => ({ n: 2 }), { grace: '1h' })).toEqual({ n: 1 });
    });
  }

  it('has() does not count hits or misses', async () => {
    const cache = new Cache({ store: createChaosStore() });
    await cache.set('a', 1);
    await cache.has('a');
    await cache.has('b');
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0 });
  });
});
