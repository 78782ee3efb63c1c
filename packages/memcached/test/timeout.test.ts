import { Cache, TimeoutError } from '@larder/core';
import { freezeProcess, type MemcachedCluster } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore } from '../src';
import { memcached } from './helpers';

describe('a node that stops answering (SIGSTOP)', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  beforeAll(async () => {
    cluster = await memcached(2);
    store = await createMemcachedStore({
      servers: cluster.servers.split(','),
      timeout: 300,
      retries: 0,
      ejectAfterFailures: 2,
      retryEjectedAfter: 200,
    });
  });
  afterAll(async () => {
    const pid = cluster?.nodes[0]?.pid;
    if (pid) process.kill(pid, 'SIGCONT');
    await store?.close();
    await cluster?.stop();
  });

  it('times out with TimeoutError (never hangs), ejects the node, and takes it back once it answers', async () => {
    const frozen = cluster.nodes[0]!;
    const key = Array.from({ length: 100 }, (_, i) => `freeze:${i}`).find((k) => store.nodeFor(k) === frozen.address)!;
    await store.set(key, 'v', undefined);
    try {
      await freezeProcess(frozen.pid!);
      const started = Date.now();
      await expect(store.get(key)).rejects.toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(store.ejectedNodes()).toEqual([]);
      // The second failure in a row ejects the node; the read is re-routed to the next node (a miss there).
      expect(await store.get(key)).toBeUndefined();
      expect(store.ejectedNodes()).toEqual([frozen.address]);
      expect(await store.get(key)).toBeUndefined();
    } finally {
      process.kill(frozen.pid!, 'SIGCONT');
    }
    await expect
      .poll(async () => store.nodeFor(key) === frozen.address && (await store.get(key)) !== undefined, {
        timeout: 5000,
        interval: 100,
      })
      .toBe(true);
  });
});

describe('servers built by a serverFactory', () => {
  it("larder's own server, wrapped in place, keeps its deadline: the store still bounds its calls", async () => {
    const store = await createMemcachedStore({
      servers: ['127.0.0.1:1'],
      serverFactory: (node, createDefault) => {
        const server = createDefault(node);
        const write = server.write.bind(server);
        server.write = (blob: Buffer) => write(blob);
        return server;
      },
    });
    try {
      expect(store.capabilities.deadlineMs).toBe(4000);
    } finally {
      await store.close();
    }
  });

  it('another server that never answers: the Cache keeps its own timer (TimeoutError, never a hang)', async () => {
    const silent = { onResponse() {}, onError() {}, write() {}, close() {} };
    const store = await createMemcachedStore({ servers: ['127.0.0.1:1'], serverFactory: () => silent });
    const cache = new Cache({ store, timeout: 300 });
    try {
      expect(store.capabilities.deadlineMs).toBeUndefined();
      const started = Date.now();
      await expect(cache.get('k')).rejects.toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await cache.close();
    }
  });
});
