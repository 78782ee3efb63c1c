import type { CacheStore, Payload, StoreCapabilities, TtlMs } from '@larder/core/driver';
import { createMemoryStore, type MemoryStore } from '@larder/memory';
import { delay } from '@larder/test-suite';
import { describe, expect, it } from 'vitest';
import { recordSuite } from './support/recording-runner';

/** A memory store with some operations replaced by broken ones. */
function brokenStore(
  overrides: (inner: MemoryStore) => Partial<CacheStore>,
  capabilities: Partial<StoreCapabilities> = {},
): CacheStore {
  const inner = createMemoryStore({ maxEntries: 100_000 });
  return {
    driver: 'broken-memory',
    capabilities: { ...inner.capabilities, ...capabilities },
    get: (key) => inner.get(key),
    set: (key, payload, ttlMs) => inner.set(key, payload, ttlMs),
    delete: (key) => inner.delete(key),
    getMany: (keys) => inner.getMany(keys),
    setMany: (entries, ttlMs) => inner.setMany(entries, ttlMs),
    deleteMany: (keys) => inner.deleteMany(keys),
    add: (key, payload, ttlMs) => inner.add(key, payload, ttlMs),
    increment: (key, delta, ttlMs) => inner.increment(key, delta, ttlMs),
    pull: (key) => inner.pull(key),
    touch: (key, ttlMs) => inner.touch(key, ttlMs),
    compareAndDelete: (key, expected) => inner.compareAndDelete(key, expected),
    keys: (prefix) => inner.keys(prefix),
    clear: (prefix) => inner.clear(prefix),
    ...overrides(inner),
  };
}

const text = (payload: Payload | undefined) =>
  payload === undefined ? undefined : typeof payload === 'string' ? payload : Buffer.from(payload).toString();

// Each row: a plausible driver bug, and the conformance test that must catch it.
const bugs: [string, string, (inner: MemoryStore) => Partial<CacheStore>][] = [
  [
    'add is get-then-set (not atomic)',
    'add: exactly one of 200 concurrent callers wins',
    (inner) => ({
      async add(key: string, payload: Payload, ttlMs: TtlMs) {
        if (await inner.has(key)) return false;
        await delay(1);
        await inner.set(key, payload, ttlMs);
        return true;
      },
    }),
  ],
  [
    'increment is get-then-set (not atomic)',
    'increment: 200 concurrent increments',
    (inner) => ({
      async increment(key: string, delta: number, ttlMs: TtlMs) {
        const next = Number(text(await inner.get(key)) ?? 0) + delta;
        await delay(0);
        await inner.set(key, String(next), ttlMs);
        return next;
      },
    }),
  ],
  [
    'clear matches the prefix without its trailing separator',
    'clearing the child leaves the parent, look-alikes and outsiders intact',
    (inner) => ({ clear: (prefix: string) => inner.clear(prefix.slice(0, -1)) }),
  ],
  [
    'clear ignores the prefix (flushes everything)',
    'two caches with sibling prefixes on one backend',
    (inner) => ({ clear: () => inner.clear('') }),
  ],
  [
    'expiry comes early (TTL divided by 4)',
    'set with a TTL: present before, gone after',
    (inner) => ({
      set: (key: string, payload: Payload, ttlMs: TtlMs) =>
        inner.set(key, payload, ttlMs === undefined ? undefined : Math.max(1, Math.floor(ttlMs / 4))),
    }),
  ],
  [
    'binary payloads are stored as UTF-8 text',
    'binary: Buffer and Uint8Array with all 256 byte values',
    (inner) => ({
      set: (key: string, payload: Payload, ttlMs: TtlMs) => inner.set(key, text(payload)!, ttlMs),
    }),
  ],
  [
    'lock release ignores the owner',
    'only the owner can release',
    (inner) => ({ compareAndDelete: (key: string) => inner.delete(key) }),
  ],
  ['touch of a missing key reports true', 'touch returns false for a missing key', () => ({ touch: async () => true })],
  [
    'getMany drops the misses (not aligned)',
    'getMany is aligned with the keys',
    (inner) => ({
      getMany: async (keys: readonly string[]) => (await inner.getMany(keys)).filter((value) => value !== undefined),
    }),
  ],
  [
    'delete always reports true',
    'delete returns true for a present key, false for a missing one',
    (inner) => ({
      async delete(key: string) {
        await inner.delete(key);
        return true;
      },
    }),
  ],
  [
    'keys() stops after the first page of 1000 (a cursor bug)',
    'keys() walks more than a thousand keys',
    (inner) => ({
      async *keys(prefix: string) {
        let listed = 0;
        for await (const key of inner.keys(prefix)) {
          if (listed++ === 1000) return;
          yield key;
        }
      },
    }),
  ],
];

describe('the conformance suite catches broken drivers', () => {
  for (const [bug, test, overrides] of bugs) {
    it(`${bug} → fails "${test}"`, async () => {
      const suite = recordSuite(brokenStore(overrides));
      const error = await suite.outcome(test);
      expect(error, `the suite missed: ${bug}`).toBeInstanceOf(Error);
    });
  }

  it('the same tests pass on the intact memory store (the failures above are the bugs, not the suite)', async () => {
    const suite = recordSuite(brokenStore(() => ({})));
    for (const [, test] of bugs) expect(await suite.outcome(test), test).toBeUndefined();
  });

  it('a capability skip the store does not need fails the capabilities check', async () => {
    const suite = recordSuite(createMemoryStore(), { skip: { clear: 'pretending it cannot clear' } });
    const error = await suite.outcome('every skipped capability is one the store declares false');
    expect(String(error)).toMatch(/skip\.clear is set, but the store declares clear: true/);
  });
});

describe('skips', () => {
  const noClear = () => brokenStore(() => ({ clear: undefined, keys: undefined }));

  it('a capability skip registers every test that needs it as skipped, with the reason in its name', async () => {
    const suite = recordSuite(noClear(), {
      skip: { clear: 'this store cannot delete by prefix', enumerate: 'this store cannot list keys' },
    });
    const clearSkips = suite.skipped.filter((name) =>
      name.includes('[skipped: clear: this store cannot delete by prefix]'),
    );
    expect(clearSkips.length).toBeGreaterThanOrEqual(5);
    expect(suite.skipped.some((name) => name.includes('[skipped: enumerate: this store cannot list keys]'))).toBe(true);
    expect(suite.tests.some((test) => test.name.includes('nested prefixes'))).toBe(false);
    // In their place: the operations must refuse honestly, with a typed error naming the driver.
    expect(await suite.outcome('every skipped capability is one the store declares false')).toBeUndefined();
    expect(await suite.outcome('clear without the capability rejects')).toBeUndefined();
    expect(await suite.outcome('keys() without the enumerate capability rejects')).toBeUndefined();
  });

  it('a group skip skips the whole group', () => {
    const suite = recordSuite(createMemoryStore(), { skip: { largeValues: 'maxValueBytes is too small here' } });
    expect(suite.skipped.filter((name) => name.includes('largeValues: maxValueBytes is too small here'))).toHaveLength(
      2,
    );
  });

  it('an unknown skip or a skip without a reason is refused at registration', () => {
    expect(() => recordSuite(createMemoryStore(), { skip: { nope: 'x' } as never })).toThrow(/unknown skip 'nope'/);
    expect(() => recordSuite(createMemoryStore(), { skip: { clear: ' ' } })).toThrow(/needs a reason/);
  });

  it('without it.skip, a skipped test is registered as a passing test whose name gives the reason', async () => {
    const names: string[] = [];
    const { runConformanceSuite } = await import('@larder/test-suite');
    runConformanceSuite({
      name: 'no-skip-runner',
      createCache: () => {
        throw new Error('not called');
      },
      describe: (_name, body) => body(),
      it: (name) => names.push(name),
      skip: { stats: 'no stats here' },
    });
    expect(names.some((name) => name.includes('[skipped: stats: no stats here]'))).toBe(true);
  });
});
