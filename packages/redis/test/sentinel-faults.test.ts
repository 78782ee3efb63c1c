import { type FaultProxy, type RedisReplicaSet, startRedisReplicaSet, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { hostPorts, proxyEachNode, settlesWithError, text } from './helpers';

const TIMEOUT_MS = 500;
const SETTLE_MS = TIMEOUT_MS + 400;
const RECOVER_MS = 8000;

/**
 * Sentinel mode with a fault proxy in front of every data node: ioredis's `natMap` turns the
 * address the Sentinel names into the proxy's. The Sentinel itself is reached directly (it sees
 * the nodes fine, so it does not fail over: the store must get out of the dead connection itself).
 */
describe('redis: Sentinel, data nodes behind fault proxies', () => {
  let set: RedisReplicaSet;
  let proxies: FaultProxy[];
  let store: RedisStore;
  beforeAll(async () => {
    set = await startRedisReplicaSet({ replicas: 1, sentinels: 1 });
    const proxied = await proxyEachNode(set.nodes);
    proxies = proxied.proxies;
    store = createRedisStore({
      sentinels: hostPorts(set.sentinelAddresses),
      sentinelName: set.masterName,
      commandTimeoutMs: TIMEOUT_MS,
      redisOptions: { natMap: proxied.natMap },
    });
  });
  afterAll(async () => {
    await store?.close();
    for (const proxy of proxies ?? []) await proxy.close();
    await set?.stop();
  });

  it('half-open data nodes: calls settle in time with a typed error; the store recovers by itself', async () => {
    await store.set('sho:k', 'before', 60_000);
    expect(text(await store.get('sho:k'))).toBe('before');
    expect(proxies[0]!.connections).toBeGreaterThan(0); // the primary connection goes through its proxy
    for (const proxy of proxies) proxy.setFault({ kind: 'halfOpen' });
    for (let round = 0; round < 3; round++) {
      const calls = [
        () => store.get('sho:k'),
        () => store.set('sho:k', 'during', 60_000),
        () => store.getMany(['sho:k', 'sho:none']),
        () => store.increment('sho:n', 1, undefined),
      ];
      await Promise.all(calls.map((call) => settlesWithError(call, SETTLE_MS)));
    }
    for (const proxy of proxies) proxy.clear();
    await waitFor(
      async () => {
        await store.set('sho:k', 'after', 60_000);
        return text(await store.get('sho:k')) === 'after';
      },
      { timeoutMs: RECOVER_MS, description: 'the Sentinel store to work again' },
    );
  });
});
