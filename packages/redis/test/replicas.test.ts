import { type RedisReplicaSet, startRedisReplicaSet, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { commandStats, readCalls, runRedisConformance, text } from './helpers';

describe('redis: primary + explicit replicas', () => {
  let set: RedisReplicaSet;
  let store: RedisStore;
  beforeAll(async () => {
    set = await startRedisReplicaSet({ replicas: 2, sentinels: 0 });
    store = createRedisStore({ url: set.primary.url, replicaUrls: set.replicaUrls.split(','), readFrom: 'replica' });
  });
  afterAll(async () => {
    await store?.close();
    await set?.stop();
  });

  runRedisConformance('redis (primary + replicas, readFrom replica)', () => store);

  describe('read routing', () => {
    let routed: RedisStore;
    beforeAll(async () => {
      routed = createRedisStore({
        url: set.primary.url,
        replicaUrls: set.replicaUrls.split(','),
        readFrom: 'replica',
        readYourWritesMs: 400,
      });
      await waitFor(() => routed.reads.usesReplicas && routed.reads.clientFor('x') !== routed.client, {
        description: 'replica connections',
      });
    });
    afterAll(() => routed?.close());

    it('writes go to the primary, reads of keys not written recently come from replicas', async () => {
      for (let i = 0; i < 20; i++) await set.primary.command('SET', `route:${i}`, `v${i}`);
      // Until both replicas have them (WAIT would need the writer's own connection).
      for (const replica of set.replicas) {
        await waitFor(async () => (await replica.command('EXISTS', 'route:19')) === 1, { description: 'replication' });
      }
      const primarySets = (await commandStats(set.primary)).set ?? 0;
      const before = await Promise.all(set.nodes.map(readCalls));
      for (let i = 0; i < 20; i++) expect(text(await routed.get(`route:${i}`))).toBe(`v${i}`);
      const after = await Promise.all(set.nodes.map(readCalls));
      const delta = after.map((n, i) => n - before[i]!);
      expect(delta[0]).toBe(0); // the primary served no read
      expect(delta[1]! + delta[2]!).toBe(20);
      expect(delta[1]).toBeGreaterThan(0); // round-robin over both replicas
      expect(delta[2]).toBeGreaterThan(0);
      await routed.set('route:w', 'written', 60_000);
      expect((await commandStats(set.primary)).set).toBe(primarySets + 1);
    });

    it('reads a key this process wrote from the primary within the window, then from a replica', async () => {
      const before = await Promise.all(set.nodes.map(readCalls));
      await routed.set('ryw:k', 'fresh', 60_000);
      expect(text(await routed.get('ryw:k'))).toBe('fresh');
      expect(await routed.getMany(['ryw:k', 'route:1'])).toHaveLength(2);
      const mid = await Promise.all(set.nodes.map(readCalls));
      expect(mid[0]! - before[0]!).toBe(2); // GET + MGET on the primary
      expect(mid[1]! + mid[2]! - before[1]! - before[2]!).toBe(0);
      await routed.delete('ryw:k');
      expect(await routed.get('ryw:k')).toBeUndefined();
      await waitFor(() => routed.reads.clientFor('ryw:k') !== routed.client, { description: 'the window to pass' });
      await routed.get('ryw:k');
      const end = await Promise.all(set.nodes.map(readCalls));
      expect(end[0]! - mid[0]!).toBe(1); // only the read right after the delete
      expect(end[1]! + end[2]! - mid[1]! - mid[2]!).toBe(1);
    });

    it('falls back to the primary when the replicas are down', async () => {
      const before = await readCalls(set.primary);
      for (const replica of set.replicas) await replica.kill();
      // Right after the kill a read may still pick a replica whose socket is closing: it is retried on the primary.
      const started = Date.now();
      const values = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => routed.get(`route:${i}`)),
        routed.getMany(['route:1', 'route:2']),
        routed.has('route:3'),
      ]);
      expect(values.slice(0, 10).map(text)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
      expect((values[10] as unknown[]).map(text)).toEqual(['v1', 'v2']);
      expect(values[11]).toBe(true);
      await waitFor(() => routed.reads.clientFor('route:3') === routed.client, {
        description: 'replicas seen as down',
      });
      for (let i = 0; i < 10; i++) expect(text(await routed.get(`route:${i}`))).toBe(`v${i}`);
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await readCalls(set.primary)) - before).toBeGreaterThanOrEqual(10);
    });
  });
});
