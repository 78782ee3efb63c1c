// Why: memcached's binary INCR with an initial value creates a missing key with an ADD. When two
// connections (served by two memcached worker threads) both find the key missing, one ADD loses
// and that INCR answers NOT_STORED, having counted nothing. The driver sends it again: the key
// exists now, so the second try counts. Nothing may surface as a BackendError.
import { Cache } from '@larder/core';
import type { MemcachedCluster } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore } from '../src';
import { memcached } from './helpers';

const CONNECTIONS = 8;
const KEYS = 300;

describe('concurrent creation of a counter from several connections', () => {
  let servers: MemcachedCluster;
  let caches: Cache[];

  beforeAll(async () => {
    servers = await memcached(1, { args: ['-t', '4'] });
    caches = Array.from(
      { length: CONNECTIONS },
      () => new Cache({ store: createMemcachedStore({ servers: [servers.nodes[0]!.address], timeout: '30s' }) }),
    );
    await Promise.all(caches.map((c) => c.getStore()));
  }, 60_000);
  afterAll(async () => {
    await Promise.all((caches ?? []).map((c) => c.close()));
    await servers?.stop();
  });

  it('increment: every racing creator counts once, none fails', async () => {
    const totals = await Promise.all(
      Array.from({ length: KEYS }, async (_, k) => {
        const replies = await Promise.all(caches.map((c) => c.increment(`race:inc:${k}`, 1)));
        return Math.max(...replies);
      }),
    );
    expect(totals).toEqual(Array.from({ length: KEYS }, () => CONNECTIONS));
  });

  it('rate limit: every racing first hit is decided by the store and counted once', async () => {
    const limiters = caches.map((c) => c.rateLimiter({ limit: 1000, window: '60s' }));
    const downs: unknown[] = [];
    for (const l of limiters) l.on('storeDown', ({ error }) => downs.push(error));
    const remaining = await Promise.all(
      Array.from({ length: KEYS }, async (_, k) => {
        const decisions = await Promise.all(limiters.map((l) => l.hit(`race:rl:${k}`)));
        expect(new Set(decisions.map((d) => d.source))).toEqual(new Set(['store']));
        return Math.min(...decisions.map((d) => d.remaining));
      }),
    );
    expect(downs).toEqual([]);
    expect(remaining).toEqual(Array.from({ length: KEYS }, () => 1000 - CONNECTIONS));
  });
});
