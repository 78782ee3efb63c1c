import { spawnSync } from 'node:child_process';
import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { cover } from '../src/tracking/command-tracking';

// Tracking runs on the store's command connection with NOLOOP: Redis no longer tells this
// process of its own writes, so the store reports them to every L1 over it (docs/architecture.md "Two tiers").

const up = async (cache: Cache) => {
  await waitFor(async () => (await cache.describeL1())?.state === 'up', { description: 'L1 up' });
};
const hits = async (cache: Cache) => (await cache.describeL1())?.hits ?? 0;

/**
 * Reads `key` through `cache` twice until the second read is an L1 hit (so the value is held
 * there). Until then the L1 may be down for a moment: on a loaded machine a late lease renewal
 * lapses the lease, which flushes the L1 until the next renewal (docs/architecture.md "The barrier").
 */
const hold = async (cache: Cache, key: string, expected: unknown) => {
  await waitFor(
    async () => {
      await up(cache);
      expect(await cache.get(key)).toEqual(expected);
      const before = await hits(cache);
      expect(await cache.get(key)).toEqual(expected);
      return (await hits(cache)) === before + 1;
    },
    { description: `${key} held in the L1` },
  );
};

const cli = (server: RedisServer, ...args: string[]) => {
  const run = spawnSync('redis-cli', ['-p', String(server.port), ...args], { encoding: 'utf8' });
  return run.stdout.trim();
};

describe('L1 tracking on the command connection (NOLOOP): writes of this process', () => {
  let server: RedisServer;
  let store: RedisStore;
  let a: Cache;
  let b: Cache;
  let plain: Cache;

  beforeAll(async () => {
    server = await startRedis();
    store = createRedisStore({ url: server.url });
    a = new Cache({ store, prefix: 'own', l1: { invalidation: 'tracking' } });
    b = new Cache({ store, prefix: 'own', l1: { invalidation: 'tracking' } });
    plain = new Cache({ store, prefix: 'own' });
    await up(a);
    await up(b);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await server?.stop();
  });

  it('tracking is on the command connection, BCAST with NOLOOP, redirected to a subscriber', async () => {
    const info = JSON.stringify(await store.client.call('CLIENT', 'TRACKINGINFO'));
    expect(info).toContain('noloop');
    expect(info).toContain('bcast');
    const pubsub = String(await server.command('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    expect(pubsub.trim().split('\n')).toHaveLength(1);
  });

  it("two caches over one store: every write path through one drops the other's copy before it resolves", async () => {
    const cases: [string, () => Promise<unknown>, unknown][] = [
      ['set', () => a.set('k', 2), 2],
      ['delete', () => a.delete('k'), undefined],
      ['setMany', () => a.setMany({ k: 3 }), 3],
      ['deleteMany', () => a.deleteMany(['k']), undefined],
      ['increment', () => a.increment('k'), 2],
      ['pull', () => a.pull('k'), undefined],
      ['compareAndSet', () => a.compareAndSet('k', 1, 5), 5],
      ['clear', () => a.clear(), undefined],
      ['a cache without L1', () => plain.set('k', 6), 6],
    ];
    for (const [name, write, expected] of cases) {
      await a.set('k', 1);
      await hold(b, 'k', 1);
      await write();
      // No waiting: the store told b's L1 before the write resolved.
      expect([name, await b.get('k')]).toEqual([name, expected]);
    }
  });

  it('touch and a namespace clear reach the other L1 too', async () => {
    await a.set('t', 1);
    await hold(b, 't', 1);
    await a.touch('t', '1h');
    const before = await hits(b);
    expect(await b.get('t')).toBe(1);
    expect(await hits(b)).toBe(before); // read from Redis: the touch dropped the copy (its expiry changed)
    await a.namespace('ns').set('n', 1);
    await hold(b.namespace('ns'), 'n', 1);
    await a.namespace('ns').clear();
    expect(await b.namespace('ns').get('n')).toBeUndefined();
  });

  it('a write in flight while a read of the key is in flight: the read is not kept stale', async () => {
    for (let i = 0; i < 200; i++) {
      const [, read] = await Promise.all([a.set('race', i), b.get('race')]);
      const [read2] = await Promise.all([b.get('race'), a.set('race', i + 0.5)]);
      expect([i, await b.get('race')]).toEqual([i, i + 0.5]);
      expect(read === undefined || read === i || read === i - 0.5).toBe(true);
      expect(read2 === i || read2 === i + 0.5).toBe(true);
    }
  });

  it('writes by a plain redis-cli still invalidate', async () => {
    await a.set('cli', 'before');
    await hold(b, 'cli', 'before');
    await hold(a, 'cli', 'before');
    expect(cli(server, 'SET', 'own:cli', '"after"')).toBe('OK');
    await waitFor(async () => (await b.get('cli')) === 'after', { timeoutMs: 2000, description: 'cli write (b)' });
    await waitFor(async () => (await a.get('cli')) === 'after', { timeoutMs: 2000, description: 'cli write (a)' });
  });

  it('the command connection killed (CLIENT KILL): flushed, re-armed, a later raw write still invalidates', async () => {
    await a.set('kill', 'v1');
    await hold(b, 'kill', 'v1');
    const flushes = (await b.describeL1())?.flushes ?? 0;
    const id = await store.client.client('ID');
    await server.command('CLIENT', 'KILL', 'ID', String(id));
    await waitFor(async () => ((await b.describeL1())?.flushes ?? 0) > flushes, { timeoutMs: 3000 });
    await up(a);
    await up(b);
    expect(await store.client.client('ID')).not.toBe(id);
    expect(JSON.stringify(await store.client.call('CLIENT', 'TRACKINGINFO'))).toContain('noloop');
    await hold(b, 'kill', 'v1');
    expect(cli(server, 'SET', 'own:kill', '"v2"')).toBe('OK');
    await waitFor(async () => (await b.get('kill')) === 'v2', {
      timeoutMs: 2000,
      description: 'raw write after re-arm',
    });
    await a.set('kill', 'v3');
    expect(await b.get('kill')).toBe('v3');
  });

  it('the subscriber killed: flushed, re-armed with its new id, a later raw write still invalidates', async () => {
    await a.set('sub', 'v1');
    await hold(b, 'sub', 'v1');
    const flushes = (await b.describeL1())?.flushes ?? 0;
    await server.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitFor(async () => ((await b.describeL1())?.flushes ?? 0) > flushes, { timeoutMs: 3000 });
    await up(b);
    await hold(b, 'sub', 'v1');
    expect(cli(server, 'SET', 'own:sub', '"v2"')).toBe('OK');
    await waitFor(async () => (await b.get('sub')) === 'v2', {
      timeoutMs: 2000,
      description: 'raw write after re-arm',
    });
  });
});

describe('L1 tracking on the command connection: caches with different prefixes over one store', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a second prefix re-arms with both; raw writes under each are seen, own writes reach every L1', async () => {
    const store = createRedisStore({ url: server.url });
    const one = new Cache({ store, prefix: 'p1', l1: { invalidation: 'tracking' } });
    await up(one);
    const two = new Cache({ store, prefix: 'p2', l1: { invalidation: 'tracking' } });
    const other = new Cache({ store, prefix: 'p1' });
    try {
      await up(two);
      await up(one);
      await one.set('k', 1);
      await two.set('k', 1);
      await hold(one, 'k', 1);
      await hold(two, 'k', 1);
      expect(cli(server, 'SET', 'p2:k', '2')).toBe('OK');
      await waitFor(async () => (await two.get('k')) === 2, { timeoutMs: 2000, description: 'raw write under p2' });
      expect(cli(server, 'SET', 'p1:k', '3')).toBe('OK');
      await waitFor(async () => (await one.get('k')) === 3, { timeoutMs: 2000, description: 'raw write under p1' });
      await hold(one, 'k', 3);
      await other.set('k', 4);
      expect(await one.get('k')).toBe(4);
    } finally {
      await two.close();
      await one.close();
    }
  });
});

describe('cover: the prefixes tracked for the L1s of one store', () => {
  it('keeps each prefix once and drops those a shorter one covers (Redis refuses overlapping prefixes)', () => {
    expect(cover(['own:', 'own:', 'p2:']).sort()).toEqual(['own:', 'p2:']);
    expect(cover(['own:ns:', 'own:', 'other']).sort()).toEqual(['other', 'own:']);
    expect(cover(['a:', ''])).toEqual(['']);
  });
});
