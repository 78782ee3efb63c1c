import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import { Cache } from '../src/cache/cache';
import type { CacheStore } from '../src/contract/store';

describe('Cache.describe()', () => {
  it("returns the store's description", async () => {
    const cache = new Cache({ store: createMemoryStore(), prefix: 'd:' });
    expect(await cache.describe()).toEqual({ driver: 'memory', topology: { mode: 'in-process', nodes: [] } });
  });

  it("says 'unknown' for a driver without describe()", async () => {
    // A store with only the required members (the memory store's, without its describe()).
    const inner = createMemoryStore();
    const bare: CacheStore = {
      driver: 'bare',
      capabilities: inner.capabilities,
      get: (key) => inner.get(key),
      set: (key, payload, ttlMs) => inner.set(key, payload, ttlMs),
      delete: (key) => inner.delete(key),
    };
    const cache = new Cache({ store: bare, prefix: 'd:' });
    expect(await cache.describe()).toEqual({ driver: 'bare', topology: { mode: 'unknown', nodes: [] } });
  });
});
