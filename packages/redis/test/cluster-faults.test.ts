import { type FaultProxy, type RedisCluster, startRedisCluster, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { proxyEachNode, settlesWithError, text } from './helpers';

const TIMEOUT_MS = 500;
const SETTLE_MS = TIMEOUT_MS + 400;
const RECOVER_MS = 8000;

/**
 * Cluster behind one fault proxy per node: ioredis's `natMap` turns the addresses CLUSTER SLOTS
 * announces into the proxies', so every connection the store makes goes through a proxy.
 */
describe('redis: Cluster behind fault proxies', () => {
  let cluster: RedisCluster;
  let proxies: FaultProxy[];
  let store: RedisStore;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
    const proxied = await proxyEachNode(cluster.nodes);
    proxies = proxied.proxies;
    store = createRedisStore({
      clusterNodes: proxies.map((p) => ({ host: p.host, port: p.port })),
      clusterOptions: { natMap: proxied.natMap },
      commandTimeoutMs: TIMEOUT_MS,
    });
  });
  afterAll(async () => {
    await store?.close();
    for (const proxy of proxies ?? []) await proxy.close();
    await cluster?.stop();
  });

  it('half-open on every node: calls settle in time with a typed error; the store recovers by itself', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `cho:${i}`);
    await store.setMany(
      keys.map((key) => [key, key] as const),
      60_000,
    );
    expect((await store.getMany(keys)).map(text)).toEqual(keys);
    // Every connection of the store is proxied.
    expect(proxies.every((p) => p.connections > 0)).toBe(true);

    for (const proxy of proxies) proxy.setFault({ kind: 'halfOpen' });
    for (let round = 0; round < 2; round++) {
      const calls = [
        () => store.get(keys[0]!),
        () => store.set(keys[1]!, 'during', 60_000),
        () => store.getMany(keys),
        () => store.increment('cho:n', 1, undefined),
        () =>
          store.setMany(
            keys.map((key) => [key, key] as const),
            60_000,
          ),
      ];
      await Promise.all(calls.map((call) => settlesWithError(call, SETTLE_MS)));
    }
    for (const proxy of proxies) proxy.clear();
    await waitFor(
      async () => {
        await store.set('cho:after', 'after', 60_000);
        return (await store.getMany(keys)).every((v, i) => text(v) === keys[i] || (i === 1 && text(v) === 'during'));
      },
      { timeoutMs: RECOVER_MS, description: 'the Cluster store to work again' },
    );
    expect(text(await store.get('cho:after'))).toBe('after');
  });
});
