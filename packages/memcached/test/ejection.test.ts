import { BackendError } from '@larder/core';
import { freezeProcess, type MemcachedCluster } from '@larder/dev-services';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore } from '../src';
import { memcached, text, waitFor } from './helpers';

/** The store answers again: a write and its read-back succeed. */
const serves = (store: MemcachedStore, key: string) => async () => {
  await store.set(key, 'back', undefined);
  return text(await store.get(key)) === 'back';
};

describe('a single node that blips', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore | undefined;
  beforeAll(async () => {
    cluster = await memcached(1);
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    if (cluster.nodes[0]!.pid === undefined) await cluster.restart(0);
  });
  afterAll(async () => {
    const pid = cluster?.nodes[0]?.pid;
    if (pid) process.kill(pid, 'SIGCONT');
    await cluster?.stop();
  });

  it('is never ejected: after a restart on the same port it serves again within a second', async () => {
    store = await createMemcachedStore({ servers: [cluster.nodes[0]!.address], timeout: 300, retries: 0 });
    const s = store;
    await s.set('blip:a', 'A', undefined);
    await cluster.kill(0);
    for (let i = 0; i < 4; i++) await expect(s.get('blip:a')).rejects.toBeInstanceOf(BackendError);
    // The calls failed on their own: the last node stays on the ring.
    expect(s.ejectedNodes()).toEqual([]);
    expect(s.nodeFor('blip:a')).toBe(cluster.nodes[0]!.address);
    await cluster.restart(0);
    const answered = Date.now();
    await waitFor(serves(s, 'blip:b'), { timeoutMs: 5000, intervalMs: 20, description: 'the store serves again' });
    expect(Date.now() - answered).toBeLessThan(1000);
  });

  it('a stopped (SIGSTOP) node times out, then serves within a second of SIGCONT', async () => {
    store = await createMemcachedStore({ servers: [cluster.nodes[0]!.address], timeout: 200, retries: 0 });
    const s = store;
    await s.set('stop:a', 'A', undefined);
    const pid = cluster.nodes[0]!.pid!;
    await freezeProcess(pid);
    try {
      for (let i = 0; i < 3; i++) await expect(s.get('stop:a')).rejects.toBeInstanceOf(BackendError);
      expect(s.ejectedNodes()).toEqual([]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const answered = Date.now();
    await waitFor(serves(s, 'stop:b'), { timeoutMs: 5000, intervalMs: 20, description: 'the store serves again' });
    expect(Date.now() - answered).toBeLessThan(1000);
    expect(text(await s.get('stop:a'))).toBe('A');
  });
});

describe('one of three nodes ejected', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  beforeAll(async () => {
    cluster = await memcached(3);
    // Default retryEjectedAfter: readmission must not wait for it.
    store = await createMemcachedStore({ servers: cluster.servers.split(','), timeout: 200, retries: 0 });
  });
  afterAll(async () => {
    const pid = cluster?.nodes[1]?.pid;
    if (pid) process.kill(pid, 'SIGCONT');
    await store?.close();
    await cluster?.stop();
  });

  it('is probed in the background and readmitted within a second of answering again', async () => {
    const victim = cluster.nodes[1]!;
    const keys = Array.from({ length: 200 }, (_, i) => `three:${i}`);
    const key = keys.find((k) => store.nodeFor(k) === victim.address)!;
    await store.set(key, 'v', undefined);
    const ejected = new Promise((resolve) => store.events.once('nodeEjected', resolve));
    await freezeProcess(victim.pid!);
    try {
      await expect(store.get(key)).rejects.toBeInstanceOf(BackendError);
      await store.get(key).catch(() => undefined);
      expect(await ejected).toBe(victim.address);
      expect(store.ejectedNodes()).toEqual([victim.address]);
      // Its keys are misses on the next node meanwhile.
      expect(await store.get(key)).toBeUndefined();
      // Writes to them fail rather than land on the next node, where processes that still reach the
      // victim would not read them (and they would resurface as stale values later).
      await expect(store.set(key, 'elsewhere', undefined)).rejects.toThrow(/ejected/);
      await expect(store.setMany([[key, 'elsewhere']], undefined)).rejects.toThrow(/ejected/);
      expect(await store.get(key)).toBeUndefined();
    } finally {
      process.kill(victim.pid!, 'SIGCONT');
    }
    const answered = Date.now();
    // No call is needed: the background probe readmits it.
    await waitFor(() => store.ejectedNodes().length === 0, {
      timeoutMs: 5000,
      intervalMs: 10,
      description: 'readmission',
    });
    expect(Date.now() - answered).toBeLessThan(1000);
    expect(store.nodeFor(key)).toBe(victim.address);
    expect(text(await store.get(key))).toBe('v');
  });

  it('never ejects the last node standing', async () => {
    const pids = [0, 1, 2].map((i) => cluster.nodes[i]!.pid!);
    for (const pid of pids) await freezeProcess(pid);
    try {
      for (let i = 0; i < 12; i++) await store.get(`last:${i}`).catch(() => undefined);
      expect(store.ejectedNodes()).toHaveLength(2);
      // With one node left, calls go to it and fail on their own (a timeout, not "no node available").
      const error = await store.get('last:x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect((error as Error).message).not.toMatch(/no memcached node/);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    await waitFor(() => store.ejectedNodes().length === 0, { timeoutMs: 5000, description: 'all readmitted' });
  });
});
