import { Cache } from '@larder/core';
import { type MemcachedCluster, memcachedAsciiStats } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore } from '../src';
import { memcached } from './helpers';

// memcached has no script: a tagged write reads each tag's counter first, then writes the entry.
// A counter usually exists (it outlives its entries), so the read comes first: one `get` per tag,
// not a failed `add` and then a `get`.

/** get and storage commands (set, add, cas, ...) the server counted. */
async function counts(cluster: MemcachedCluster): Promise<{ gets: number; stores: number }> {
  const { stats } = await memcachedAsciiStats(cluster.nodes[0]!);
  return { gets: Number(stats.cmd_get), stores: Number(stats.cmd_set) };
}

describe('a tagged write on memcached, counted at the server', () => {
  let cluster: MemcachedCluster;
  let cache: Cache;

  beforeAll(async () => {
    cluster = await memcached(1);
    cache = new Cache({ store: await createMemcachedStore({ servers: cluster.servers.split(',') }), prefix: 'tw:' });
  });
  afterAll(async () => {
    await cache?.close();
    await cluster?.stop();
  });

  it('once its counter exists and its life is known: one get of the counter and one set of the entry', async () => {
    await cache.tags(['t']).set('first', 0, '1h');
    const before = await counts(cluster);
    for (let i = 0; i < 10; i++) await cache.tags(['t']).set(`k${i}`, i, '1h');
    const after = await counts(cluster);
    expect(after.gets - before.gets).toBe(10);
    expect(after.stores - before.stores).toBe(10);
    for (let i = 0; i < 10; i++) expect(await cache.get(`k${i}`)).toBe(i);
  });

  it('a missing counter is made once (add), and a later invalidation still wins', async () => {
    const before = await counts(cluster);
    await cache.tags(['new']).set('n', 'v', '1h');
    const after = await counts(cluster);
    // get (missing), add of the counter, set of the entry.
    expect(after.stores - before.stores).toBe(2);
    expect(await cache.get('n')).toBe('v');
    await cache.invalidateTags(['new']);
    expect(await cache.get('n')).toBeUndefined();
  });
});
