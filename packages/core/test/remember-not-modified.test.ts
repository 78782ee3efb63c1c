import { afterEach, describe, expect, it, vi } from 'vitest';
import { extendedPayload } from '../src/cache/remember/extend';
import type { InvalidationHandlers, InvalidationSource } from '../src/contract/invalidation';
import type { CacheStore, Payload } from '../src/contract/store';
import { Cache, type LoaderContext } from '../src/index';
import { createChaosStore } from '../src/testing/chaos-store';
import { metaOf } from '../src/values/entry-format';
import { localBus, withBus } from './helpers/local-bus';

// `notModified()` extends the stale value's life apart from the value (issue #39, scenario 5): the
// store's bytes kept but the bounds, compared against what was read (never over another writer's
// value), and every L1 keeps its copy with the new life. Date is faked to step past TTLs.

afterEach(() => {
  vi.useRealTimers();
});

const GRACE = { grace: '1h' } as const;
const notModified = (context: LoaderContext) => {
  context.notModified();
  return undefined as unknown as string;
};

/**
 * `inner` with a compare-and-set (the chaos store has none; every driver has one): an L1 over it
 * gets its fleet, which announces and hears life extensions.
 */
function withCompareAndSet(inner: CacheStore): CacheStore {
  const store: CacheStore = Object.create(inner);
  store.compareAndSet = async (key, expected, payload, ttlMs) => {
    const current = await inner.get(key);
    if (current !== expected) return false;
    await inner.set(key, payload, ttlMs);
    return true;
  };
  return store;
}

/** Resolves once `cache`'s L1 serves (its lease taken). */
const l1Up = (cache: Cache) =>
  vi.waitFor(async () => expect((await cache.describeL1())?.state).toBe('up'), { timeout: 5000 });

/** A loader that answers `notModified()` once the test calls `release` (set when it runs). */
function heldLoader() {
  const held: { release?: () => void } = {};
  const loader = (context: LoaderContext) =>
    new Promise<string>((resolve) => {
      held.release = () => resolve(notModified(context));
    });
  return Object.assign(held, { loader });
}

describe('notModified: the stored entry', () => {
  it('keeps every byte but the header expiry and the graced bound', () => {
    const stored = `\u0001${(1000).toString(36)},${(5000).toString(36)}\u0001{"\\u0000grace":2000,"v":{"a":[1,2]}}`;
    const extended = extendedPayload(stored, 60_000, 9000, 3000) as string;
    expect(extended).toBe(
      `\u0001${(1000).toString(36)},${(63_000).toString(36)}\u0001{"\\u0000grace":9000,"v":{"a":[1,2]}}`,
    );
    expect(metaOf(extended)).toEqual({ writtenAt: 1000, expiresAt: 63_000 });
  });

  it('reads bytes as UTF-8 text (memcached answers bytes)', () => {
    const stored = `\u0001${(1000).toString(36)},${(5000).toString(36)}\u0001{"\\u0000grace":2000,"v":"é"}`;
    expect(extendedPayload(new TextEncoder().encode(stored), 60_000, 9000, 3000)).toBe(
      extendedPayload(stored, 60_000, 9000, 3000),
    );
  });

  it('refuses what it cannot extend so: bytes not UTF-8, no header, a tag section, no graced entry', () => {
    const body = '{"\\u0000grace":2000,"v":1}';
    expect(extendedPayload(new Uint8Array([1, 0xff, 0xfe, 1]), 1, 1, 1)).toBeUndefined();
    expect(extendedPayload(body, 1, 1, 1)).toBeUndefined();
    expect(extendedPayload(`\u00011,2\u0001\u0002t\u00031\u0002${body}`, 1, 1, 1)).toBeUndefined();
    expect(extendedPayload('\u00011,2\u0001{"v":1}', 1, 1, 1)).toBeUndefined();
  });
});

describe('notModified on the chaos store', () => {
  it('on the bus: the other L1 keeps its copy with the new life, read from nowhere', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const inner = createChaosStore();
    const bus = localBus();
    const l1 = { invalidation: 'bus', busUrl: 'redis://x' } as const;
    const a = new Cache({ store: withBus(withCompareAndSet(inner), bus.source), prefix: 'nm', l1 });
    const b = new Cache({ store: withBus(withCompareAndSet(inner), bus.source), prefix: 'nm', l1 });
    await l1Up(a);
    await l1Up(b);
    await a.remember('k', '1s', () => 'v1', GRACE);
    await vi.waitFor(async () => expect((await b.rememberWithStatus('k', '1s', notModified, GRACE)).tier).toBe('l1'));
    vi.setSystemTime(Date.now() + 5000);
    expect(await a.remember('k', '10s', notModified, { ...GRACE, timeout: { soft: 5000 } })).toBe('v1');
    const published = bus.published.flatMap((message) => ('keys' in message ? message.keys : []));
    // A hint of the new life, never the key itself (that would drop B's copy).
    expect(published.some((key) => key.includes('__larder:l1:life:'))).toBe(true);
    expect(published.filter((key) => key === 'nm:k')).toHaveLength(1); // the first write only
    inner.resetCalls();
    vi.setSystemTime(Date.now() + 8000);
    const seen = await b.rememberWithStatus('k', '10s', notModified, GRACE);
    expect(seen).toMatchObject({ value: 'v1', status: 'hit', tier: 'l1' });
    expect(inner.calls.get).toBe(0);
    await a.close();
    await b.close();
  });

  it('never revives a value another writer stored while the loader ran', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'nr' });
    const other = new Cache({ store, prefix: 'nr' });
    await cache.remember('k', '1s', () => 'old', GRACE);
    vi.setSystemTime(Date.now() + 5000);
    const held = heldLoader();
    const refresh = cache.remember('k', '10s', held.loader, { ...GRACE, timeout: { soft: 5000 } });
    await vi.waitFor(() => expect(held.release).toBeDefined());
    await other.set('k', 'new', '2s');
    held.release?.();
    expect(await refresh).toBe('old');
    expect(await cache.get('k')).toBe('new');
    // The other writer's TTL stands: the extension did not touch its entry.
    vi.setSystemTime(Date.now() + 3000);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('a store failure while extending is reported; the stale value is answered and no copy stands', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'nf' });
    await cache.remember('k', '1s', () => 'old', GRACE);
    vi.setSystemTime(Date.now() + 5000);
    const errors: unknown[] = [];
    cache.on('error', (event) => errors.push(event));
    // The chaos store has no compare-and-set: the facade's emulation ends in a `set`.
    store.fail({ ops: ['set'], times: 1 });
    expect(await cache.remember('k', '10s', notModified, { ...GRACE, timeout: { soft: 5000 } })).toBe('old');
    expect(errors).toHaveLength(1);
    // Still stale in the store: the next call runs the loader again.
    let runs = 0;
    await cache.remember(
      'k',
      '10s',
      (context) => {
        runs++;
        return notModified(context);
      },
      { ...GRACE, timeout: { soft: 5000 } },
    );
    expect(runs).toBe(1);
  });
});

/** A tracking-like source driven by the test: `heard` delivers keys as Redis tracking would. */
function drivenTracking() {
  let handlers: InvalidationHandlers | undefined;
  const source: InvalidationSource = {
    mode: 'tracking',
    start(given) {
      handlers = given;
      given.onState(true);
    },
    async close() {},
  };
  return { source, heard: (...keys: string[]) => handlers?.onKeys(keys) };
}

describe('notModified with tracking: the L1 checks the header, never the value', () => {
  /** An L1 cache over `inner` with a driven tracking source and a `head` that counts its calls and may be held. */
  async function trackedCache(inner: CacheStore) {
    const tracking = drivenTracking();
    const heads: ((value?: unknown) => void)[] = [];
    let holdHeads = false;
    const store = withCompareAndSet(inner);
    Object.assign(store, {
      invalidation: (mode: string) => (mode === 'tracking' ? tracking.source : undefined),
      head: async (key: string): Promise<Payload | undefined> => {
        // Read now, answered once released: as of before what the test writes meanwhile.
        const payload = await inner.get(key);
        if (holdHeads) await new Promise((resolve) => heads.push(resolve));
        return typeof payload === 'string' ? payload.slice(0, 33) : payload;
      },
    });
    const cache = new Cache({ store, prefix: 'tr', l1: { invalidation: 'tracking' } });
    await l1Up(cache);
    return {
      cache,
      tracking,
      hold: () => (holdHeads = true),
      /** Header reads waiting to answer. */
      heldHeads: () => heads.length,
      releaseHeads: () => {
        for (const go of heads) go();
      },
    };
  }

  /** The stored entry of `k` made stale, held in `reader`'s L1, and the hint an extension of it announces. */
  async function staleHeld(inner: ReturnType<typeof createChaosStore>, reader: Cache, writer: Cache) {
    await writer.remember('k', '1s', () => 'v1', GRACE);
    expect(await reader.remember('k', '1s', notModified, GRACE)).toBe('v1');
    vi.setSystemTime(Date.now() + 5000);
    const sets: string[] = [];
    const set = inner.set.bind(inner);
    // The hint is written to the store (tracking hears every write): caught here to hand to the reader.
    inner.set = (key, payload, ttl) => {
      sets.push(key);
      return set(key, payload, ttl);
    };
    expect(await writer.remember('k', '10s', notModified, { ...GRACE, timeout: { soft: 5000 } })).toBe('v1');
    return sets.find((key) => key.includes('__larder:l1:life:')) as string;
  }

  /** A reader and a writer L1 over one chaos store, the writer's extension of a stale `k` the reader holds, and its hint. */
  async function extendedPair() {
    vi.useFakeTimers({ toFake: ['Date'] });
    const inner = createChaosStore();
    const reader = await trackedCache(inner);
    const writer = (await trackedCache(inner)).cache;
    const hint = await staleHeld(inner, reader.cache, writer);
    const close = () => Promise.all([reader.cache.close(), writer.close()]);
    return { inner, reader, writer, hint, close };
  }

  it('hint, then the rewrite heard: the header matches, the copy stands with the new life (no value read)', async () => {
    const { inner, reader, hint, close } = await extendedPair();
    expect(hint).toBeDefined();
    reader.tracking.heard(hint);
    reader.tracking.heard('tr:k');
    inner.resetCalls();
    await vi.waitFor(async () => expect((await reader.cache.describeL1())?.entries).toBe(1));
    expect(await reader.cache.rememberWithStatus('k', '10s', notModified, GRACE)).toMatchObject({
      value: 'v1',
      status: 'hit',
      tier: 'l1',
    });
    expect(inner.calls.get).toBe(0);
    await close();
  });

  it('another write after the extension: the header differs, the copy is dropped and the new value read', async () => {
    const { reader, writer, hint, close } = await extendedPair();
    await writer.set('k', 'v2', '1m');
    // Both writes reach the reader in one broadcast, the extension's hint first.
    reader.tracking.heard(hint);
    reader.tracking.heard('tr:k');
    await vi.waitFor(async () => expect((await reader.cache.describeL1())?.entries).toBe(0));
    expect(await reader.cache.get('k')).toBe('v2');
    await close();
  });

  it('the rewrite reported twice (a primary and its replica): checked again, the copy stands (no value read)', async () => {
    const { inner, reader, hint, close } = await extendedPair();
    reader.hold();
    reader.tracking.heard(hint);
    reader.tracking.heard('tr:k');
    reader.tracking.heard('tr:k');
    await vi.waitFor(() => expect(reader.heldHeads()).toBe(2));
    reader.releaseHeads();
    inner.resetCalls();
    await vi.waitFor(async () => expect((await reader.cache.describeL1())?.entries).toBe(1));
    expect(await reader.cache.rememberWithStatus('k', '10s', notModified, GRACE)).toMatchObject({ tier: 'l1' });
    expect(inner.calls.get).toBe(0);
    await close();
  });

  it('an invalidation while the header is read: the check is void, the copy dropped', async () => {
    const { reader, writer, hint, close } = await extendedPair();
    reader.hold();
    reader.tracking.heard(hint);
    reader.tracking.heard('tr:k');
    // The header read answers as of before the next write, whose invalidation arrives first.
    await writer.set('k', 'v2', '1m');
    reader.tracking.heard('tr:k');
    reader.releaseHeads();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await reader.cache.describeL1())?.entries).toBe(0);
    expect(await reader.cache.get('k')).toBe('v2');
    await close();
  });
});
