import type { MemcachedCluster } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore } from '../src';
import { toMemcachedKey } from '../src/keys';
import { memcached, text } from './helpers';

/** Pairs of different larder keys that once mapped to the same memcached key. */
const pairs = (): [string, string][] => [
  ['col:x\uD800', 'col:x\uFFFD'],
  ['col:\uDC00y', 'col:\uFFFDy'],
  ['col:user 1', toMemcachedKey('col:user 1')],
  [`col:${'k'.repeat(250)}a`, `col:${'k'.repeat(250)}b`],
  ['col:a b', 'col:a_b'],
];

describe('different keys never share a stored item (real memcached)', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  beforeAll(async () => {
    cluster = await memcached(2);
    store = await createMemcachedStore({ servers: cluster.servers.split(',') });
  });
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('set/get: each key reads its own value, and the other key is untouched', async () => {
    for (const [a, b] of pairs()) {
      await store.set(a, 'A', undefined);
      await store.set(b, 'B', undefined);
      expect([a, text(await store.get(a))]).toEqual([a, 'A']);
      expect([b, text(await store.get(b))]).toEqual([b, 'B']);
      expect(await store.delete(b)).toBe(true);
      expect([a, text(await store.get(a))]).toEqual([a, 'A']);
    }
  });

  it('getMany, setMany and add keep them apart too (also once the hashed form is placed)', async () => {
    const list = pairs().flat();
    // A get places each key's memcached form first (getMany's placement shortcut must not confuse them).
    await Promise.all(list.map((key) => store.get(key)));
    await store.setMany(
      list.map((key, i) => [key, `v${i}`] as const),
      undefined,
    );
    expect((await store.getMany(list)).map(text)).toEqual(list.map((_, i) => `v${i}`));
    await store.deleteMany(list.filter((_, i) => i % 2 === 1));
    for (const [a, b] of pairs()) {
      expect(await store.add(b, 'added', undefined)).toBe(true);
      expect(text(await store.get(a))).not.toBe('added');
    }
  });
});
