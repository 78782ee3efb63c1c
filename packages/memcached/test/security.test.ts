import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { BackendError } from '@larder/core';
import type { MemcachedCluster } from '@larder/dev-services';
import { captureConsole, secretLeaks } from '@larder/test-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore, type MemcachedStoreOptions } from '../src';
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

  it('no error, cause or event of a wrong-credential store shows the credentials (inspect depth 10)', async () => {
    const secrets = { username: 'larder-user-Zq7', password: 'pw-Kx93-secret' };
    const bad = await createMemcachedStore({ servers: cluster.servers.split(','), ...secrets, timeout: 500 });
    const seen: unknown[] = [];
    for (const name of ['topology', 'discoveryError', 'nodeEjected', 'nodeReadmitted', 'error']) {
      bad.events.on(name, (...args: unknown[]) => seen.push(name, ...args));
    }
    try {
      const calls: Promise<unknown>[] = [
        bad.get('sasl:x'),
        bad.getMany(['sasl:x', 'sasl:y', 'sasl:z']),
        bad.set('sasl:x', 'X', undefined),
        bad.setMany([['sasl:y', 'Y']], undefined),
        bad.add('sasl:z', 'Z', undefined),
        bad.delete('sasl:x'),
        bad.deleteMany(['sasl:x', 'sasl:y']),
        bad.increment('sasl:n', 1, undefined),
        bad.increment('sasl:n', -1, undefined),
        bad.touch('sasl:x', 1000),
        bad.pull('sasl:x'),
        bad.compareAndDelete('sasl:x', 'X'),
      ];
      const errors = (await Promise.allSettled(calls)).map((result) =>
        result.status === 'rejected' ? result.reason : result,
      );
      for (const error of errors) expect(error).toBeInstanceOf(BackendError);
      seen.push(...errors);
      const printed = seen
        .map((item) => `${inspect(item, { depth: 10, showHidden: true })}\n${String(item)}`)
        .join('\n');
      expect(printed).toMatch(/authentication/i);
      expect(printed).not.toContain(secrets.password);
      expect(printed).not.toContain(secrets.username);
    } finally {
      await bad.close();
    }
  });

  it('the wrapping point scrubs credentials an (injected) client puts on its errors', async () => {
    const secrets = { username: 'larder-user-Zq7', password: 'pw-Kx93-secret' };
    // A client that echoes its SASL frame, as some clients attach the failed command to errors.
    const leaky: MemcachedStoreOptions['serverFactory'] = (node, createDefault) => {
      const server = createDefault({ ...node, host: '127.0.0.1', port: 1 });
      const onError = server.onError.bind(server);
      server.onError = (opaque, handler) =>
        onError(opaque, () => {
          const error = new Error(`AUTH ${node.username} ${node.password} refused`);
          Object.assign(error, { code: 'E_AUTH', command: { args: [node.username, node.password] } });
          handler(new Error(`request failed for ${node.username}`, { cause: error }));
        });
      return server;
    };
    const bad = await createMemcachedStore({ servers: ['127.0.0.1:1'], ...secrets, serverFactory: leaky, retries: 0 });
    try {
      const error = await bad.get('sasl:x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      const printed = `${inspect(error, { depth: 10, showHidden: true })}\n${JSON.stringify(error)}`;
      expect(printed).toContain('refused');
      expect(printed).toContain('E_AUTH');
      expect(printed).not.toContain(secrets.password);
      expect(printed).not.toContain(secrets.username);
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

// What the clients and the store log (console) while the tests above run, swept at the end.
const logs = captureConsole();
afterAll(() => logs.restore());

it('no SASL credential in any console line printed while the wrong-credential stores ran', () => {
  expect(secretLeaks(logs.lines, ['pw-Kx93-secret', 'larder-user-Zq7', 'wrong-password'])).toEqual([]);
});
