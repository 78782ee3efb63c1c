import { BackendError } from '@larder/core';
import { type MemcachedCluster, memcachedAsciiStats } from '@larder/dev-services';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore } from '../src';
import { CasMemo } from '../src/cas-memo';
import type { Node } from '../src/topology';
import { countingFactory, memcached, text, waitFor } from './helpers';

/** The store's CAS memo (internal: its size is what the bounds are about). */
const memoOf = (store: MemcachedStore) => (store as unknown as { casMemo: CasMemo }).casMemo;

const COUNTED = ['cmd_get', 'get_hits', 'cmd_set', 'cas_hits', 'cas_misses', 'cas_badval'] as const;
type Counts = Record<(typeof COUNTED)[number], number>;

/** The server's command counters (its own `stats` request counts in none of them). */
async function counts(cluster: MemcachedCluster, index = 0): Promise<Counts> {
  const { stats } = await memcachedAsciiStats(cluster.nodes[index]!);
  return Object.fromEntries(COUNTED.map((name) => [name, Number(stats[name])])) as Counts;
}

/** What the server counted between two snapshots. */
function delta(before: Counts, after: Counts): Counts {
  return Object.fromEntries(COUNTED.map((name) => [name, after[name] - before[name]])) as Counts;
}

describe('compareAndSet after a get of the same key: one round trip (1 node, counted at the server)', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  let other: MemcachedStore;
  const counter = countingFactory();

  beforeAll(async () => {
    cluster = await memcached(1);
    store = await createMemcachedStore({ servers: cluster.servers.split(','), serverFactory: counter.factory });
    other = await createMemcachedStore({ servers: cluster.servers.split(',') });
  });
  afterAll(async () => {
    await store?.close();
    await other?.close();
    await cluster?.stop();
  });

  it('get + compareAndSet = 2 requests: one GET, one SET with its CAS', async () => {
    await store.set('rt:a', 'v1', 60_000);
    const before = await counts(cluster);
    const writes = counter.total();
    expect(text(await store.get('rt:a'))).toBe('v1');
    expect(await store.compareAndSet('rt:a', 'v1', 'v2', 60_000)).toBe(true);
    expect(counter.total() - writes).toBe(2);
    expect(delta(before, await counts(cluster))).toEqual({
      cmd_get: 1,
      get_hits: 1,
      cmd_set: 1,
      cas_hits: 1,
      cas_misses: 0,
      cas_badval: 0,
    });
    expect(text(await other.get('rt:a'))).toBe('v2');
  });

  it('gets of one tick (a quiet multi-get) carry the CAS too: each compareAndSet is one request', async () => {
    await store.setMany(
      [
        ['rt:m1', 'a'],
        ['rt:m2', 'b'],
      ],
      60_000,
    );
    const before = await counts(cluster);
    const writes = counter.total();
    const read = await Promise.all([store.get('rt:m1'), store.get('rt:m2')]);
    expect(read.map(text)).toEqual(['a', 'b']);
    const written = await Promise.all([
      store.compareAndSet('rt:m1', 'a', 'a2', 60_000),
      store.compareAndSet('rt:m2', 'b', 'b2', 60_000),
    ]);
    expect(written).toEqual([true, true]);
    // One batched get request, then the two CAS sets (written in one tick, still one write each).
    expect(counter.total() - writes).toBe(3);
    const counted = delta(before, await counts(cluster));
    expect(counted.cmd_set).toBe(2);
    expect(counted.cas_hits).toBe(2);
    expect(counted.cmd_get).toBe(2);
  });

  it('another client wrote a different value in between: false, and its value stays', async () => {
    await store.set('rt:b', 'mine', 60_000);
    expect(text(await store.get('rt:b'))).toBe('mine');
    await other.set('rt:b', 'theirs', 60_000);
    expect(await store.compareAndSet('rt:b', 'mine', 'next', 60_000)).toBe(false);
    expect(text(await other.get('rt:b'))).toBe('theirs');
  });

  it('another client changed it and back to the expected value: the stale CAS fails, the re-read succeeds', async () => {
    await store.set('rt:c', 'same', 60_000);
    expect(text(await store.get('rt:c'))).toBe('same');
    await other.set('rt:c', 'changed', 60_000);
    await other.set('rt:c', 'same', 60_000);
    const before = await counts(cluster);
    expect(await store.compareAndSet('rt:c', 'same', 'next', 60_000)).toBe(true);
    const counted = delta(before, await counts(cluster));
    // The memoized CAS is refused (badval), then GET + SET with the fresh CAS.
    expect(counted).toMatchObject({ cas_badval: 1, cas_hits: 1, cmd_get: 1 });
    expect(text(await other.get('rt:c'))).toBe('next');
  });

  it('a memoized value unlike the expected one is never a plain false: the caller may have read a newer one', async () => {
    await store.set('rt:d', 'old', 60_000);
    expect(text(await store.get('rt:d'))).toBe('old');
    await other.set('rt:d', 'newer', 60_000);
    expect(await store.compareAndSet('rt:d', 'newer', 'next', 60_000)).toBe(true);
    expect(text(await other.get('rt:d'))).toBe('next');
  });

  it('a deleted key: false, nothing written', async () => {
    await store.set('rt:e', 'x', 60_000);
    expect(text(await store.get('rt:e'))).toBe('x');
    await other.delete('rt:e');
    expect(await store.compareAndSet('rt:e', 'x', 'y', 60_000)).toBe(false);
    expect(await other.get('rt:e')).toBeUndefined();
  });

  it("this store's own writes, deletes, touches and counters drop the key's entry", async () => {
    const memo = memoOf(store);
    const ops: [string, (key: string) => Promise<unknown>][] = [
      ['set', (k) => store.set(k, 'n', 60_000)],
      ['setMany', (k) => store.setMany([[k, 'n']], 60_000)],
      ['add', (k) => store.add(k, 'n', 60_000)],
      ['delete', (k) => store.delete(k)],
      ['deleteMany', (k) => store.deleteMany([k])],
      ['touch', (k) => store.touch(k, 60_000)],
      ['increment', (k) => store.increment(k, 1, 60_000).catch(() => undefined)],
      ['pull', (k) => store.pull(k)],
      ['compareAndDelete', (k) => store.compareAndDelete(k, 'nope')],
      ['compareAndSet absent', (k) => store.compareAndSet(k, undefined, 'n', 60_000)],
    ];
    for (const [name, op] of ops) {
      const key = `rt:own:${name}`;
      await store.set(key, '1', 60_000);
      expect(text(await store.get(key))).toBe('1');
      expect(memo.size, name).toBe(1);
      await op(key);
      expect(memo.size, name).toBe(0);
    }
  });

  it('stays within its entry cap under many keys, and a miss drops the entry', async () => {
    const memo = memoOf(store);
    const keys = Array.from({ length: 3000 }, (_, i) => `rt:many:${i}`);
    await store.setMany(
      keys.map((key) => [key, key] as const),
      60_000,
    );
    let most = 0;
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((key) => store.get(key)));
      most = Math.max(most, memo.size);
    }
    expect(most).toBe(memo.limits.maxEntries);
    const last = keys.at(-1)!;
    await other.delete(last);
    const size = memo.size;
    expect(await store.get(last)).toBeUndefined();
    expect(memo.size).toBe(size - 1);
  });

  it('a restarted server hands out CAS values again: an entry from the old connection is not used', async () => {
    await store.close();
    await other.close();
    await cluster.restart(0);
    store = await createMemcachedStore({ servers: cluster.servers.split(',') });
    other = await createMemcachedStore({ servers: cluster.servers.split(',') });
    // Fresh server: the key's CAS is 1.
    await other.set('rt:restart', 'before', 60_000);
    expect(text(await store.get('rt:restart'))).toBe('before');
    await cluster.restart(0);
    // The new server gives its first item CAS 1 again, with another value.
    await waitFor(() => other.set('rt:restart', 'after', 60_000).then(() => true), {
      description: 'other reconnected',
    });
    // The store reconnects (a new connection) through another key: its entry of 'rt:restart' is the old one.
    await waitFor(() => store.get('rt:other').then(() => true), { description: 'store reconnected' });
    expect(memoOf(store).size).toBe(1);
    expect(await store.compareAndSet('rt:restart', 'before', 'wrong', 60_000)).toBe(false);
    expect(text(await other.get('rt:restart'))).toBe('after');
  });
});

describe('CasMemo bounds', () => {
  const node = { id: 'n', connection: { connectionId: () => 1 } } as unknown as Node;
  const answer = (value: string, cas = 7) => {
    const header = { opcode: 0, status: 0, opaque: 0, totalBodyLength: value.length, cas: Buffer.alloc(8) };
    header.cas.writeBigUInt64BE(BigInt(cas));
    return { header, key: Buffer.alloc(0), extras: Buffer.alloc(0), val: Buffer.from(value) };
  };
  let memo: CasMemo | undefined;
  afterEach(() => memo?.clear());

  it('evicts the oldest past the entry and byte caps, and keeps no value over the value cap', () => {
    memo = new CasMemo({ maxEntries: 3, maxBytes: 10, maxValueBytes: 6 });
    for (const key of ['a', 'b', 'c', 'd']) memo.remember(key, node, answer('xx'));
    expect(memo.size).toBe(3);
    expect(memo.take('a', node)).toBeUndefined();
    memo.remember('e', node, answer('123456'));
    expect(memo.heldBytes).toBeLessThanOrEqual(10);
    memo.remember('f', node, answer('1234567'));
    expect(memo.take('f', node)).toBeUndefined();
  });

  it('keeps nothing for CAS 0 (memcached -C): a SET carrying it would be unconditional', () => {
    memo = new CasMemo();
    memo.remember('k', node, answer('v', 0));
    expect(memo.size).toBe(0);
  });

  it('holds copies, not views of the received bytes', () => {
    memo = new CasMemo();
    const received = answer('value');
    memo.remember('k', node, received);
    received.val.fill(0);
    received.header.cas.fill(0);
    const entry = memo.take('k', node)!;
    expect(entry.bytes.subarray(8).toString()).toBe('value');
    expect(entry.bytes.readBigUInt64BE(0)).toBe(7n);
  });

  it('a re-read of the same item (same CAS) keeps its copy; a new CAS takes a new one', () => {
    memo = new CasMemo();
    const held = (m: CasMemo) => (m as unknown as { entries: Map<string, { bytes: Buffer }> }).entries.get('k')!.bytes;
    memo.remember('k', node, answer('v1', 5));
    const first = held(memo);
    memo.remember('k', node, answer('v1', 5));
    expect(held(memo)).toBe(first);
    memo.remember('k', node, answer('v2', 6));
    expect(held(memo)).not.toBe(first);
    expect(memo.size).toBe(1);
    expect(memo.take('k', node)!.bytes.subarray(8).toString()).toBe('v2');
  });

  it('forgets entries past the age cap, without any further call', async () => {
    memo = new CasMemo({ maxAgeMs: 30 });
    memo.remember('k', node, answer('v'));
    await waitFor(() => memo!.size === 0, { description: 'aged out' });
    memo.remember('k', node, answer('v'));
    expect(memo.size).toBe(1);
  });

  it('is not used for another node or another connection', () => {
    memo = new CasMemo();
    const other = { id: 'o', connection: { connectionId: () => 1 } } as unknown as Node;
    memo.remember('k', node, answer('v'));
    expect(memo.take('k', other)).toBeUndefined();
    let id = 1;
    const reconnecting = { id: 'r', connection: { connectionId: () => id } } as unknown as Node;
    memo.remember('k', reconnecting, answer('v'));
    id = 2;
    expect(memo.take('k', reconnecting)).toBeUndefined();
  });
});

describe('the memo when a node leaves the ring (2 nodes)', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  beforeAll(async () => {
    cluster = await memcached(2);
    store = await createMemcachedStore({ servers: cluster.servers.split(','), timeout: 200, retries: 0 });
  });
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('forgets every entry: keys may live on another node now', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `ring:${i}`);
    await store.setMany(
      keys.map((key) => [key, key] as const),
      60_000,
    );
    for (const key of keys) await store.get(key);
    expect(memoOf(store).size).toBe(keys.length);
    const victim = cluster.nodes[1]!.address;
    const key = keys.find((k) => store.nodeFor(k) === victim)!;
    await cluster.kill(1);
    await waitFor(
      async () => {
        await store.get(key).catch(() => undefined);
        return store.ejectedNodes().includes(victim);
      },
      { description: 'node ejected' },
    );
    expect(memoOf(store).size).toBe(0);
  });
});

describe('on a memcached with CAS disabled (-C)', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  let other: MemcachedStore;
  beforeAll(async () => {
    cluster = await memcached(1, { args: ['-C'] });
    store = await createMemcachedStore({ servers: cluster.servers.split(',') });
    other = await createMemcachedStore({ servers: cluster.servers.split(',') });
  });
  afterAll(async () => {
    await store?.close();
    await other?.close();
    await cluster?.stop();
  });

  it('a get answers CAS 0, which is not kept: a write in between still makes compareAndSet false', async () => {
    await store.set('nocas:a', 'mine', 60_000);
    expect(text(await store.get('nocas:a'))).toBe('mine');
    expect(memoOf(store).size).toBe(0);
    await other.set('nocas:a', 'theirs', 60_000);
    expect(await store.compareAndSet('nocas:a', 'mine', 'next', 60_000)).toBe(false);
    expect(text(await other.get('nocas:a'))).toBe('theirs');
  });

  it('an operation that needs a conditional write fails with BackendError (a CAS 0 write would be unconditional) and changes nothing', async () => {
    await store.set('nocas:b', 'same', 60_000);
    await store.set('nocas:n', '41', 60_000);
    const calls: [string, () => Promise<unknown>][] = [
      ['compareAndSet', () => store.compareAndSet('nocas:b', 'same', 'next', 60_000)],
      ['compareAndDelete', () => store.compareAndDelete('nocas:b', 'same')],
      ['pull', () => store.pull('nocas:b')],
      // A negative delta is a read-modify-write with CAS (a positive one is memcached's own INCR, atomic without CAS).
      ['increment', () => store.increment('nocas:n', -1, 60_000)],
    ];
    for (const [name, call] of calls) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(BackendError);
      expect((error as Error).message, name).toMatch(/CAS disabled, -C/);
    }
    expect(text(await other.get('nocas:b'))).toBe('same');
    expect(text(await other.get('nocas:n'))).toBe('41');
  });
});
