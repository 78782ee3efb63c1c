import {
  Cache,
  type CacheDeleteEvent,
  type Codec,
  createCacheManager,
  createChaosStore,
  InvalidArgumentError,
  InvalidKeyError,
  jsonCodec,
  LarderError,
} from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configFromEnv } from '../src/config-from-env';

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('1. locks live in a reserved namespace, apart from cached values', () => {
  it('a cached key and a lock of the same name do not collide', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'app:' });
    await cache.set('job', 'payload');
    const lock = cache.lock('job', '10s');
    expect(lock.key).toBe('app:__larder:lock:job');
    expect(await lock.acquire()).toBe(true);
    expect(await cache.get('job')).toBe('payload');
    expect(await cache.withLock('report', '10s', () => cache.get('report'))).toBeUndefined();
    expect(await cache.has('report')).toBe(false);
  });

  it('user keys (and namespaces) in the reserved namespace are refused', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'app:' });
    await expect(cache.set('__larder:lock:job', 1)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(cache.get('__larder:x')).rejects.toBeInstanceOf(InvalidKeyError);
    expect(() => cache.namespace('__larder')).toThrow(InvalidKeyError);
    expect(() => cache.namespace('__larder:lock')).toThrow(InvalidKeyError);
    await cache.set('_larder:ok', 1); // only the exact reserved prefix
    await cache.set('x:__larder:lock:job', 2);
    expect(await cache.get('_larder:ok')).toBe(1);
  });

  it("remember's lock cannot be a user key `<key>:lock`", async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app:' });
    await cache.set('report:lock', 'user data');
    expect(await cache.remember('report', '1m', () => 'built', { lock: true })).toBe('built');
    expect(await cache.get('report:lock')).toBe('user data');
    expect(await store.has!('app:__larder:remember:report')).toBe(false); // released
  });

  it('namespaced locks live under the root prefix; keys() never lists locks; clear() of the root removes them', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app:' });
    const users = cache.namespace('users');
    await cache.set('a', 1);
    await users.set('b', 2);
    const rootLock = cache.lock('a', '10s');
    const nsLock = users.lock('b', '10s');
    expect(nsLock.key).toBe('app:__larder:lock:users:b');
    expect(await rootLock.acquire()).toBe(true);
    expect(await nsLock.acquire()).toBe(true);
    expect(await collect(cache.keys())).toEqual(['a', 'users:b']);
    expect(await collect(users.keys())).toEqual(['b']);
    await cache.clear();
    expect(await store.has!(rootLock.key)).toBe(false);
    expect(await store.has!(nsLock.key)).toBe(false);
    expect(await cache.lock('a', '10s').acquire()).toBe(true);
  });
});

describe('2. has() agrees with get() for graced values', () => {
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

describe('3. a prefix without a trailing separator gets one', () => {
  it("prefix 'app' is 'app:' and its clear() leaves 'apple' alone", async () => {
    const store = createChaosStore();
    const app = new Cache({ store, prefix: 'app' });
    const apple = new Cache({ store, prefix: 'apple' });
    expect(app.prefix).toBe('app:');
    await app.set('k', 1);
    await apple.set('k', 2);
    expect(await store.has!('app:k')).toBe(true);
    await app.clear();
    expect(await app.get('k')).toBeUndefined();
    expect(await apple.get('k')).toBe(2);
  });

  it("an empty prefix stays empty; 'app:' is unchanged; namespace('users:') is not doubled", () => {
    const store = createChaosStore();
    expect(new Cache({ store }).prefix).toBe('');
    expect(new Cache({ store, prefix: 'app:' }).prefix).toBe('app:');
    const cache = new Cache({ store, prefix: 'app' });
    expect(cache.namespace('users').prefix).toBe('app:users:');
    expect(cache.namespace('users:').prefix).toBe('app:users:');
  });

  it('CACHE_PREFIX=myapp gives keys myapp:... through the manager', async () => {
    const store = createChaosStore();
    const config = configFromEnv({ CACHE_PREFIX: 'myapp' });
    const caches = createCacheManager({ ...config, default: 'fake', stores: { ...config.stores, fake: store } });
    const cache = caches.store();
    expect(cache.prefix).toBe('myapp:');
    await cache.set('user:1', 'x');
    expect(await store.has!('myapp:user:1')).toBe(true);
    await caches.close();
  });
});

describe('4. stats().deletes counts only removals', () => {
  it('delete / deleteMany / pull of missing keys do not count; events say whether something was removed', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'd:' });
    const events: CacheDeleteEvent[] = [];
    cache.on('delete', (event) => events.push(event));
    await cache.setMany({ a: 1, b: 2, c: 3 });
    expect(await cache.delete('missing')).toBe(false);
    expect(cache.stats().deletes).toBe(0);
    expect(await cache.delete('a')).toBe(true);
    expect(cache.stats().deletes).toBe(1);
    expect(await cache.deleteMany(['b', 'nope', 'b'])).toBe(1);
    expect(cache.stats().deletes).toBe(2);
    expect(await cache.pull('gone')).toBeUndefined();
    expect(await cache.pull('c')).toBe(3);
    expect(cache.stats().deletes).toBe(3);
    expect(events).toEqual([
      { key: 'missing', deleted: false },
      { key: 'a', deleted: true },
      { key: 'b', deleted: undefined }, // batch delete: only a total is known
      { key: 'nope', deleted: undefined },
      { key: 'c', deleted: true },
    ]);
  });

  it('deleteMany without a driver batch knows each key', async () => {
    const cache = new Cache({ store: createChaosStore({ without: ['deleteMany'] }) });
    const events: CacheDeleteEvent[] = [];
    cache.on('delete', (event) => events.push(event));
    await cache.set('a', 1);
    expect(await cache.deleteMany(['a', 'b'])).toBe(1);
    expect(cache.stats().deletes).toBe(1);
    expect(events).toEqual([
      { key: 'a', deleted: true },
      { key: 'b', deleted: false },
    ]);
  });

  it('a batch where none or all existed reports each key', async () => {
    const cache = new Cache({ store: createChaosStore() });
    const events: CacheDeleteEvent[] = [];
    cache.on('delete', (event) => events.push(event));
    await cache.setMany({ a: 1, b: 2 });
    expect(await cache.deleteMany(['a', 'b'])).toBe(2);
    expect(await cache.deleteMany(['a', 'b'])).toBe(0);
    expect(events.map((e) => e.deleted)).toEqual([true, true, false, false]);
    expect(cache.stats().deletes).toBe(2);
  });
});

describe('5. InvalidArgumentError', () => {
  it('increment/decrement steps and remember loaders reject with InvalidArgumentError (E_INVALID_ARGUMENT)', async () => {
    const cache = new Cache({ store: createChaosStore(), onError: 'miss' });
    for (const run of [
      () => cache.increment('n', 1.5),
      () => cache.decrement('n', Number.NaN),
      () => cache.remember('k', '1m', 'not a function' as unknown as () => number),
    ]) {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toBeInstanceOf(LarderError);
      expect(error).toMatchObject({ code: 'E_INVALID_ARGUMENT', name: 'InvalidArgumentError' });
    }
    expect(await cache.has('n')).toBe(false);
  });
});
