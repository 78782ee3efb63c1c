import { readFileSync } from 'node:fs';
import { BackendError } from '@larder/core';
import { findFreePort, type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

describe('redis store, failures', () => {
  const servers: RedisServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
  });

  it('fails fast with a BackendError when nothing listens, never hangs', async () => {
    const port = await findFreePort();
    const store = createRedisStore({ url: `redis://user:s3cret-pw@127.0.0.1:${port}` });
    try {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const error = await store.get('k').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BackendError);
        expect((error as BackendError).driver).toBe('redis');
        expect(String((error as Error).message)).not.toContain('s3cret-pw');
        expect(Date.now() - started).toBeLessThan(1500);
      }
      await expect(store.set('k', 'v', 1000)).rejects.toBeInstanceOf(BackendError);
    } finally {
      await store.close();
    }
  });

  it('errors promptly while the server is down and reconnects when it is back on the same port', async () => {
    const server = await startRedis();
    servers.push(server);
    const store = createRedisStore({ url: server.url });
    try {
      await store.set('k', 'v1', undefined);
      await server.kill();
      const started = Date.now();
      await waitFor(
        async () =>
          (await store.get('k').then(
            () => false,
            (e: unknown) => e instanceof BackendError,
          )) || undefined,
        {
          timeoutMs: 5000,
          description: 'a BackendError after the kill',
        },
      );
      expect(Date.now() - started).toBeLessThan(3000);
      // Every call while down is quick.
      const t0 = Date.now();
      await expect(store.get('k')).rejects.toBeInstanceOf(BackendError);
      await expect(store.increment('n', 1, undefined)).rejects.toBeInstanceOf(BackendError);
      expect(Date.now() - t0).toBeLessThan(2500);
      await server.restart();
      await waitFor(() => store.set('k', 'v2', undefined).then(() => true), {
        timeoutMs: 10_000,
        description: 'reconnect',
      });
      expect(Buffer.from((await store.get('k')) as Uint8Array).toString()).toBe('v2');
    } finally {
      await store.close();
    }
  });

  it('talks TLS with a CA and ACL user/password from the URL', async () => {
    const server = await startRedis({ tls: true, username: 'app', password: 'tls-pw' });
    servers.push(server);
    expect(server.url.startsWith('rediss://')).toBe(true);
    const store = createRedisStore({ url: server.url, tls: { ca: readFileSync(server.caPath!) } });
    try {
      await store.set('tls:k', 'secure', 10_000);
      expect(Buffer.from((await store.get('tls:k')) as Uint8Array).toString()).toBe('secure');
      const info = String(await server.command('CLIENT', 'LIST'));
      expect(info).toContain('user=app');
    } finally {
      await store.close();
    }
    // A wrong password: a typed error that does not print the password.
    const bad = createRedisStore({
      url: server.url.replace('tls-pw', 'wrong-pw'),
      tls: { ca: readFileSync(server.caPath!) },
    });
    try {
      const error = await bad.get('tls:k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect(String((error as Error).message)).not.toContain('wrong-pw');
    } finally {
      await bad.close();
    }
    // Untrusted certificate: rejected.
    const untrusted = createRedisStore({ url: server.url });
    try {
      await expect(untrusted.get('tls:k')).rejects.toBeInstanceOf(BackendError);
    } finally {
      await untrusted.close();
    }
  });
});
