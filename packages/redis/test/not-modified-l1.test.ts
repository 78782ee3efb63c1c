import { Cache, type LoaderContext } from '@larder/core';
import {
  type MemcachedCluster,
  memcachedAsciiStats,
  type RedisServer,
  startMemcached,
  startRedis,
  waitFor,
} from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, larderBus } from '../src/index';
import { commandStats } from './helpers';
import { instanceStore } from './ipc-instance';

// issue #39 "Done means" 5: `notModified()` with 20 L1 instances (20 caches in this process, each
// its own Redis connections: Redis sees 20 tracked clients): zero value re-reads counted by the
// server, the TTL extended everywhere. The extension rewrites the entry's bounds only; tracking
// reports that rewrite as an invalidation, so each L1 first hears the extension's hint, then
// checks the key's header (GETRANGE, a few dozen bytes) instead of reading the value (GET).

const L1S = 20;
const PREFIX = 'nm20:';
const GRACE = { grace: '1h' } as const;
/** A source that answers "not modified". */
const keepStale = (context: LoaderContext) => {
  context.notModified();
  return undefined as unknown as string;
};
const valueReads = (stats: Record<string, number>) => (stats.get ?? 0) + (stats.mget ?? 0);

// `readers` tracking: an instance keeps none of its own writes (it would not hear of the next one);
// the refresher keeps its extended copy after the same header check, a read that registers the key.
describe.each(['broadcast', 'readers'] as const)(
  'notModified() across 20 L1s on Redis tracking, %s (issue #39, scenario 5)',
  (tracking) => {
    let server: RedisServer;
    let writer: Cache;
    let l1s: Cache[];

    beforeAll(async () => {
      server = await startRedis();
      writer = new Cache({ store: createRedisStore({ url: server.url }), prefix: PREFIX });
      l1s = Array.from(
        { length: L1S },
        // A long lease: a renewal's compare-and-set script runs a GET that Redis counts as a value read.
        () =>
          new Cache({ store: createRedisStore({ url: server.url }), prefix: PREFIX, l1: { tracking, lease: '1h' } }),
      );
      await waitFor(
        async () => (await Promise.all(l1s.map((cache) => cache.describeL1()))).every((d) => d?.state === 'up'),
        {
          timeoutMs: 10_000,
          description: '20 L1s up',
        },
      );
    }, 30_000);
    afterAll(async () => {
      await Promise.all((l1s ?? []).map((cache) => cache.close()));
      await writer?.close();
      await server?.stop();
    });

    /** Writes `key` with a 1 s TTL and an hour of grace, fills every L1 with it, and waits until it is stale. */
    async function staleEverywhere(key: string, value: string): Promise<number> {
      const writtenAt = Date.now();
      await writer.remember(key, 1000, () => value, GRACE);
      // A read that began before an L1 heard of the write is not kept there: read until each answers from it.
      const holds = async (cache: Cache) =>
        (await cache.rememberWithStatus(key, 1000, () => 'loaded', GRACE)).tier === 'l1';
      await Promise.all(l1s.map((cache) => waitFor(() => holds(cache), { timeoutMs: 5000, description: 'held' })));
      await waitFor(async () => (await writer.get(key)) === undefined, { timeoutMs: 5000, description: 'stale' });
      return writtenAt;
    }

    it('zero value reads after the extension, the TTL extended in the store and in every L1', async () => {
      const key = 'kept';
      const writtenAt = await staleEverywhere(key, 'first');
      const before = Number(await server.command('PTTL', `${PREFIX}${key}`));
      await server.command('CONFIG', 'RESETSTAT');
      let runs = 0;
      const notModified = (context: LoaderContext) => {
        runs++;
        return keepStale(context);
      };
      // One instance refreshes: the source says "not modified". The soft timeout makes its caller wait for the run.
      const first = l1s[0] as Cache;
      expect(await first.remember(key, '1m', notModified, { ...GRACE, timeout: { soft: 10_000 } })).toBe('first');
      const ownReads = valueReads(await commandStats(server));
      // Every L1 checks the header of the rewritten key once, then holds its copy again: the refresher's
      // too (Redis reports a script's write to the connection that ran it despite NOLOOP; with
      // `readers` it keeps no write of its own, and keeps the extended copy after the check instead).
      await waitFor(async () => (await commandStats(server)).getrange === L1S, {
        timeoutMs: 5000,
        description: 'each L1 checked the header',
      });
      await waitFor(
        async () => (await Promise.all(l1s.map((cache) => cache.describeL1()))).every((d) => d?.entries === 1),
        {
          timeoutMs: 5000,
          description: 'each L1 holds its copy again',
        },
      );
      const statuses = [];
      for (const cache of l1s) {
        for (let i = 0; i < 5; i++) statuses.push(await cache.rememberWithStatus(key, '1m', notModified, GRACE));
      }
      const stats = await commandStats(server);
      const pttl = Number(await server.command('PTTL', `${PREFIX}${key}`));
      console.log(
        `scenario 5 (${tracking}): ${L1S} L1s × 5 calls after notModified: value reads ${valueReads(stats) - ownReads} (the refresher's own call: ${ownReads}), header checks ${stats.getrange ?? 0}, loader runs ${runs}, PTTL ${before} → ${pttl} ms`,
      );
      expect(valueReads(stats) - ownReads).toBe(0);
      expect(runs).toBe(1);
      // Each L1's view: a fresh hit of its own copy, as old as the value (written once, never rewritten).
      for (const status of statuses) {
        expect(status).toMatchObject({ value: 'first', status: 'hit', tier: 'l1' });
        expect(status.ageMs).toBeGreaterThanOrEqual(Date.now() - writtenAt - 1000);
      }
      // The store's TTL: a minute plus the hour of grace, where an hour was left before.
      expect(pttl).toBeGreaterThan(3_600_000 + 55_000);
      expect(before).toBeLessThanOrEqual(3_601_000);
      expect(await writer.get(key)).toBe('first');
    }, 30_000);

    it('never revives a value another writer replaced while the loader ran: every L1 reads the new one', async () => {
      const key = 'replaced';
      await staleEverywhere(key, 'old');
      let release: (() => void) | undefined;
      const loader = (context: LoaderContext) =>
        new Promise<string>((resolve) => {
          release = () => resolve(keepStale(context));
        });
      const refresh = (l1s[0] as Cache).remember(key, '1m', loader, { ...GRACE, timeout: { soft: 10_000 } });
      await waitFor(() => release !== undefined, { description: 'the loader runs' });
      await writer.set(key, 'new', '10s');
      release?.();
      expect(await refresh).toBe('old');
      for (const cache of l1s) {
        await waitFor(async () => (await cache.get(key)) === 'new', { timeoutMs: 5000, description: 'the new value' });
      }
      const pttl = Number(await server.command('PTTL', `${PREFIX}${key}`));
      expect(pttl).toBeLessThanOrEqual(10_000);
    }, 30_000);
  },
);

// On the bus (memcached here) the writer publishes the hint in place of the key's invalidation:
// each L1 adopts the new life as it hears it, with no read at all.
describe('notModified() across L1s on memcached with a bus', () => {
  const BUS_L1S = 5;
  let memcached: MemcachedCluster;
  let bus: RedisServer;
  let caches: Cache[];
  const gets = async () => Number((await memcachedAsciiStats(memcached.nodes[0] as never)).stats.cmd_get);

  beforeAll(async () => {
    [memcached, bus] = await Promise.all([startMemcached(), startRedis()]);
    caches = await Promise.all(
      Array.from({ length: BUS_L1S }, async () => {
        const store = await instanceStore({ driver: 'memcached', memcachedServers: memcached.servers.split(',') });
        Object.assign(store, { invalidation: (_mode: string, options: never) => larderBus(options) });
        return new Cache({ store, prefix: 'nmb:', l1: { invalidation: 'bus', busUrl: bus.url } });
      }),
    );
    await Promise.all(caches.map((cache) => waitFor(async () => (await cache.describeL1())?.state === 'up')));
  }, 30_000);
  afterAll(async () => {
    await Promise.all((caches ?? []).map((cache) => cache.close()));
    await Promise.all([memcached?.stop(), bus?.stop()]);
  });

  it('zero reads after the extension, fresh in every L1', async () => {
    const [first, ...others] = caches as [Cache, ...Cache[]];
    await first.remember('k', 1000, () => 'first', GRACE);
    const inL1 = async (cache: Cache) => (await cache.rememberWithStatus('k', 1000, keepStale, GRACE)).tier === 'l1';
    await Promise.all(others.map((cache) => waitFor(() => inL1(cache), { description: 'held' })));
    await waitFor(async () => (await first.rememberWithStatus('k', 1000, keepStale, GRACE)).status === 'graced', {
      description: 'stale',
    });
    expect(await first.remember('k', '1m', keepStale, { ...GRACE, timeout: { soft: 10_000 } })).toBe('first');
    // Every L1 processed what the writer published before (the hint with it).
    await first.syncL1();
    const before = await gets();
    const seen = [];
    for (const cache of caches)
      for (let i = 0; i < 5; i++) seen.push(await cache.rememberWithStatus('k', '1m', keepStale, GRACE));
    const reads = (await gets()) - before;
    console.log(`scenario 5 on memcached with a bus: ${BUS_L1S} L1s × 5 calls after notModified: value reads ${reads}`);
    expect(reads).toBe(0);
    for (const status of seen) expect(status).toMatchObject({ value: 'first', status: 'hit', tier: 'l1' });
  }, 30_000);
});
