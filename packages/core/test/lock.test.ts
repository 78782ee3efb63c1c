import { Cache, LockTimeoutError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it, vi } from 'vitest';

// Run every lock test with a native owner-checked delete and with the emulated one.
describe.each([
  ['native compareAndDelete', {}],
  ['emulated release (get + delete)', { without: ['compareAndDelete'] as const }],
])('locks (%s)', (_name, options) => {
  const setup = () => {
    const store = createChaosStore(options);
    return { store, cache: new Cache({ store, prefix: 'app:' }), other: new Cache({ store, prefix: 'app:' }) };
  };

  it('is stored under the prefix with a random owner token', async () => {
    const { store, cache } = setup();
    const lock = cache.lock('nightly', '30s');
    expect(lock.key).toBe('app:__larder:lock:nightly');
    expect(lock.owner).toMatch(/^[0-9a-f-]{36}$/);
    expect(cache.lock('nightly', '30s').owner).not.toBe(lock.owner);
    expect(await lock.acquire()).toBe(true);
    expect(await store.has!('app:__larder:lock:nightly')).toBe(true);
  });

  it('mutual exclusion: 50 concurrent acquirers across two caches, exactly one wins', async () => {
    const { cache, other } = setup();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? cache : other).lock('l', '30s').acquire()),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('only the owner releases; a restored owner can release', async () => {
    const { cache, other } = setup();
    const a = cache.lock('l', '30s');
    const b = other.lock('l', '30s');
    expect(await a.acquire()).toBe(true);
    expect(await b.release()).toBe(false);
    expect(await b.acquire()).toBe(false);
    expect(await other.lock('l', '30s', a.owner).release()).toBe(true);
    expect(await a.release()).toBe(false); // already released
    expect(await b.acquire()).toBe(true);
  });

  it('expires after its TTL so a crashed holder frees it', async () => {
    const { cache } = setup();
    expect(await cache.lock('l', 50).acquire()).toBe(true);
    const b = cache.lock('l', '30s');
    expect(await b.acquire()).toBe(false);
    await vi.waitFor(async () => expect(await b.acquire()).toBe(true), { timeout: 2000, interval: 10 });
  });

  it('block waits until the lock is free', async () => {
    const { cache } = setup();
    const a = cache.lock('l', '30s');
    await a.acquire();
    const b = cache.lock('l', '30s');
    let acquired = false;
    const waiting = b.block('5s').then(() => {
      acquired = true;
    });
    await vi.waitFor(() => expect(acquired).toBe(false));
    await a.release();
    await waiting;
    expect(acquired).toBe(true);
  });

  it('block rejects with LockTimeoutError after the wait', async () => {
    const { cache } = setup();
    await cache.lock('l', '30s').acquire();
    const started = Date.now();
    const error = await cache
      .lock('l', '30s')
      .block(80)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect((error as LockTimeoutError).code).toBe('E_LOCK_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('withLock runs callers one at a time and releases even when fn throws', async () => {
    const { cache, other } = setup();
    let inside = 0;
    let most = 0;
    let runs = 0;
    const critical = async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((resolve) => setImmediate(resolve));
      inside--;
      runs++;
      return runs;
    };
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? cache : other).withLock('w', '10s', critical, { wait: '10s' })),
    );
    expect(runs).toBe(8);
    expect(most).toBe(1);
    await expect(
      cache.withLock('w', '10s', () => {
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    expect(await cache.lock('w', '10s').acquire()).toBe(true); // it was released
  });

  it('withLock without wait rejects with LockTimeoutError when held', async () => {
    const { cache } = setup();
    await cache.lock('w', '10s').acquire();
    const fn = vi.fn();
    await expect(cache.withLock('w', '10s', fn)).rejects.toBeInstanceOf(LockTimeoutError);
    expect(fn).not.toHaveBeenCalled();
  });

  it('withLock returns what fn returns and hands it the lock', async () => {
    const { cache } = setup();
    expect(await cache.withLock('w', '10s', (lock) => lock.key)).toBe('app:__larder:lock:w');
  });
});

describe('locks and the store', () => {
  it('a lock needs an atomic add', async () => {
    const cache = new Cache({ store: createChaosStore({ without: ['add'] }) });
    await expect(cache.lock('l', '1s').acquire()).rejects.toMatchObject({ code: 'E_UNSUPPORTED_OPERATION' });
  });

  it('a hanging store makes acquire reject with TimeoutError', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, timeout: 30 });
    store.hang();
    await expect(cache.lock('l', '1s').acquire()).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    store.heal();
  });

  it('works on raw-value stores', async () => {
    const store = createChaosStore({ capabilities: { rawValues: true, inProcess: true } });
    const cache = new Cache({ store });
    const a = cache.lock('l', '1s');
    expect(await a.acquire()).toBe(true);
    expect(await cache.lock('l', '1s').release()).toBe(false);
    expect(await a.release()).toBe(true);
  });

  it('works on a cache built from a store promise, before it resolves', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store: new Promise((resolve) => setImmediate(() => resolve(store))) });
    const lock = cache.lock('l', '1s');
    expect(await lock.acquire()).toBe(true);
    expect(await lock.release()).toBe(true);
  });

  it('rejects an invalid lock name or TTL', () => {
    const cache = new Cache({ store: createChaosStore() });
    expect(() => cache.lock('', '1s')).toThrow(/non-empty/);
    expect(() => cache.lock('l', -1)).toThrow(/Invalid TTL/);
  });
});
