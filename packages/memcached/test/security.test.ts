import { readFileSync } from 'node:fs';
import { BackendError } from '@larder/core';
import type { MemcachedCluster } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore } from '../src';
import { memcached, text } from './helpers';

/** set/get of one key and setMany/getMany of 20 keys under `prefix:`, each value read back as written. */
async function expectReadsAndWrites(store: MemcachedStore, prefix: string): Promise<void> {
  await store.set(`${prefix}:a`, 'A', undefined);
  expect(text(await store.get(`${prefix}:a`))).toBe('A');
  const keys = Array.from({ length: 20 }, (_, i) => `${prefix}:many:${i}`);
  await store.setMany(
    keys.map((key) => [key, key] as const),
    undefined,
  );
  expect((await store.getMany(keys)).map(text)).toEqual(keys);
}

describe('SASL against memcached -S', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  const credentials = { username: 'larder', password: 's3cret-pw' };
  beforeAll(async () => {
    cluster = await memcached(2, { sasl: credentials });
    store = await createMemcachedStore({ servers: cluster.servers.split(','), ...credentials });
  });
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('authenticates with PLAIN and serves every operation', async () => {
    await expectReadsAndWrites(store, 'sasl');
    expect(await store.increment('sasl:n', 3, undefined)).toBe(3);
  });

  it('a wrong password is a BackendError that does not print the password', async () => {
    const bad = await createMemcachedStore({
      servers: cluster.servers.split(','),
      username: 'larder',
      password: 'wrong-password',
      retries: 0,
    });
    try {
      const error = await bad.set('sasl:b', 'B', undefined).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect(String((error as Error).message)).toMatch(/authentication/i);
      expect(String((error as Error).message)).not.toContain('wrong-password');
    } finally {
      await bad.close();
    }
  });

  it('without credentials the server refuses', async () => {
    const anonymous = await createMemcachedStore({ servers: cluster.servers.split(','), retries: 0 });
    try {
      await expect(anonymous.set('sasl:c', 'C', undefined)).rejects.toBeInstanceOf(BackendError);
    } finally {
      await anonymous.close();
    }
  });
});

describe('TLS against memcached -Z', () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  beforeAll(async () => {
    cluster = await memcached(2, { tls: true });
    store = await createMemcachedStore({
      servers: cluster.servers.split(','),
      tls: { ca: readFileSync(cluster.caPath!) },
    });
  });
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('serves every operation over TLS with a verified certificate', async () => {
    await expectReadsAndWrites(store, 'tls');
    expect(await store.incrementBig('tls:n', 2n ** 40n, undefined)).toBe(2n ** 40n);
  });

  it('refuses a server whose certificate is not trusted', async () => {
    const untrusting = await createMemcachedStore({ servers: cluster.servers.split(','), tls: true, retries: 0 });
    try {
      await expect(untrusting.get('tls:a')).rejects.toBeInstanceOf(BackendError);
    } finally {
      await untrusting.close();
    }
  });
});
