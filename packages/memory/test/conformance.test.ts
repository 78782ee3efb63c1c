import { Cache } from '@larder/core';
import type { Group } from '@larder/test-suite';
import { runConformanceSuite } from '@larder/test-suite';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createMemoryStore, type MemoryStoreOptions } from '../src/index';

// The whole suite in each of the three ways the store can keep values (tags too: the rawValues
// modes keep a tagged entry as an envelope, see core's tags/tagged-envelope.ts).
const modes: [string, MemoryStoreOptions, Partial<Record<Group, string>>][] = [
  ['memory (default: copies)', {}, {}],
  ['memory (useCodec: true)', { useCodec: true }, {}],
  ['memory (clone: false)', { clone: false }, { isolation: 'clone: false keeps references on purpose' }],
];

for (const [name, options, skip] of modes) {
  const store = createMemoryStore({ maxEntries: 100_000, ...options });
  runConformanceSuite({
    name,
    createCache: (prefix, overrides) => new Cache({ store, prefix, ...overrides }),
    describe,
    it,
    beforeAll,
    skip,
    afterAll,
  });
}
