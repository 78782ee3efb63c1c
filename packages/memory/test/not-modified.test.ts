import { Cache, type LoaderContext } from '@larder/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from '../src/index';

// `remember`'s `notModified()` on the memory store (issue #39, scenario 5): the stale value's life
// is extended, and never over a value another writer stored while the loader ran. With `useCodec`
// the stored bytes are kept but their bounds (the value's write time with them); the raw modes
// keep values, not bytes: the value is stored again, compared first.

const GRACE = { grace: '1m' } as const;
const notModified = (context: LoaderContext) => {
  context.notModified();
  return undefined as unknown as string;
};

describe.each([
  ['clone (default)', {}],
  ['useCodec', { useCodec: true }],
] as const)('notModified on the memory store, %s', (mode, options) => {
  const caches: Cache[] = [];
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });
  const staleCache = async () => {
    const store = createMemoryStore(options);
    const cache = new Cache({ store, prefix: 'nm' });
    caches.push(cache);
    await cache.remember('k', 50, () => 'v1', GRACE);
    await vi.waitFor(async () => expect(await cache.get('k')).toBeUndefined(), { timeout: 2000 });
    return { store, cache };
  };

  it('extends the life: fresh for the new TTL, the loader not run again', async () => {
    const writtenAt = Date.now();
    const { cache } = await staleCache();
    expect(await cache.remember('k', '1m', notModified, { ...GRACE, timeout: { soft: 5000 } })).toBe('v1');
    let runs = 0;
    const seen = await cache.rememberWithStatus(
      'k',
      '1m',
      (context) => {
        runs++;
        return notModified(context);
      },
      GRACE,
    );
    expect(seen).toMatchObject({ value: 'v1', status: 'hit' });
    expect(runs).toBe(0);
    // The stored bytes kept (their write time with them) where the store keeps bytes.
    if (mode === 'useCodec') expect(seen.ageMs).toBeGreaterThanOrEqual(Date.now() - writtenAt - 50);
  });

  it('never revives a value another writer stored while the loader ran', async () => {
    const { store, cache } = await staleCache();
    const other = new Cache({ store, prefix: 'nm' });
    let release: (() => void) | undefined;
    const loader = (context: LoaderContext) =>
      new Promise<string>((resolve) => {
        release = () => resolve(notModified(context));
      });
    const refresh = cache.remember('k', '1m', loader, { ...GRACE, timeout: { soft: 5000 } });
    await vi.waitFor(() => expect(release).toBeDefined());
    await other.set('k', 'v2', 100);
    release?.();
    expect(await refresh).toBe('v1');
    expect(await cache.get('k')).toBe('v2');
    // The other writer's TTL stands: nothing extended it.
    await vi.waitFor(async () => expect(await cache.get('k')).toBeUndefined(), { timeout: 2000 });
  });
});
