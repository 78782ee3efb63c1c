import { BackendError, configFromEnv, createCacheManager, ValueTooLargeError } from '@larder/core';
import type { MemcachedCluster } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore } from '../src';
import { countingFactory, memcached, waitFor } from './helpers';

describe('MemcachedStore on 3 real memcached processes', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  const counter = countingFactory();

  beforeAll(async () => {
    cluster = await memcached(3);
    store = await createMemcachedStore({ servers: cluster.servers.split(','), serverFactory: counter.factory });
  });
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('sets, gets, deletes', async () => {
    await store.set('s:a', 'hello', undefined);
    expect(Buffer.from((await store.get('s:a')) as Uint8Array).toString()).toBe('hello');
    expect(await store.delete('s:a')).toBe(true);
    expect(await store.delete('s:a')).toBe(false);
    expect(await store.get('s:a')).toBeUndefined();
  });

  it('gives back the exact bytes it was given', async () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 0, 13, 10]);
    await store.set('s:bin', bytes, undefined);
    expect(Buffer.compare(Buffer.from((await store.get('s:bin')) as Uint8Array), Buffer.from(bytes))).toBe(0);
  });

  it('getMany(100) over 3 nodes is 3 requests on the wire, aligned with the keys', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `s:many:${i}`);
    await store.setMany(
      keys.filter((_, i) => i % 2 === 0).map((key) => [key, `v-${key}`] as const),
      undefined,
    );
    const before = counter.total();
    const values = await store.getMany(keys);
    expect(counter.total() - before).toBe(3);
    values.forEach((value, i) => {
      if (i % 2 === 0) expect(Buffer.from(value as Uint8Array).toString()).toBe(`v-${keys[i]}`);
      else expect(value).toBeUndefined();
    });
    const deleted = await store.deleteMany(keys);
    expect(deleted).toBe(50);
  });

  it('batches concurrent gets of one tick into one request per node', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `s:tick:${i}`);
    await store.setMany(
      keys.map((key) => [key, key] as const),
      undefined,
    );
    const before = counter.total();
    const values = await Promise.all(keys.map((key) => store.get(key)));
    expect(counter.total() - before).toBeLessThanOrEqual(3);
    expect(values.map((v) => Buffer.from(v as Uint8Array).toString())).toEqual(keys);
  });

  it('add only stores when absent', async () => {
    expect(await store.add('s:add', '1', undefined)).toBe(true);
    expect(await store.add('s:add', '2', undefined)).toBe(false);
    expect(Buffer.from((await store.get('s:add')) as Uint8Array).toString()).toBe('1');
  });

  it('increments from 0 on a missing key, and exactly above 2^32 and 2^53', async () => {
    expect(await store.increment('s:n', 5, undefined)).toBe(5);
    expect(await store.increment('s:n', 2, undefined)).toBe(7);
    expect(await store.increment('s:n', -3, undefined)).toBe(4);
    expect(Buffer.from((await store.get('s:n')) as Uint8Array).toString()).toBe('4');
    expect(await store.increment('s:big', 2 ** 32 + 7, undefined)).toBe(2 ** 32 + 7);
    expect(await store.increment('s:big', 2 ** 33, undefined)).toBe(2 ** 32 + 7 + 2 ** 33);
    expect(await store.incrementBig('s:huge', 2n ** 63n, undefined)).toBe(2n ** 63n);
    expect(await store.incrementBig('s:huge', 2n ** 62n + 1n, undefined)).toBe(2n ** 63n + 2n ** 62n + 1n);
    expect(Buffer.from((await store.get('s:huge')) as Uint8Array).toString()).toBe(
      (2n ** 63n + 2n ** 62n + 1n).toString(),
    );
  });

  it('goes negative (CAS path) and back, storing plain signed decimal', async () => {
    expect(await store.increment('s:d', 2, undefined)).toBe(2);
    expect(await store.increment('s:d', -5, undefined)).toBe(-3);
    expect(Buffer.from((await store.get('s:d')) as Uint8Array).toString()).toBe('-3');
    expect(await store.increment('s:d', 10, undefined)).toBe(7);
    expect(await store.increment('s:d-missing', -5, undefined)).toBe(-5);
  });

  it('keeps concurrent mixed increments and decrements exact', async () => {
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.increment('s:mixed', i % 2 ? -3 : 3, undefined)));
    expect(Buffer.from((await store.get('s:mixed')) as Uint8Array).toString()).toBe('0');
  });

  it('rejects incrementing a non-numeric value with BackendError', async () => {
    await store.set('s:text', '"abc"', undefined);
    await expect(store.increment('s:text', 1, undefined)).rejects.toBeInstanceOf(BackendError);
  });

  it('touch, compareAndDelete, pull', async () => {
    expect(await store.touch('s:none', 1000)).toBe(false);
    await store.set('s:lock', 'owner-1', 60_000);
    expect(await store.touch('s:lock', 120_000)).toBe(true);
    expect(await store.compareAndDelete('s:lock', 'owner-2')).toBe(false);
    expect(await store.compareAndDelete('s:lock', 'owner-1')).toBe(true);
    expect(await store.get('s:lock')).toBeUndefined();
    await store.set('s:pull', 'once', undefined);
    const [a, b] = await Promise.all([store.pull('s:pull'), store.pull('s:pull')]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
  });

  it('hashes long and whitespace keys transparently', async () => {
    const long = `s:${'k'.repeat(1000)}`;
    await store.set(long, 'long', undefined);
    await store.set('s:with space', 'space', undefined);
    expect(Buffer.from((await store.get(long)) as Uint8Array).toString()).toBe('long');
    expect(Buffer.from((await store.get('s:with space')) as Uint8Array).toString()).toBe('space');
  });

  it('getMany maps long and whitespace keys (twice, so the second read goes through the placement memo), with duplicates', async () => {
    const long = `s:many-${'k'.repeat(400)}`;
    const keys = [long, 's:many with space', 's:many:plain', long, 'ключ:é'];
    await store.setMany(
      keys.map((key) => [key, `v-${key.length}`] as const),
      undefined,
    );
    for (let round = 0; round < 2; round++) {
      const values = (await store.getMany(keys)).map((value) => Buffer.from(value as Uint8Array).toString());
      expect(values).toEqual(keys.map((key) => `v-${key.length}`));
    }
  });

  it('rejects values over maxValueBytes before sending, and stores one just under it', async () => {
    const limit = store.capabilities.maxValueBytes;
    const before = counter.total();
    await expect(store.set('s:big-value', new Uint8Array(limit + 1), undefined)).rejects.toBeInstanceOf(
      ValueTooLargeError,
    );
    await expect(store.setMany([['s:big-value', new Uint8Array(limit + 1)]], undefined)).rejects.toBeInstanceOf(
      ValueTooLargeError,
    );
    expect(counter.total()).toBe(before);
    await store.set(`s:${'m'.repeat(240)}`, new Uint8Array(limit), undefined);
    expect(((await store.get(`s:${'m'.repeat(240)}`)) as Uint8Array).byteLength).toBe(limit);
  });

  it('expires by whole seconds', async () => {
    // 1500 ms rounds up to 2 s: present for at least 1 s of memcached's coarse clock, gone within 2 s.
    await store.set('s:ttl', 'x', 1500);
    const start = Date.now();
    expect(await store.get('s:ttl')).toBeDefined();
    await waitFor(async () => (await store.get('s:ttl')) === undefined, { timeoutMs: 4000, intervalMs: 100 });
    expect(Date.now() - start).toBeGreaterThanOrEqual(900);
  });

  it('is loaded by the cache manager from MEMCACHED_* variables (driver elasticache/memcached)', async () => {
    const config = configFromEnv({
      CACHE_STORE: 'memcached',
      MEMCACHED_SERVERS: cluster.servers,
      CACHE_PREFIX: 'mgr:',
    });
    const manager = createCacheManager(config);
    try {
      const cache = manager.store();
      await cache.set('greeting', { hello: 'world' });
      expect(await cache.get('greeting')).toEqual({ hello: 'world' });
      expect((await cache.getStore()).driver).toBe('memcached');
    } finally {
      await manager.close();
    }
  });
});
