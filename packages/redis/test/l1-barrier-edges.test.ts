import { Cache, isLarderError } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

// Edges of the L1 barrier (docs/architecture.md "The barrier"), two caches in this process.
const LEASE_MS = 400;

describe('L1 barrier edges', () => {
  let server: RedisServer;
  let bus: RedisServer;
  const caches: Cache[] = [];
  let n = 0;
  const make = (l1: Record<string, unknown>) => {
    const cache = new Cache({
      store: createRedisStore({ url: server.url }),
      prefix: `edge-${++n}:`,
      l1: { lease: LEASE_MS, ...l1 },
    });
    caches.push(cache);
    return cache;
  };
  const up = (cache: Cache) => waitFor(async () => (await cache.describeL1())?.state === 'up');

  beforeAll(async () => {
    [server, bus] = await Promise.all([startRedis(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close().catch(() => undefined)));
    await Promise.all([server?.stop(), bus?.stop()]);
  });

  it('an instance that closed its L1 left the fleet: the barrier does not wait for its lease', async () => {
    const a = make({ invalidation: 'tracking' });
    const b = new Cache({ store: createRedisStore({ url: server.url }), prefix: a.prefix, l1: { lease: LEASE_MS } });
    caches.push(b);
    await Promise.all([up(a), up(b)]);
    let started = performance.now();
    await a.syncL1();
    expect(performance.now() - started).toBeLessThan(LEASE_MS);
    await b.closeL1();
    started = performance.now();
    await a.syncL1();
    expect(performance.now() - started).toBeLessThan(LEASE_MS);
  });

  it('a lease key deleted in the store: the instance flushes, joins again in a new epoch, and barriers stay fast', async () => {
    const a = make({ invalidation: 'tracking' });
    const b = new Cache({ store: createRedisStore({ url: server.url }), prefix: a.prefix, l1: { lease: LEASE_MS } });
    caches.push(b);
    await Promise.all([up(a), up(b)]);
    await b.set('k', 1);
    expect(await b.get('k')).toBe(1);
    const flushes = (await b.describeL1())?.flushes ?? 0;
    const leases = await server.command('KEYS', `__larder:fleet:${a.prefix}lease:*`);
    expect((leases as string[]).length).toBe(2);
    await server.command('DEL', ...(leases as string[]));
    await waitFor(async () => ((await b.describeL1())?.flushes ?? 0) > flushes);
    await Promise.all([up(a), up(b)]);
    const started = performance.now();
    await a.syncL1();
    expect(performance.now() - started).toBeLessThan(LEASE_MS);
  });

  it('an idle fleet is silent: lease renewals and the registry notify no instance (tracking); a write still does, and a barrier is one fence', async () => {
    const a = make({ invalidation: 'tracking' });
    const others = [0, 1].map(
      () => new Cache({ store: createRedisStore({ url: server.url }), prefix: a.prefix, l1: { lease: LEASE_MS } }),
    );
    caches.push(...others);
    const fleet = [a, ...others];
    await Promise.all(fleet.map(up));
    // A listener tracking the store prefix as each instance does (BCAST, redirected to a RESP2 subscriber).
    const subscriber = new Redis(server.url, { protocol: 2 });
    const tracker = new Redis(server.url);
    const heard: string[] = [];
    try {
      subscriber.on('messageBuffer', (_channel: Buffer, message: unknown) => {
        for (const key of Array.isArray(message) ? message : [message]) heard.push(String(key));
      });
      const id = String(await subscriber.client('ID'));
      await subscriber.subscribe('__redis__:invalidate');
      await tracker.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', id, 'BCAST', 'PREFIX', a.prefix);
      const leases = async () => {
        const keys = (await server.command('KEYS', `__larder:fleet:${a.prefix}lease:*`)) as string[];
        return keys.length === 0 ? [] : ((await server.command('MGET', ...keys)) as string[]);
      };
      // Every instance renews its lease at least twice while the listener tracks.
      const first = await leases();
      expect(first.length).toBe(3);
      let renewed = 0;
      let last = first;
      await waitFor(async () => {
        const now = await leases();
        if (now.every((value, i) => value !== last[i])) {
          renewed++;
          last = now;
        }
        return renewed >= 2;
      });
      expect(heard).toEqual([]);
      // The listener hears what an instance would: a write under the prefix.
      await a.set('k', 1);
      await waitFor(() => heard.includes(`${a.prefix}k`));
      // A barrier is announced once (its fence); the two acknowledgements reach the writer alone.
      heard.length = 0;
      const started = performance.now();
      await a.syncL1();
      expect(performance.now() - started).toBeLessThan(LEASE_MS);
      expect(heard).toHaveLength(1);
      expect(heard[0]).toMatch(new RegExp(`^${a.prefix}__larder:l1:fence:[0-9a-z]+$`));
      const acks = (await server.command('KEYS', `__larder:fleet:${a.prefix}ack:*`)) as string[];
      expect(acks).toHaveLength(2);
      // describe() shows the fleet as this instance saw it.
      const fleet = (await a.describeL1())?.fleet;
      expect(fleet).toMatchObject({ leaseHeld: true, leaseMs: LEASE_MS, stateIn: 'store' });
      expect(fleet?.lastBarrier).toMatchObject({ instances: 2, acknowledged: 2, lapsed: 0, outcome: 'ok' });
      expect(fleet?.lastBarrier?.polls).toBeGreaterThanOrEqual(1);
    } finally {
      subscriber.disconnect();
      tracker.disconnect();
    }
  });

  it('on the bus, a barrier while this process cannot publish rejects at once (E_L1_BARRIER)', async () => {
    const a = make({ invalidation: 'bus', busUrl: bus.url });
    await up(a);
    await a.syncL1();
    await bus.kill();
    try {
      await waitFor(async () => (await a.describeL1())?.state === 'down');
      const error = await a.syncL1().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(isLarderError(error, 'E_L1_BARRIER')).toBe(true);
    } finally {
      await bus.restart();
    }
    await up(a);
    await a.syncL1();
  });
});
