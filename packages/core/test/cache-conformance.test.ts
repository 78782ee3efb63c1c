import { Cache } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { runConformanceSuite } from '@larder/test-suite';
import { afterAll, beforeAll, describe, it } from 'vitest';

// The facade over the chaos store's in-memory backend (no chaos switched on) must pass the
// same suite every driver passes: with encoded payloads, and with raw values.
const payloadStore = createChaosStore();
runConformanceSuite({
  name: 'facade over the chaos store (payloads)',
  createCache: (prefix, overrides) => new Cache({ store: payloadStore, prefix, ...overrides }),
  describe,
  it,
  beforeAll,
  afterAll,
  skip: {
    storeCompareAndSet: 'the chaos store has no compareAndSet: touch cannot rewrite the expiry in an entry header',
  },
  limits: {
    touchHeader:
      "the chaos store has no compareAndSet: touch moves the store's expiry only, and a number set wrote keeps its header's expiry when increment makes it a counter",
  },
});

// In-process with the synchronous fast path (getSync/setSync), like the memory driver.
const rawStore = createChaosStore({ capabilities: { rawValues: true, inProcess: true }, sync: true });
runConformanceSuite({
  name: 'facade over the chaos store (raw values, sync fast path)',
  createCache: (prefix, overrides) => new Cache({ store: rawStore, prefix, ...overrides }),
  describe,
  it,
  beforeAll,
  afterAll,
  // Like the memory driver's `clone: false`: values are kept by reference on purpose.
  skip: { isolation: 'rawValues: the store keeps values by reference (no copy), by design' },
});
