import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { runConformanceSuite } from '@larder/test-suite';
import { afterAll, beforeAll, describe, it } from 'vitest';

// The whole suite against the memory driver, as a driver's own conformance file would run it.
const store = createMemoryStore({ maxEntries: 100_000 });

runConformanceSuite({
  name: 'memory',
  createCache: (prefix, overrides) => new Cache({ store, prefix, ...overrides }),
  describe,
  it,
  beforeAll,
  afterAll,
});
