import { Cache } from '@larder/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/index';

// `rememberWithStatus` reports every hit's age: the raw modes keep values without a metadata
// header, so the facade asks the store's `writtenAt` after a hit.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  ['clone (default)', {}],
  ['clone: false', { clone: false }],
  ['useCodec', { useCodec: true }],
] as const)('rememberWithStatus on the memory store, %s', (_, options) => {
  const caches: Cache[] = [];
  afterEach(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
  });

  it('a hit reports its age since the write', async () => {
    const cache = new Cache({ store: createMemoryStore(options), prefix: 'age' });
    caches.push(cache);
    const miss = await cache.rememberWithStatus('k', '1m', () => ({ a: 1 }));
    expect(miss).toMatchObject({ status: 'miss', ageMs: 0 });
    await sleep(40);
    const hit = await cache.rememberWithStatus('k', '1m', () => ({ a: 2 }));
    expect(hit).toMatchObject({ value: { a: 1 }, status: 'hit' });
    expect(hit.ageMs).toBeGreaterThanOrEqual(35);
    expect(hit.ageMs).toBeLessThan(1000);
    // A value `set` (no TTL) has an age too, and a rewrite starts it again.
    await cache.set('n', 'v');
    await sleep(20);
    expect((await cache.rememberWithStatus('n', '1m', () => 'x')).ageMs).toBeGreaterThanOrEqual(15);
    await cache.set('n', 'w');
    expect((await cache.rememberWithStatus('n', '1m', () => 'x')).ageMs).toBeLessThan(15);
  });

  it('a graced value reports its age since the write', async () => {
    const cache = new Cache({ store: createMemoryStore(options), prefix: 'age' });
    caches.push(cache);
    await cache.rememberWithStatus('g', 30, () => 1, { grace: '1m' });
    await sleep(60);
    const graced = await cache.rememberWithStatus('g', 30, () => 2, { grace: '1m' });
    expect(graced.status).toBe('graced');
    expect(graced.ageMs).toBeGreaterThanOrEqual(55);
  });
});

describe('MemoryStore.writtenAt', () => {
  it('is the write time of a live entry, kept by touch, undefined when absent or expired', async () => {
    const store = createMemoryStore({ clone: false });
    const before = Date.now();
    await store.set('k', 'v', 50);
    const at = store.writtenAt('k') as number;
    expect(at).toBeGreaterThanOrEqual(before - 2);
    expect(at).toBeLessThanOrEqual(Date.now() + 2);
    await sleep(10);
    await store.touch('k', 50);
    expect(Math.abs((store.writtenAt('k') as number) - at)).toBeLessThanOrEqual(2);
    expect(store.writtenAt('absent')).toBeUndefined();
    await sleep(70);
    expect(store.writtenAt('k')).toBeUndefined();
  });
});
