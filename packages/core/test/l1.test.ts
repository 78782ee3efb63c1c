import { describe, expect, it } from 'vitest';
import { Cache } from '../src/cache/cache';
import { configFromEnv, ENV_VARIABLES } from '../src/config/config-from-env';
import { ConfigError } from '../src/contract/errors';
import type { InvalidationSource } from '../src/contract/invalidation';
import type { CacheStore, Payload } from '../src/contract/store';
import { createChaosStore } from '../src/testing/chaos-store';
import { topologyChannel } from '../src/util/tracing';
import { localBus } from './helpers/local-bus';
import { tracedTiers } from './helpers/traced-tiers';

/** A remote-like store whose reads can be held after reading (a read in flight that already saw the old value). */
function heldStore(source?: () => InvalidationSource) {
  const inner = createChaosStore();
  let gate: Promise<void> | undefined;
  let release: () => void = () => {};
  const store: CacheStore = Object.create(inner);
  Object.assign(store, {
    get: async (key: string): Promise<Payload | undefined> => {
      const value = await inner.get(key);
      if (gate) await gate;
      return value;
    },
    invalidation: source ? (mode: string) => (mode === 'bus' ? source() : undefined) : undefined,
  });
  return {
    store,
    inner,
    hold() {
      gate = new Promise((resolve) => {
        release = resolve;
      });
    },
    release() {
      gate = undefined;
      release();
    },
  };
}

describe('L1 tier', () => {
  it('answers a hot key with no store call, each caller getting its own copy; names the tier', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'none' } });
    // Written by another instance (this one's own write would fill its L1).
    const other = new Cache({ store, prefix: 'app' });
    await other.set('user', { name: 'ada', tags: ['x'] });
    const tiers: (string | undefined)[] = [];
    cache.on('hit', (event) => tiers.push(event.tier));
    const first = await cache.get<{ name: string; tags: string[] }>('user');
    store.resetCalls();
    const second = await cache.get<{ name: string; tags: string[] }>('user');
    expect(store.totalCalls()).toBe(0);
    expect(second).toEqual({ name: 'ada', tags: ['x'] });
    (second as { tags: string[] }).tags.push('mutated');
    expect(await cache.get('user')).toEqual({ name: 'ada', tags: ['x'] });
    expect(first).not.toBe(second);
    expect(tiers).toEqual(['l2', 'l1', 'l1']);
    expect(cache.stats().tiers).toEqual({ l1: 2, l2: 1 });
    const described = await cache.describeL1();
    expect(described).toMatchObject({ entries: 1, invalidation: 'none', state: 'up', maxEntries: 10_000 });
    await cache.close();
  });

  it('hasL1() says whether an L1 is in front of the store, as describeL1() does', async () => {
    const store = createChaosStore();
    const tiered = new Cache({ store, prefix: 'app', l1: { invalidation: 'none' } });
    const plain = new Cache({ store, prefix: 'app' });
    const local = createChaosStore({ capabilities: { inProcess: true } });
    const inProcess = new Cache({ store: local, prefix: 'app', l1: { invalidation: 'none' } });
    const failed = new Cache({ store: Promise.reject(new Error('no store')), l1: { invalidation: 'none' } });
    const caches = [tiered, tiered.namespace('ns'), plain, inProcess, failed];
    expect(await Promise.all(caches.map((cache) => cache.hasL1()))).toEqual([true, true, false, false, false]);
    const described = await Promise.all(caches.map(async (cache) => (await cache.describeL1()) !== undefined));
    expect(described).toEqual([true, true, false, false, false]);
    await Promise.all([tiered.close(), plain.close(), inProcess.close()]);
  });

  it('describe() and the larder.operation trace show the L1', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'none' } });
    await new Cache({ store, prefix: 'app' }).set('k', { a: 1 });
    const tiers = await tracedTiers('get', async () => {
      await cache.get('k');
      await cache.get('k');
    });
    expect(tiers).toEqual(['l2', 'l1']);
    expect((await cache.describe()).l1).toMatchObject({ entries: 1, invalidation: 'none', state: 'up' });
    await cache.close();
  });

  it('drops the entry on a write, and keeps entries and bytes within bounds', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'none', maxEntries: 3, maxBytes: 2000 } });
    await cache.set('k', 1);
    await cache.get('k');
    await cache.set('k', 2);
    expect(await cache.get('k')).toBe(2);
    for (let i = 0; i < 10; i++) {
      await cache.set(`n${i}`, 'v'.repeat(200));
      await cache.get(`n${i}`);
      const d = await cache.describeL1();
      expect(d?.entries).toBeLessThanOrEqual(3);
      expect(d?.bytes).toBeLessThanOrEqual(2000);
    }
    await cache.set('big', 'x'.repeat(5000));
    await cache.get('big');
    store.resetCalls();
    await cache.get('big');
    expect(store.calls.get).toBe(1);
    await cache.close();
  });

  it('does not keep a read in flight when its key is invalidated, and answers its caller', async () => {
    const bus = localBus();
    const a = heldStore(bus.source);
    const cacheA = new Cache({ store: a.store, prefix: 'app', l1: { invalidation: 'bus', busUrl: 'redis://x' } });
    const cacheB = new Cache({ store: a.inner, prefix: 'app' });
    const writerL1 = new Cache({
      store: heldStore(bus.source).store,
      prefix: 'app',
      l1: { invalidation: 'bus', busUrl: 'redis://x' },
    });
    await cacheB.set('k', 'old');
    a.hold();
    const reading = cacheA.get('k');
    await new Promise((resolve) => setImmediate(resolve));
    await cacheB.set('k', 'new');
    // The invalidation of another instance's write arrives while the read is in flight.
    await writerL1.delete('unrelated');
    bus.source().publish?.({ keys: ['app:k'] });
    a.release();
    expect(await reading).toBe('old');
    expect(await cacheA.get('k')).toBe('new');
    await cacheA.close();
    await writerL1.close();
  });

  it('a loop of L1 hits that never yields to timers keeps its lease: renewed from the reads, nothing flushed', async () => {
    const bus = localBus();
    const { store, inner } = heldStore(bus.source);
    // A compare-and-set (the lease's renewal) makes the L1 hold a lease; one process: get then set is enough here.
    store.compareAndSet = async (key, expected, payload, ttlMs) => {
      if ((await inner.get(key)) !== expected) return false;
      await inner.set(key, payload, ttlMs);
      return true;
    };
    // 400 ms: a lease of 60 ms lapsed (one flush) when a loaded CI runner paused the process for more
    // than its half between two reads (200 ms was still flagged under a load average of 6); the
    // loop below still never yields to the renewal's timer.
    const lease = 400;
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'bus', busUrl: 'redis://x', lease } });
    await cache.set('k', 'v');
    // Up once its first lease renewal landed (a store round trip).
    for (let i = 0; i < 100 && (await cache.describeL1())?.state !== 'up'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const before = (await cache.describeL1()) as { hits: number; flushes: number };
    // Only settled promises are awaited here (the L1 answers, the store answers in microtasks):
    // the lease's renewal timer never runs for the whole loop, five leases long.
    const end = performance.now() + 5 * lease;
    let reads = 0;
    while (performance.now() < end) {
      expect(await cache.get('k')).toBe('v');
      reads++;
    }
    const after = (await cache.describeL1()) as { hits: number; flushes: number };
    expect(after.flushes).toBe(before.flushes);
    // Most reads were L1 hits (those in the window where a renewal is due go to the store).
    expect(after.hits - before.hits).toBeGreaterThan(reads / 2);
    await cache.close();
  });

  it('flushes and bypasses while the channel is down, and publishes l1-flushed', async () => {
    const bus = localBus();
    let member: ReturnType<ReturnType<typeof localBus>['source']> | undefined;
    const inner = createChaosStore();
    const store: CacheStore = Object.create(inner);
    Object.assign(store, {
      invalidation: () => {
        member = bus.source();
        return member;
      },
    });
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'bus', busUrl: 'redis://x' } });
    const events: unknown[] = [];
    const listener = (event: unknown) => events.push(event);
    topologyChannel.subscribe(listener);
    try {
      await cache.set('k', 'v');
      await cache.get('k');
      member?.setState(false);
      expect(events).toContainEqual({ store: 'default', driver: 'chaos', event: 'l1-flushed' });
      expect((await cache.describeL1())?.state).toBe('down');
      inner.resetCalls();
      await cache.get('k');
      await cache.get('k');
      expect(inner.calls.get).toBe(2);
      member?.setState(true);
      await cache.get('k');
      inner.resetCalls();
      await cache.get('k');
      expect(inner.calls.get).toBe(0);
    } finally {
      topologyChannel.unsubscribe(listener);
      await cache.close();
    }
  });

  it('publishes writes, deletes and clears to other instances', async () => {
    const bus = localBus();
    const shared = createChaosStore();
    const make = () => {
      const store: CacheStore = Object.create(shared);
      Object.assign(store, { invalidation: () => bus.source() });
      return new Cache({ store, prefix: 'app', l1: { invalidation: 'bus', busUrl: 'redis://x' } });
    };
    const a = make();
    const b = make();
    await a.set('k', 1);
    expect(await b.get('k')).toBe(1);
    await a.set('k', 2);
    expect(await b.get('k')).toBe(2);
    await a.delete('k');
    expect(await b.get('k')).toBeUndefined();
    await a.set('n', 1);
    await b.get('n');
    await a.namespace('ns').clear();
    await a.clear();
    expect(await b.get('n')).toBeUndefined();
    expect(bus.published).toContainEqual({ prefix: 'app:' });
    expect(bus.published).toContainEqual({ prefix: 'app:ns:' });
    await a.close();
    await b.close();
  });

  it('refuses bad options with ConfigError naming the field', () => {
    const store = createChaosStore();
    expect(() => new Cache({ store, l1: { maxEntries: 0 } })).toThrow(ConfigError);
    expect(() => new Cache({ store, l1: { maxBytes: '12 parsecs' } })).toThrow(/l1.maxBytes/);
    expect(() => new Cache({ store, l1: { invalidation: 'bus' } })).toThrow(/busUrl/);
    expect(() => new Cache({ store, l1: { invalidation: 'tracking' } })).toThrow(/tracking/);
  });

  it('keeps what this process wrote through every write of the write path (set, add, compareAndSet, setMany), and nothing a refused write did not store', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'none' } });
    const tiers: (string | undefined)[] = [];
    cache.on('hit', (event) => tiers.push(event.tier));
    await cache.set('s', 1);
    expect(await cache.add('a', { v: 2 })).toBe(true);
    expect(await cache.compareAndSet('a', { v: 2 }, { v: 3 })).toBe(true);
    await cache.setMany({ m1: 4, m2: 5 });
    store.resetCalls();
    expect(await cache.getMany(['s', 'a', 'm1', 'm2'])).toEqual([1, { v: 3 }, 4, 5]);
    expect(store.totalCalls()).toBe(0);
    expect(tiers).toEqual(['l1', 'l1', 'l1', 'l1']);
    // Another instance writes; this one's refused add and failed compare drop its stale copy, so the next read goes to the store.
    const other = new Cache({ store, prefix: 'app' });
    await other.set('a', { v: 9 });
    expect(await cache.add('a', { v: 0 })).toBe(false);
    expect(await cache.get('a')).toEqual({ v: 9 });
    await other.set('s', 7);
    expect(await cache.compareAndSet('s', 1, 2)).toBe(false);
    expect(await cache.get('s')).toBe(7);
  });
});

describe('remember never writes stale', () => {
  for (const l1 of [false, true]) {
    it(`keeps a value written while the loader ran (L1 ${l1 ? 'on' : 'off'})`, async () => {
      const store = createChaosStore();
      const cache = new Cache({ store, prefix: 'app', ...(l1 ? { l1: { invalidation: 'none' as const } } : {}) });
      const other = new Cache({ store, prefix: 'app' });
      let release: () => void = () => {};
      const loading = cache.remember('k', '1m', async () => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return 'loader';
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await other.set('k', 'newer');
      release();
      expect(await loading).toBe('loader');
      expect(await other.get('k')).toBe('newer');
      expect(await cache.get('k')).toBe('newer');
      // Nothing written meanwhile: the loader's value is stored.
      expect(await cache.remember('fresh', '1m', () => 'loaded')).toBe('loaded');
      expect(await other.get('fresh')).toBe('loaded');
    });
  }
});

describe('configFromEnv: L1 variables', () => {
  it('puts an L1 on the default and session stores with CACHE_L1=on', () => {
    const config = configFromEnv({
      CACHE_L1: 'on',
      CACHE_L1_MAX_ENTRIES: '500',
      CACHE_L1_MAX_BYTES: '8mb',
      CACHE_L1_TTL: '30s',
      CACHE_L1_INVALIDATION: 'bus',
      CACHE_L1_TRACKING: 'readers',
      CACHE_BUS_URL: 'redis://127.0.0.1:6390',
    });
    expect(config.stores?.memory?.l1).toEqual({
      maxEntries: 500,
      maxBytes: 8 * 1024 * 1024,
      ttl: 30_000,
      invalidation: 'bus',
      tracking: 'readers',
      busUrl: 'redis://127.0.0.1:6390',
    });
    expect(configFromEnv({ CACHE_L1_TTL: '30s' }).stores?.memory?.l1).toBeUndefined();
    for (const name of [
      'CACHE_L1',
      'CACHE_L1_MAX_BYTES',
      'CACHE_L1_INVALIDATION',
      'CACHE_L1_TRACKING',
      'CACHE_BUS_URL',
    ])
      expect(ENV_VARIABLES).toContain(name);
  });

  it.each([
    ['CACHE_L1', 'maybe'],
    ['CACHE_L1_MAX_ENTRIES', '-3'],
    ['CACHE_L1_MAX_BYTES', 'lots'],
    ['CACHE_L1_TTL', '60'],
    ['CACHE_L1_INVALIDATION', 'gossip'],
    ['CACHE_L1_TRACKING', 'everyone'],
    ['CACHE_BUS_URL', 'http://bus'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => configFromEnv({ [name]: value })).toThrow(expect.objectContaining({ variable: name }));
  });

  it("rejects l1.tracking other than 'broadcast' or 'readers' in code too (ConfigError naming the field)", () => {
    expect(() => new Cache({ store: createChaosStore(), l1: { tracking: 'all' as 'readers' } })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: expect.stringMatching(/l1\.tracking/) }),
    );
  });

  it('rejects bus invalidation without a bus URL', () => {
    expect(() => configFromEnv({ CACHE_L1: 'on', CACHE_L1_INVALIDATION: 'bus' })).toThrow(/CACHE_BUS_URL/);
  });
});

describe('L1Entries', () => {
  it('evicts the least recently used first, within entries and bytes', async () => {
    const { L1Entries } = await import('../src/l1/entries');
    const entry = (bytes: number) => ({
      value: 1,
      plan: undefined,
      payload: undefined,
      expiresAt: Date.now() + 60_000,
      bytes,
    });
    const entries = new L1Entries(3, 1000);
    entries.set('a', entry(10));
    entries.set('b', entry(10));
    entries.set('c', entry(10));
    entries.get('a', Date.now());
    entries.set('d', entry(10));
    expect(entries.peek('b')).toBeUndefined();
    expect(['a', 'c', 'd'].every((key) => entries.peek(key) !== undefined)).toBe(true);
    entries.set('e', entry(900));
    expect(entries.bytes).toBeLessThanOrEqual(1000);
    expect(entries.peek('e')).toBeDefined();
    expect(entries.peek('c')).toBeUndefined();
    for (let i = 0; i < 10_000; i++) entries.set(`k${i}`, entry(1));
    expect(entries.size).toBe(3);
    entries.deletePrefix('k');
    expect(entries.size).toBe(0);
    expect(entries.bytes).toBe(0);
  });
});

describe('closing a cache with an L1', () => {
  it('closes the store even when stopping the L1 fails, and reports that failure', async () => {
    const inner = createChaosStore();
    let storeClosed = false;
    const store: CacheStore = Object.create(inner);
    Object.assign(store, {
      invalidation: (): InvalidationSource => ({
        mode: 'bus',
        start: (handlers) => handlers.onState(true),
        close: async () => {
          throw new Error('bus close failed');
        },
      }),
      close: async () => {
        storeClosed = true;
      },
    });
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'bus', busUrl: 'redis://x' } });
    await cache.set('k', 1);
    await expect(cache.close()).rejects.toThrow('bus close failed');
    expect(storeClosed).toBe(true);
  });
});
