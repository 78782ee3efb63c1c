import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import { Cache } from '../src/cache/cache';
import type { InvalidationHandlers, InvalidationSource } from '../src/contract/invalidation';
import type { CacheStore } from '../src/contract/store';
import { createChaosStore } from '../src/testing/chaos-store';
import { metaOf } from '../src/values/entry-format';

// Entries know when they were written and when the store drops them: an L1 copy never outlives
// the store's, `rememberWithStatus` reports every hit's age, and a write fills its own L1.

/** Polls `check` every 5 ms until it holds (at most 5 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const l1 = { invalidation: 'none', ttl: '1s' } as const;

describe('entry metadata: L1 copies end with the store entry', () => {
  it("another instance's entry: gone from the L1 when it expires in the store", async () => {
    const store = createChaosStore();
    const writer = new Cache({ store, prefix: 'app' });
    const reader = new Cache({ store, prefix: 'app', l1 });
    await writer.set('k', 'v', 300);
    expect(await reader.get('k')).toBe('v');
    await until(async () => (await store.get('app:k')) === undefined);
    // Before: the L1 (ttl 1 s) answered 'v' for ~700 ms more.
    expect(await reader.get('k')).toBeUndefined();
    await reader.close();
  });

  it("its own write (a number too) is never kept past the store's expiry", async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app', l1 });
    await cache.set('own', { a: 1 }, 400);
    expect(await cache.get('own')).toEqual({ a: 1 });
    await new Cache({ store, prefix: 'app' }).set('n', 7, 300);
    expect(await cache.get('n')).toBe(7);
    await until(async () => (await store.get('app:own')) === undefined && (await store.get('app:n')) === undefined);
    expect(await cache.get('own')).toBeUndefined();
    expect(await cache.get('n')).toBeUndefined();
    await cache.close();
  });

  it('a touch that shortens the expiry shortens the L1 copy too', async () => {
    // A store with compareAndSet (the header is rewritten with it) that keeps payloads.
    const store = createMemoryStore({ useCodec: true });
    const writer = new Cache({ store, prefix: 'app' });
    const reader = new Cache({ store, prefix: 'app', l1 });
    await writer.set('k', 'v', '1m');
    expect(await reader.touch('k', 300)).toBe(true);
    expect(metaOf((await store.get('app:k')) as string)?.expiresAt).toBeLessThan(Date.now() + 400);
    expect(await reader.get('k')).toBe('v');
    await until(async () => (await store.get('app:k')) === undefined);
    // Before: the header still said 1 min, so the L1 (ttl 1 s) answered 'v' for ~700 ms more.
    expect(await reader.get('k')).toBeUndefined();
    await reader.close();
  });

  it('rememberWithStatus reports the age of a plain hit, from the store and from the L1', async () => {
    const store = createChaosStore();
    const writer = new Cache({ store, prefix: 'app' });
    const reader = new Cache({ store, prefix: 'app', l1 });
    await writer.set('k', { v: 1 }, '1m');
    // Read once the write is done: its metadata's write time is no later (the facade stamps it when
    // it encodes, after the store is bound, which a loaded machine can delay past a clock read before the call).
    const before = Date.now();
    await until(async () => Date.now() - before >= 20);
    const fromStore = await reader.rememberWithStatus('k', '1m', () => ({ v: 2 }));
    expect(fromStore).toMatchObject({ value: { v: 1 }, status: 'hit', tier: 'l2' });
    expect(fromStore.ageMs).toBeGreaterThanOrEqual(20);
    const fromL1 = await reader.rememberWithStatus('k', '1m', () => ({ v: 2 }));
    expect(fromL1).toMatchObject({ status: 'hit', tier: 'l1' });
    expect(fromL1.ageMs).toBeGreaterThanOrEqual(fromStore.ageMs as number);
    await reader.close();
  });

  it('the stored format stays readable: an entry without metadata reads as before; a value at the size limit drops it', async () => {
    const store = createChaosStore({ capabilities: { maxValueBytes: 16 } });
    const cache = new Cache({ store, prefix: 'app' });
    await store.set('app:old', '{"a":1}', undefined);
    expect(await cache.get('old')).toEqual({ a: 1 });
    expect(await cache.rememberWithStatus('old', '1m', () => ({ a: 2 }))).toMatchObject({ ageMs: undefined });
    await cache.set('big', 'ten chars!');
    expect(await store.get('app:big')).toBe('"ten chars!"');
    await cache.set('small', 's');
    expect(metaOf((await store.get('app:small')) as string)?.writtenAt).toBeGreaterThan(0);
    await cache.close();
  });
});

/** A store whose invalidation channel the test drives. */
function withChannel(store: CacheStore): { store: CacheStore; handlers: () => InvalidationHandlers } {
  let handlers: InvalidationHandlers | undefined;
  const source: InvalidationSource = {
    mode: 'bus',
    start(given) {
      handlers = given;
      given.onState(true);
    },
    publish() {},
    async close() {},
  };
  return {
    store: Object.assign(store, { invalidation: () => source }),
    handlers: () => handlers as InvalidationHandlers,
  };
}

describe('a write fills its own L1', () => {
  it('read-after-write is an l1 hit with no store call (set and setMany)', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'none' } });
    await cache.set('a', { n: 1 }, '1m');
    await cache.setMany({ b: 2, c: 'three' }, '1m');
    store.resetCalls();
    expect(await cache.get('a')).toEqual({ n: 1 });
    expect(await cache.getMany(['b', 'c'])).toEqual([2, 'three']);
    expect(store.totalCalls()).toBe(0);
    expect(cache.stats().tiers).toEqual({ l1: 3, l2: 0 });
    await cache.close();
  });

  it('an invalidation arriving while the write is in flight cancels the fill', async () => {
    const chaos = createChaosStore();
    const { store, handlers } = withChannel(chaos);
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'bus', busUrl: 'redis://unused' } });
    await cache.describeL1();
    chaos.slow(50, { ops: ['set'] });
    const writing = cache.set('k', 'mine', '1m');
    await until(async () => chaos.calls.set === 1);
    handlers().onKeys(['app:k']);
    await writing;
    chaos.heal();
    chaos.resetCalls();
    expect(await cache.get('k')).toBe('mine');
    expect(chaos.calls.get).toBe(1);
    await cache.close();
  });
});

describe('numbers carry metadata and still count', () => {
  it('increment of a number set wrote: rewritten as a plain counter once, its expiry kept', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app' });
    await cache.set('n', 41, 300);
    expect(metaOf((await store.get('app:n')) as string)).toBeDefined();
    expect(await cache.increment('n')).toBe(42);
    expect(await store.get('app:n')).toBe('42');
    await until(async () => (await store.get('app:n')) === undefined);
    await cache.set('s', 'text');
    await expect(cache.increment('s')).rejects.toMatchObject({ code: 'E_BACKEND' });
    expect(await cache.get('s')).toBe('text');
  });
});

describe('a failed write leaves no placeholder behind', () => {
  it('setMany rejected by the store: the keys are read and kept again afterwards', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'none' } });
    store.fail({ ops: ['setMany'], times: 1 });
    await expect(cache.setMany({ a: 1 }, '1m')).rejects.toThrow();
    await new Cache({ store, prefix: 'app' }).set('a', 2, '1m');
    expect(await cache.get('a')).toBe(2);
    store.resetCalls();
    expect(await cache.get('a')).toBe(2);
    expect(store.calls.get).toBe(0);
    await cache.close();
  });
});
