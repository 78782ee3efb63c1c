import {
  type ElastiCacheEmulator,
  type MemcachedCluster,
  memcachedAsciiStats,
  startElastiCacheEmulator,
} from '@larder/dev-services';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore, type TopologyEvent } from '../src';
import { memcached, text, waitFor } from './helpers';

const POLL_MS = 200;
const itemsOn = async (node: { host: string; port: number }) =>
  Number((await memcachedAsciiStats({ host: node.host, port: node.port })).stats.curr_items);

describe('topology changes with real memcached behind the ElastiCache emulator', () => {
  let cluster: MemcachedCluster;
  let emulator: ElastiCacheEmulator;
  let store: MemcachedStore | undefined;
  const entry = (i: number) => ({
    host: `node${i}.cache.local`,
    ip: cluster.nodes[i]!.host,
    port: cluster.nodes[i]!.port,
  });

  beforeAll(async () => {
    cluster = await memcached(4);
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await emulator?.stop();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a 4th node gets keys within one poll interval and >= 60% of earlier keys still hit', async () => {
    emulator = await startElastiCacheEmulator({ nodes: [0, 1, 2].map(entry), version: 1 });
    store = await createMemcachedStore({ configEndpoint: emulator.endpoint, discoveryInterval: POLL_MS });
    const s = store;
    const keys = Array.from({ length: 1000 }, (_, i) => `topo:add:${i}`);
    await s.setMany(
      keys.map((key) => [key, key] as const),
      undefined,
    );
    const before = await itemsOn(cluster.nodes[3]!);
    const topology = new Promise<TopologyEvent>((resolve) => s.events.once('topology', resolve));
    const changedAt = Date.now();
    const requestsAtChange = emulator.requests;
    emulator.setNodes([0, 1, 2, 3].map(entry));
    const event = await topology;
    // Applied by the first poll after the change (one `config get cluster` per poll).
    expect(emulator.requests).toBeLessThanOrEqual(requestsAtChange + 1);
    expect(Date.now() - changedAt).toBeLessThanOrEqual(POLL_MS + 1500);
    expect(event.version).toBe(2);
    expect(s.nodeIds()).toHaveLength(4);

    const values = await s.getMany(keys);
    const hits = values.filter((value, i) => text(value) === keys[i]).length;
    // Ideally 3/4 stay; the new node's share depends on where its ring points fall, which depend
    // on the ports this run got: 20–32% was seen (0.697 once in CI), so the bound is 0.6.
    expect(hits / keys.length).toBeGreaterThanOrEqual(0.6);
    expect(hits / keys.length).toBeLessThan(0.95); // the 4th node really took its share
    await s.setMany(
      keys.map((key) => [key, key] as const),
      undefined,
    );
    expect(await itemsOn(cluster.nodes[3]!)).toBeGreaterThan(before + 50);
  });

  it('a removed node gets no more requests after the next poll (no errors)', async () => {
    emulator = await startElastiCacheEmulator({ nodes: [0, 1, 2, 3].map(entry), version: 10 });
    store = await createMemcachedStore({ configEndpoint: emulator.endpoint, discoveryInterval: POLL_MS });
    const s = store;
    const removed = `${entry(3).host}:${entry(3).port}`;
    expect(s.nodeIds()).toContain(removed);
    const topology = new Promise<TopologyEvent>((resolve) => s.events.once('topology', resolve));
    emulator.setNodes([0, 1, 2].map(entry));
    await topology;
    expect(s.nodeIds()).not.toContain(removed);
    const keys = Array.from({ length: 300 }, (_, i) => `topo:rm:${i}`);
    for (const key of keys) expect(s.nodeFor(key)).not.toBe(removed);
    await s.setMany(
      keys.map((key) => [key, key] as const),
      undefined,
    );
    expect((await s.getMany(keys)).map(text)).toEqual(keys);
  });

  it('applies only increasing config versions', async () => {
    emulator = await startElastiCacheEmulator({ nodes: [0, 1, 2].map(entry), version: 5 });
    store = await createMemcachedStore({ configEndpoint: emulator.endpoint, discoveryInterval: POLL_MS });
    emulator.setNodes([0].map(entry), 4);
    const requests = emulator.requests;
    await emulator.waitForRequests(requests + 2, 5000);
    expect(store.nodeIds()).toHaveLength(3);
  });

  it('keeps serving the last node list when the emulator stops', async () => {
    emulator = await startElastiCacheEmulator({ nodes: [0, 1, 2].map(entry), version: 1 });
    store = await createMemcachedStore({
      configEndpoint: emulator.endpoint,
      discoveryInterval: POLL_MS,
      timeout: 300,
    });
    const s = store;
    const failed = new Promise<Error>((resolve) => s.events.once('discoveryError', resolve));
    await emulator.stop();
    expect((await failed).message).toMatch(/discovery/);
    expect(s.nodeIds()).toHaveLength(3);
    await s.set('topo:after-stop', 'still here', undefined);
    expect(text(await s.get('topo:after-stop'))).toBe('still here');
  });

  it('falls back to the legacy get AmazonElastiCache:cluster (engines before 1.4.14)', async () => {
    emulator = await startElastiCacheEmulator({ nodes: [0, 1].map(entry), legacy: true });
    store = await createMemcachedStore({ configEndpoint: emulator.endpoint, discoveryInterval: POLL_MS });
    expect(store.nodeIds()).toHaveLength(2);
  });

  it('a plain memcached endpoint: ConfigError, or the endpoint as the only node with ignoreClusterErrors', async () => {
    const plain = cluster.nodes[0]!.address;
    await expect(createMemcachedStore({ configEndpoint: plain })).rejects.toMatchObject({
      code: 'E_CONFIG',
      variable: 'configEndpoint',
    });
    store = await createMemcachedStore({ configEndpoint: plain, ignoreClusterErrors: true });
    expect(store.nodeIds()).toEqual([plain]);
    await store.set('topo:plain', 'ok', undefined);
    expect(text(await store.get('topo:plain'))).toBe('ok');
  });

  it('a silent endpoint times out: BackendError after the retries, never a hang', async () => {
    emulator = await startElastiCacheEmulator({ nodes: [0].map(entry), mode: 'silent' });
    const started = Date.now();
    await expect(
      createMemcachedStore({ configEndpoint: emulator.endpoint, timeout: 200, discoveryRetries: 2 }),
    ).rejects.toMatchObject({ code: 'E_BACKEND' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('an unreachable endpoint fails creation with a BackendError naming it', async () => {
    await expect(
      createMemcachedStore({ configEndpoint: '127.0.0.1:1', timeout: 300, discoveryRetries: 1 }),
    ).rejects.toMatchObject({ code: 'E_BACKEND', message: expect.stringContaining('127.0.0.1:1') });
  });
});

describe('a node killed under load', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    cluster = await memcached(3);
    store = await createMemcachedStore({
      servers: cluster.servers.split(','),
      timeout: 500,
      ejectAfterFailures: 2,
      retryEjectedAfter: 500,
    });
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await store?.close();
    await cluster?.stop();
  });

  it('keeps answering (misses for that node), then takes the node back when it returns', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `kill:${i}`);
    await store.setMany(
      keys.map((key) => [key, key] as const),
      undefined,
    );
    const victim = cluster.nodes[1]!.address;
    const victimKeys = keys.filter((key) => store.nodeFor(key) === victim);
    expect(victimKeys.length).toBeGreaterThan(30);

    let running = true;
    let ops = 0;
    let errors = 0;
    const load = (async () => {
      while (running) {
        const batch = keys.slice(ops % 200, (ops % 200) + 20);
        await Promise.all([
          store.getMany(batch).catch(() => errors++),
          // Writes go to their own keys; those whose home is the ejected victim fail by design (a
          // write is never sent to another node), the rest must answer.
          store
            .set(`load:${batch[0]}`, batch[0]!, undefined)
            .catch((error: Error) => (/ejected/.test(error.message) ? undefined : errors++)),
        ]);
        ops++;
        // Calls to a dead node can fail without any I/O: yield to the event loop each round so a
        // loop of immediate rejections cannot starve timers (it spun forever once under Node 24).
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    const ejected = new Promise((resolve) => store.events.once('nodeEjected', resolve));
    await cluster.kill(1);
    expect(await ejected).toBe(victim);
    const errorsAtEjection = errors;
    // After the ejection every call answers: the victim's keys are misses on the next node.
    const values = await store.getMany(keys);
    values.forEach((value, i) => {
      if (victimKeys.includes(keys[i]!)) expect(value).toBeUndefined();
      else expect(text(value)).toBe(keys[i]);
    });
    const opsAfter = ops;
    await waitFor(() => ops > opsAfter + 20, { description: 'load keeps running' });
    expect(errors).toBe(errorsAtEjection);

    // Listen first: the background probe can readmit the node before restart() returns. On a busy
    // machine a live node can also be ejected for a moment (timeouts) and readmitted: wait for the victim.
    const readmitted = new Promise<void>((resolve) => {
      const onReadmitted = (node: string) => {
        if (node !== victim) return;
        store.events.off('nodeReadmitted', onReadmitted);
        resolve();
      };
      store.events.on('nodeReadmitted', onReadmitted);
    });
    await cluster.restart(1);
    await readmitted;
    await waitFor(() => store.nodeFor(victimKeys[0]!) === victim && store.ejectedNodes().length === 0, {
      description: 'the node is back on the ring',
    });
    await store.set(victimKeys[0]!, 'back', undefined);
    expect(text(await store.get(victimKeys[0]!))).toBe('back');
    expect(await itemsOn(cluster.nodes[1]!)).toBeGreaterThan(0);
    running = false;
    await load;
    expect(unhandled).toEqual([]);
  });
});
