import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { activeResources, processListeners } from '@larder/test-suite';
import { describe, expect, it } from 'vitest';
// Types only, from where test-suite has it installed.
import type FastCheck from '../../test-suite/node_modules/fast-check';
import { Cache } from '../src/cache/cache';
import { createChaosStore } from '../src/testing/chaos-store';

// fast-check is a dependency of @larder/test-suite, not of core: resolve it from there (by path).
const fc = createRequire(fileURLToPath(new URL('../../test-suite/package.json', import.meta.url)))(
  'fast-check',
) as typeof FastCheck;

describe('L1 bounds', () => {
  it('creating and closing 1,000 tiered caches (invalidation none) leaks no listener, handle or timer', async () => {
    const store = createChaosStore();
    // Warm up once so lazily created module-level state is not counted as a leak.
    const warm = new Cache({ store, prefix: 'warm', l1: { invalidation: 'none' } });
    await warm.set('k', 1);
    await warm.close();
    const listeners = processListeners();
    const resources = activeResources();
    let hits = 0;
    for (let i = 0; i < 1000; i++) {
      const cache = new Cache({ store, prefix: `churn${i}`, l1: { invalidation: 'none', maxEntries: 10 } });
      await cache.set('k', i);
      await cache.get('k');
      if ((await cache.get('k')) === i) hits++;
      expect((await cache.describeL1())?.entries).toBe(1);
      await cache.close();
      expect((await cache.describeL1())?.entries ?? 0).toBe(0);
    }
    expect(hits).toBe(1000);
    expect(processListeners()).toEqual(listeners);
    expect(activeResources()).toEqual(resources);
  });

  it('entries and bytes never exceed the limits under random set/get/delete sequences (fast-check)', async () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'longer-key-name-1', 'longer-key-name-2');
    const value = fc.oneof(
      fc.integer(),
      fc.string({ maxLength: 400 }),
      fc.record({ s: fc.string({ maxLength: 300 }), n: fc.array(fc.integer(), { maxLength: 20 }) }),
    );
    const op = fc.oneof(
      fc.tuple(fc.constant('set' as const), key, value),
      fc.tuple(fc.constant('get' as const), key, fc.constant(undefined)),
      fc.tuple(fc.constant('getMany' as const), key, fc.constant(undefined)),
      fc.tuple(fc.constant('delete' as const), key, fc.constant(undefined)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 200, max: 3000 }),
        fc.array(op, { minLength: 1, maxLength: 60 }),
        async (maxEntries, maxBytes, ops) => {
          const cache = new Cache({
            store: createChaosStore(),
            prefix: 'p',
            l1: { invalidation: 'none', maxEntries, maxBytes },
          });
          try {
            const model = new Map<string, unknown>();
            for (const [name, k, v] of ops) {
              if (name === 'set') {
                await cache.set(k, v);
                model.set(k, v);
              } else if (name === 'get') {
                expect(await cache.get(k)).toEqual(model.get(k));
              } else if (name === 'getMany') {
                expect(await cache.getMany([k, 'a'])).toEqual([model.get(k), model.get('a')]);
              } else {
                await cache.delete(k);
                model.delete(k);
              }
              const l1 = await cache.describeL1();
              expect(l1?.entries).toBeLessThanOrEqual(maxEntries);
              expect(l1?.bytes).toBeLessThanOrEqual(maxBytes);
              expect(l1?.bytes).toBeGreaterThanOrEqual(0);
              if (l1?.entries === 0) expect(l1.bytes).toBe(0);
            }
          } finally {
            await cache.close();
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
