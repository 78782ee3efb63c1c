import { randomBytes } from 'node:crypto';
import { Cache } from '@larder/core';
import { type RedisCluster, startRedisCluster, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../src/cluster-slots';
import { createRedisStore, type RedisStore } from '../src/index';
import { commandStats, hostPorts, runRedisConformance, text } from './helpers';

/**
 * Four concurrent readers cycling over `keys` until `stop()` (failover tests): counts reads, errors (pausing 5 ms
 * after each), values that differ from their key, the slowest successful read and when the last error happened.
 */
function readLoad(store: RedisStore, keys: string[]) {
  const stats = { reads: 0, errors: 0, wrong: 0, slowest: 0, lastErrorAt: 0 };
  let running = true;
  const reader = async () => {
    let i = 0;
    while (running) {
      const key = keys[i++ % keys.length]!;
      const t0 = Date.now();
      try {
        const value = await store.get(key);
        if (text(value) !== key) stats.wrong++;
        stats.reads++;
        stats.slowest = Math.max(stats.slowest, Date.now() - t0);
      } catch {
        stats.errors++;
        stats.lastErrorAt = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  const readers = Array.from({ length: 4 }, reader);
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(readers);
    },
  };
}

describe('redis: Cluster', () => {
  let cluster: RedisCluster;
  let store: RedisStore;
  // The conformance suite's store: a 1 MiB item limit (as on a single node), so the chunked group
  // splits its 5 MB values into chunks; 10 s per command for its 60 MB of concurrent writes. The
  // fault tests below keep the defaults.
  let suiteStore: RedisStore;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    store = createRedisStore({ clusterNodes: hostPorts(cluster.startupNodes) });
    suiteStore = createRedisStore({
      clusterNodes: hostPorts(cluster.startupNodes),
      maxValueBytes: 1024 * 1024,
      commandTimeoutMs: 10_000,
    });
  });
  afterAll(async () => {
    await store?.close();
    await suiteStore?.close();
    await cluster?.stop();
  });

  runRedisConformance('redis (Cluster)', () => suiteStore);

  it('a 5 MB value is chunked in one slot (a hash-tagged suffix) and its chunks are read by one MGET, byte-exact', async () => {
    const cache = new Cache({ store: suiteStore, prefix: 'chunks:', maxValueBytes: '16mb', timeout: '20s' });
    const value = randomBytes(5 * 1024 * 1024);
    await cache.set('page', value, '1m');
    const index = (await suiteStore.get('chunks:page')) as Uint8Array;
    // The index names its chunks: 0x1E 'L' 'V', flags 8, suffix length, suffix, count.
    const bytes = Buffer.from(index);
    expect([...bytes.subarray(0, 4)]).toEqual([0x1e, 0x4c, 0x56, 8]);
    const suffix = bytes.toString('latin1', 5, 5 + (bytes[4] as number));
    const count = bytes.readUInt32BE(5 + (bytes[4] as number));
    const names = Array.from({ length: count }, (_, i) => `chunks:page~c${suffix}:${i}`);
    expect(count).toBe(6);
    expect(new Set(names.map(keySlot)).size).toBe(1);
    const masters = await cluster.masters();
    const mgetsBefore = await Promise.all(masters.map(async (m) => (await commandStats(m)).mget ?? 0));
    const read = (await cache.get('page')) as Buffer;
    expect(Buffer.compare(read, value)).toBe(0);
    const mgetsAfter = await Promise.all(masters.map(async (m) => (await commandStats(m)).mget ?? 0));
    const mgets = mgetsAfter.reduce((sum, n, i) => sum + n - (mgetsBefore[i] as number), 0);
    // The index is one GET, its six chunks one MGET.
    expect(mgets).toBe(1);
    await cache.delete('page');
    expect(await suiteStore.getMany(names)).toEqual(names.map(() => undefined));
  });

  it('getMany / setMany / deleteMany over keys in many slots, without CROSSSLOT', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `multi:${i}`);
    expect(new Set(keys.map(keySlot)).size).toBeGreaterThan(250);
    await store.setMany(
      keys.map((key, i) => [key, `v${i}`] as const),
      60_000,
    );
    await store.setMany(
      keys.slice(0, 50).map((key, i) => [key, `w${i}`] as const),
      undefined,
    );
    const values = await store.getMany([...keys, 'multi:absent']);
    expect(values.slice(0, 50).map(text)).toEqual(keys.slice(0, 50).map((_, i) => `w${i}`));
    expect(values.slice(50, 300).map(text)).toEqual(keys.slice(50).map((_, i) => `v${i + 50}`));
    expect(values[300]).toBeUndefined();
    // Same-tick gets are batched per slot.
    const got = await Promise.all(keys.slice(100, 200).map((key) => store.get(key)));
    expect(got.map(text)).toEqual(keys.slice(100, 200).map((_, i) => `v${i + 100}`));
    expect(await store.deleteMany([...keys.slice(0, 150), 'multi:absent'])).toBe(150);
    expect((await store.getMany(keys)).filter((v) => v !== undefined)).toHaveLength(150);
    // Keys on every master, then clear removes them everywhere and nothing else.
    const masters = await cluster.masters();
    const holding = await Promise.all(
      masters.map(async (m) => Number((await m.command('EVAL', "return #redis.call('KEYS', 'multi:*')", 0)) ?? 0)),
    );
    expect(holding.every((n) => n > 0)).toBe(true);
    await store.set('other:keep', 'x', undefined);
    await store.clear('multi:');
    for (const m of masters) expect(await m.command('EVAL', "return #redis.call('KEYS', 'multi:*')", 0)).toBe(0);
    expect(text(await store.get('other:keep'))).toBe('x');
    for (const m of masters) {
      const stats = await commandStats(m);
      expect(stats.flushdb ?? 0).toBe(0);
      expect(stats.flushall ?? 0).toBe(0);
    }
  });

  it('keeps serving reads while one shard fails over', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `fo:${i}`);
    await store.setMany(
      keys.map((key) => [key, key] as const),
      undefined,
    );
    const load = readLoad(store, keys);
    const { stats } = load;
    try {
      await waitFor(() => stats.reads > 200, { description: 'steady reads' });
      const started = Date.now();
      const promoted = await cluster.failover(undefined, 20_000);
      const readsAtFailover = stats.reads;
      await waitFor(() => stats.reads > readsAtFailover + 500, { description: 'reads after the failover' });
      const { reads, errors, wrong } = stats;
      console.log(
        `[redis cluster failover] ${JSON.stringify({ promoted: promoted.port, seconds: (Date.now() - started) / 1000, reads, errors, wrong })}`,
      );
    } finally {
      await load.stop();
    }
    expect(stats.wrong).toBe(0);
    // CLUSTER FAILOVER is coordinated (no data loss): reads should keep succeeding; allow a few transient errors.
    expect(stats.errors).toBeLessThan(stats.reads / 10);
    expect((await store.getMany(keys)).map(text)).toEqual(keys);
  }, 60_000);
  it('readFrom replica reads from replica nodes (scaleReads) and keeps read-your-writes', async () => {
    const reader = createRedisStore({
      clusterNodes: hostPorts(cluster.startupNodes),
      readFrom: 'replica',
      clusterOptions: { slotsRefreshInterval: 500 },
    });
    try {
      const keys = Array.from({ length: 60 }, (_, i) => `rr:${i}`);
      await store.setMany(
        keys.map((key) => [key, key] as const),
        undefined,
      );
      // Until every replica has them (counted before the measured reads).
      await waitFor(async () => (await reader.getMany(keys)).every((v) => v !== undefined), {
        description: 'replication',
      });
      const replicas = await cluster.replicas();
      const masters = await cluster.masters();
      const reads = async (nodes: typeof masters) => {
        let total = 0;
        for (const n of nodes) {
          const stats = await commandStats(n);
          total += (stats.get ?? 0) + (stats.mget ?? 0);
        }
        return total;
      };
      // ioredis learns the replicas from CLUSTER SLOTS; in a cluster formed a moment ago they may show up
      // only at a later slots refresh (slotsRefreshInterval), so wait until replica reads happen.
      await waitFor(
        async () => {
          const before = await reads(replicas);
          await reader.get(keys[0]!);
          return (await reads(replicas)) > before;
        },
        { timeoutMs: 20_000, intervalMs: 200, description: 'reads served by replicas' },
      );
      const [r0, m0] = [await reads(replicas), await reads(masters)];
      for (const key of keys) expect(text(await reader.get(key))).toBe(key);
      const [r1, m1] = [await reads(replicas), await reads(masters)];
      expect(r1 - r0).toBe(60);
      expect(m1 - m0).toBe(0);
      await reader.set('rr:own', 'mine', 60_000);
      expect(text(await reader.get('rr:own'))).toBe('mine');
      expect((await reads(masters)) - m1).toBe(1);
    } finally {
      await reader.close();
    }
  });

  it('durableWrites WAITs on the master that owns the key', async () => {
    const durable = createRedisStore({
      clusterNodes: hostPorts(cluster.startupNodes),
      durableWrites: { replicas: 1, timeoutMs: 1500 }, // below commandTimeoutMs (2 s by default)
    });
    try {
      for (let i = 0; i < 10; i++) await durable.set(`durable:${i}`, 'x', 60_000);
      expect(await durable.increment('durable:n', 2, undefined)).toBe(2);
      const waits = await Promise.all((await cluster.masters()).map(async (m) => (await commandStats(m)).wait ?? 0));
      expect(waits.filter((n) => n > 0).length).toBeGreaterThan(1);
    } finally {
      await durable.close();
    }
  });

  it('a killed master: errors stop once its replica is promoted, without restarting the store', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `kill:${i}`);
    await store.setMany(
      keys.map((key) => [key, key] as const),
      undefined,
    );
    const load = readLoad(store, keys);
    const { stats } = load;
    let report: Record<string, unknown> = {};
    try {
      await waitFor(() => stats.reads > 200, { description: 'steady reads' });
      const killedAt = Date.now();
      const { killed, promoted } = await cluster.killMaster(undefined, 30_000);
      const readsAt = stats.reads;
      await waitFor(() => stats.reads > readsAt + 500, { timeoutMs: 20_000, description: 'reads after the promotion' });
      report = {
        killed: killed.port,
        promoted: promoted.port,
        promotedAfterSeconds: (Date.now() - killedAt) / 1000,
        reads: stats.reads,
        errors: stats.errors,
        errorWindowSeconds: stats.errors ? (stats.lastErrorAt - killedAt) / 1000 : 0,
        slowestReadMs: stats.slowest,
      };
      console.log(`[redis cluster master killed] ${JSON.stringify(report)}`);
    } finally {
      await load.stop();
    }
    expect((await store.getMany(keys)).map(text)).toEqual(keys);
  }, 60_000);
});
