import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import { Cache } from '../src/cache';
import type { CacheStore, Payload } from '../src/contract';

describe('Cache.describe()', () => {
  it("returns the store's description", async () => {
    const cache = new Cache({ store: createMemoryStore(), prefix: 'd:' });
    expect(await cache.describe()).toEqual({ driver: 'memory', topology: { mode: 'in-process', nodes: [] } });
  });

  it("says 'unknown' for a driver without describe()", async () => {
    const data = new Map<string, Payload>();
    const bare: CacheStore = {
      driver: 'bare',
      capabilities: {
        batch: false,
        atomicAdd: false,
        increment: false,
        locks: false,
        enumerate: false,
        clear: false,
        ttlPrecisionMs: 1,
        maxKeyBytes: 250,
        maxValueBytes: 1024,
        readReplicas: false,
        inProcess: true,
      },
      get: async (key) => data.get(key),
      set: async (key, payload) => void data.set(key, payload),
      delete: async (key) => data.delete(key),
    };
    const cache = new Cache({ store: bare, prefix: 'd:' });
    expect(await cache.describe()).toEqual({ driver: 'bare', topology: { mode: 'unknown', nodes: [] } });
  });
});
