import {
  type FaultProxy,
  type RedisReplicaSet,
  type RedisServer,
  startFaultProxy,
  startRedis,
  startRedisReplicaSet,
  waitFor,
} from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { settlesWithError, text } from './helpers';

const TIMEOUT_MS = 500;
// A call settles within its timeout plus scheduling slack on a loaded 2-core box.
const SETTLE_MS = TIMEOUT_MS + 400;
const RECOVER_MS = 5000;

const proxyUrl = (proxy: FaultProxy) => `redis://${proxy.host}:${proxy.port}`;

/** Every call fails in time while half-open, and the store works again by itself after the fault ends. */
async function halfOpenThenRecover(store: RedisStore, proxies: FaultProxy[], key: string): Promise<number> {
  await store.set(key, 'before', 60_000);
  // (Replica reads may lag the write a moment.)
  await waitFor(async () => text(await store.get(key)) === 'before', { description: 'the first read' });
  for (const proxy of proxies) proxy.setFault({ kind: 'halfOpen' });
  // Several rounds: the first times out, later ones meet a reconnecting (or again half-open) client.
  for (let round = 0; round < 3; round++) {
    await Promise.all([
      settlesWithError(() => store.get(key), SETTLE_MS),
      settlesWithError(() => store.set(key, 'during', 60_000), SETTLE_MS),
      settlesWithError(() => store.getMany([key, `${key}:2`]), SETTLE_MS),
      settlesWithError(() => store.increment(`${key}:n`, 1, undefined), SETTLE_MS),
    ]);
  }
  for (const proxy of proxies) proxy.clear();
  const cleared = Date.now();
  await waitFor(
    () =>
      store.set(key, 'after', 60_000).then(
        () => true,
        () => false,
      ),
    { timeoutMs: RECOVER_MS, description: 'writes to work again after the fault' },
  );
  await waitFor(async () => text(await store.get(key).catch(() => undefined)) === 'after', {
    timeoutMs: RECOVER_MS,
    description: 'reads to work again after the fault',
  });
  return Date.now() - cleared;
}

describe('redis: a half-open connection', () => {
  describe('single node', () => {
    let server: RedisServer;
    let proxy: FaultProxy;
    let store: RedisStore;
    beforeAll(async () => {
      server = await startRedis();
      proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
      store = createRedisStore({ url: proxyUrl(proxy), commandTimeoutMs: TIMEOUT_MS });
    });
    afterAll(async () => {
      await store?.close();
      await proxy?.close();
      await server?.stop();
    });

    it('times every call out in time and reconnects by itself when the network is back', async () => {
      const recovered = await halfOpenThenRecover(store, [proxy], 'ho:single');
      expect(recovered).toBeLessThan(RECOVER_MS);
    });
  });

  describe('primary + replicas (replica reads)', () => {
    let set: RedisReplicaSet;
    let proxies: FaultProxy[];
    let store: RedisStore;
    beforeAll(async () => {
      set = await startRedisReplicaSet({ replicas: 2, sentinels: 0 });
      proxies = await Promise.all(
        set.nodes.map((node) => startFaultProxy({ target: { host: node.host, port: node.port } })),
      );
      store = createRedisStore({
        url: proxyUrl(proxies[0]!),
        replicaUrls: proxies.slice(1).map(proxyUrl),
        readFrom: 'replica',
        readYourWritesMs: 0,
        commandTimeoutMs: TIMEOUT_MS,
      });
      await waitFor(() => store.reads.clientFor('x') !== store.client, { description: 'replica connections' });
    });
    afterAll(async () => {
      await store?.close();
      for (const proxy of proxies ?? []) await proxy.close();
      await set?.stop();
    });

    it('times every call out in time and reconnects primary and replicas by themselves', async () => {
      const recovered = await halfOpenThenRecover(store, proxies, 'ho:replicas');
      expect(recovered).toBeLessThan(RECOVER_MS);
      // Reads go to the replicas again (not only to the primary).
      await waitFor(() => store.reads.clientFor('x') !== store.client, {
        timeoutMs: RECOVER_MS,
        description: 'replicas used again',
      });
    });
  });
});
