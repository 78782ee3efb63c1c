import { Cache, InvalidKeyError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it } from 'vitest';

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

describe('locks live in a reserved namespace, apart from cached values', () => {
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
