import { Cache } from '@larder/core';
import {
  type RedisReplicaSet,
  type RedisServer,
  startRedis,
  startRedisReplicaSet,
  waitFor,
} from '@larder/dev-services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';

/** The clients of a store: the primary and its replica clients (test-only reach into the connection). */
function clientsOf(store: RedisStore): Redis[] {
  const { connection } = store as unknown as { connection: { replicas: Redis[] } };
  return [store.client as Redis, ...connection.replicas];
}

/** Commands the store's clients sent while `run` ran: each is a round trip at most (pipelined ones share one). */
async function commandsDuring(store: RedisStore, run: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const restore: (() => void)[] = [];
  for (const client of clientsOf(store)) {
    const original = client.sendCommand;
    client.sendCommand = function (this: Redis, command, ...rest) {
      sent.push(command.name);
      return original.call(this, command, ...rest);
    } as typeof original;
    restore.push(() => {
      client.sendCommand = original;
    });
  }
  try {
    await run();
  } finally {
    for (const undo of restore) undo();
  }
  return sent;
}

describe('redis tags: round trips of a tagged L2 hit', () => {
  let server: RedisServer;
  let store: RedisStore;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedis();
    store = createRedisStore({ url: server.url });
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await store?.close();
    await server?.stop();
  });

  it('single node: a tagged hit is one command (the script reads the counters); an untagged one in a cache that uses tags is a plain GET', async () => {
    const c = new Cache({ store, prefix: 'rt' });
    await c.set('plain', { a: 1 }, '1m');
    await c.tags(['t1', 't2', 't3']).set('tagged', { a: 1 }, '1m');
    await store.getWithTags?.('rt:absent', 'rt:__larder:tag:'); // the script loaded
    expect(await commandsDuring(store, () => c.get('plain'))).toEqual(['get']);
    expect(await commandsDuring(store, () => c.get('tagged'))).toEqual(['evalsha']);
    expect(await c.get('tagged')).toEqual({ a: 1 });
    await c.invalidateTags(['t2']);
    expect(await commandsDuring(store, () => c.get('tagged'))).toEqual(['evalsha']);
    expect(await c.get('tagged')).toBeUndefined();
  });

  it('single node: a msgpack entry (bytes) carries tags: a hit until its tag is invalidated, then a miss', async () => {
    const c = new Cache({ store, prefix: 'mp', codec: 'msgpack' });
    await c.tags(['t']).set('tagged', { at: new Date(0) }, '1m');
    expect(await c.get('tagged')).toEqual({ at: new Date(0) });
    await c.invalidateTags(['t']);
    expect(await c.get('tagged')).toBeUndefined();
  });

  it('single node: a cache that never used tags reads with a plain GET; its first tagged entry costs one more read, once', async () => {
    const writer = new Cache({ store, prefix: 'rt4' });
    await writer.tags(['t']).set('tagged', 1, '1m');
    await writer.set('plain', 2, '1m');
    const reader = new Cache({ store, prefix: 'rt4' });
    await store.getWithTags?.('rt4:absent', 'rt4:__larder:tag:'); // the script loaded
    expect(await commandsDuring(store, () => reader.get('plain'))).toEqual(['get']);
    expect(await commandsDuring(store, () => reader.get('tagged'))).toEqual(['get', 'get']); // the entry, then its one counter
    expect(await commandsDuring(store, () => reader.get('tagged'))).toEqual(['evalsha']);
  });

  it('single node: a reader that finds mostly tagged entries reads keys it never saw with the script (one command)', async () => {
    const writer = new Cache({ store, prefix: 'rt8' });
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    for (const key of keys) await writer.tags(['t']).set(key, key, '1m');
    const reader = new Cache({ store, prefix: 'rt8' });
    await store.getWithTags?.('rt8:absent', 'rt8:__larder:tag:'); // the script loaded
    const sent: string[][] = [];
    for (const key of keys) sent.push(await commandsDuring(store, () => reader.get(key)));
    expect(sent[0]).toEqual(['get', 'get']); // the entry, then its counter
    expect(sent.at(-1)).toEqual(['evalsha']);
    expect(sent.flat().length).toBeLessThan(150);
    expect(await reader.get('k99')).toBe('k99');
  });

  it('single node: gets of one tick share a script call (tagged) or an MGET (untagged)', async () => {
    const c = new Cache({ store, prefix: 'rt2' });
    await c.tags(['a']).setMany({ x: 1, y: 2 }, '1m');
    await c.set('z', 3, '1m');
    await c.set('w', 4, '1m');
    await c.get('z');
    const sent = await commandsDuring(store, () => Promise.all([c.get('x'), c.get('y'), c.get('z'), c.get('w')]));
    // As gets do with GET + MGET: the first goes alone while the connection is idle, the rest share one call.
    expect(sent.filter((name) => name === 'evalsha')).toEqual(['evalsha', 'evalsha']);
    const plain = sent.filter((name) => name !== 'evalsha');
    expect(plain.length).toBeLessThanOrEqual(2);
    expect(plain.every((name) => name === 'get' || name === 'mget')).toBe(true);
  });

  it('single node: getMany of tagged entries is script calls and reads of the untagged (no second read of the counters)', async () => {
    const c = new Cache({ store, prefix: 'rt5' });
    await c.tags(['a']).setMany({ x: 1, y: 2 }, '1m');
    await c.set('z', 3, '1m');
    const sent = await commandsDuring(store, () => c.getMany(['x', 'y', 'z']));
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((name) => name !== 'evalsha').length).toBeLessThanOrEqual(1);
    expect(sent.every((name) => name === 'evalsha' || name === 'get' || name === 'mget')).toBe(true);
    expect(await c.getMany(['x', 'y', 'z'])).toEqual([1, 2, 3]);
  });

  it('getWithTags: an entry whose counters all equal its recorded versions comes back verified (no counters sent); else with its counters', async () => {
    const c = new Cache({ store, prefix: 'rt6' });
    const prefix = 'rt6:__larder:tag:';
    await c.tags(['a', 'b']).set('k', 1, '1m');
    await c.tags(['a']).set('many', 2, '1m');
    await c.set('plain', 3, '1m');
    const read = (key: string) => store.getWithTags?.(`rt6:${key}`, prefix);
    expect((await read('k'))?.[1]).toBe(true);
    expect(await read('plain')).toEqual([expect.stringContaining('3'), []]);
    expect(await read('absent')).toEqual([undefined, []]);
    // Soft: counter a moved by one; the store sends both counters for core to judge (stale, not gone).
    await c.invalidateTags(['a'], { soft: true });
    const [payload, counters] = (await read('k')) ?? [];
    expect(payload).toEqual(expect.any(String));
    expect(counters).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
    expect(await c.get('k')).toBeUndefined();
    // A counter deleted behind larder's back: sent as missing, and the entry reads as a miss.
    await c.tags(['b']).set('k2', 4, '1m');
    await admin.del(`${prefix}b`);
    expect((await read('k2'))?.[1]).toEqual([undefined]);
    expect(await c.get('k2')).toBeUndefined();
    // Keys read in one tick share a script call and keep their own answers.
    const [k, many, plain] = await Promise.all([read('k'), read('many'), read('plain')]);
    expect([k?.[1], many?.[1], plain?.[1]]).toEqual([[expect.any(String), undefined], [expect.any(String)], []]);
  });

  it('after SCRIPT FLUSH (a restarted or failed-over Redis) tagged reads load the script again (EVAL on NOSCRIPT)', async () => {
    const c = new Cache({ store, prefix: 'rt7' });
    await c.tags(['a']).setMany({ x: 1, y: 2 }, '1m');
    expect(await c.get('x')).toBe(1);
    await admin.script('FLUSH');
    expect(await commandsDuring(store, () => c.get('x'))).toEqual(['evalsha', 'eval']);
    await admin.script('FLUSH');
    expect(await Promise.all([c.get('x'), c.get('y')])).toEqual([1, 2]);
    expect(await c.getMany(['x', 'y'])).toEqual([1, 2]);
  });

  it('the tag state is one counter per tag under the prefix, with an expiry, never without one for an expiring entry', async () => {
    const c = new Cache({ store, prefix: 'rt3' });
    await c.tags(['users']).set('k', 1, 60_000);
    const ttl = await admin.pttl('rt3:__larder:tag:users');
    expect(ttl).toBeGreaterThan(60_000);
    expect(await admin.keys('rt3:*')).toEqual(expect.arrayContaining(['rt3:k', 'rt3:__larder:tag:users']));
    // Invalidating a tag nobody uses makes no state.
    await c.invalidateTags(['nobody']);
    expect(await admin.exists('rt3:__larder:tag:nobody')).toBe(0);
  });

  for (const invalidation of ['tracking', 'bus'] as const) {
    it(`L1 (${invalidation}): another instance's invalidateTags drops the tagged copies; its own writes keep filling its L1`, async () => {
      const l1 = { invalidation, ...(invalidation === 'bus' ? { busUrl: server.url } : {}) };
      const a = new Cache({ store: createRedisStore({ url: server.url }), prefix: `l1${invalidation}`, l1 });
      const b = new Cache({ store: createRedisStore({ url: server.url }), prefix: `l1${invalidation}`, l1 });
      try {
        for (const c of [a, b]) {
          await waitFor(async () => (await c.describeL1())?.state === 'up', { description: 'L1 up' });
        }
        // The first write of a tag makes its counter: under tracking the server announces that to
        // every connection (this one too, from inside the script), so that write does not fill.
        await a.tags(['t']).set('k0', 'v0', '1m');
        await a.tags(['t']).set('k', 'v', '1m');
        await a.tags(['other']).set('o', 'w', '1m');
        await a.tags(['t']).set('k2', 'v2', '1m'); // a second tagged write does not drop the first from its own L1
        // Every instance has processed A's invalidations (on a loaded machine the bus's message for `k`
        // could reach B after B's first read had filled its copy, dropping it).
        await a.syncL1();
        const hits = a.stats().tiers?.l1 ?? 0;
        expect(await a.get('k')).toBe('v');
        expect(a.stats().tiers?.l1).toBe(hits + 1);
        expect(await b.get('k')).toBe('v');
        expect(await b.get('o')).toBe('w');
        const bHits = b.stats().tiers?.l1 ?? 0;
        expect(await b.get('k')).toBe('v');
        expect(b.stats().tiers?.l1).toBe(bHits + 1);
        await a.invalidateTags(['t']);
        expect(await a.get('k')).toBeUndefined();
        await waitFor(async () => (await b.get('k')) === undefined, { description: 'B dropped its copy' });
        expect(await b.get('o')).toBe('w');
      } finally {
        await a.close();
        await b.close();
      }
    });
  }

  describe('primary + replicas, readFrom replica', () => {
    let set: RedisReplicaSet;
    let routed: RedisStore;
    let nodes: Redis[];

    beforeAll(async () => {
      set = await startRedisReplicaSet({ replicas: 2, sentinels: 0 });
      routed = createRedisStore({
        url: set.primary.url,
        replicaUrls: set.replicaUrls.split(','),
        readFrom: 'replica',
        readYourWritesMs: 0,
      });
      nodes = set.nodes.map((node) => new Redis(node.url));
    }, 60_000);
    afterAll(async () => {
      for (const node of nodes ?? []) node.disconnect();
      await routed?.close();
      await set?.stop();
    });

    it('a tagged hit read from a replica is one command, like an untagged one', async () => {
      const c = new Cache({ store: routed, prefix: 'rep' });
      await c.set('plain', 1, '1m');
      await c.tags(['t']).set('tagged', 2, '1m');
      await set.waitForSync();
      await c.get('plain');
      await c.get('tagged');
      expect(await commandsDuring(routed, () => c.get('plain'))).toEqual(['get']);
      expect(await commandsDuring(routed, () => c.get('tagged'))).toEqual(['evalsha']);
      // Answered by a replica: the primary executed no script for these reads.
      const before = scriptsRun(String(await nodes[0]?.call('INFO', 'commandstats')));
      await c.get('tagged');
      expect(scriptsRun(String(await nodes[0]?.call('INFO', 'commandstats')))).toBe(before);
      expect(await c.get('tagged')).toBe(2);
    });
  });
});

/** EVALSHA and EVAL calls in an INFO commandstats text. */
function scriptsRun(stats: string): number {
  let total = 0;
  for (const match of stats.matchAll(/cmdstat_(evalsha|eval):calls=(\d+)/g)) total += Number(match[2]);
  return total;
}
