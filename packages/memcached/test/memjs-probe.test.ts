import { LarderError } from '@larder/core';
import { describe, expect, it, vi } from 'vitest';
import { createMemcachedStore, UnsupportedClientError } from '../src';
import { probeMemjs } from '../src/memjs-internals';

// A memjs whose Server keeps its socket somewhere else than `_socket` (as a move to a private
// `#socket` would): `error` and `close` no longer reach the socket larder's connection opens.
vi.mock('memjs', async () => {
  const real = await vi.importActual<typeof import('memjs')>('memjs');
  class Server extends real.Server {
    override error(error: Error): void {
      const socket = (this as unknown as { _socket?: unknown })._socket;
      (this as unknown as { _socket?: unknown })._socket = undefined;
      super.error(error);
      (this as unknown as { _socket?: unknown })._socket = socket;
    }
    override close(): void {}
  }
  return { ...real, default: { ...real, Server }, Server };
});

describe('memjs without the internals the driver is built on', () => {
  it('the probe names each part that is missing or behaves otherwise', () => {
    expect(probeMemjs()).toEqual([
      'Server#error (fails the pending requests, drops _socket)',
      'Server#close (ends _socket)',
    ]);
  });

  it('creating a store fails at once with UnsupportedClientError (E_UNSUPPORTED_CLIENT) naming them', async () => {
    const error = await createMemcachedStore({ servers: ['127.0.0.1:1'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedClientError);
    expect(error).toBeInstanceOf(LarderError);
    expect((error as UnsupportedClientError).code).toBe('E_UNSUPPORTED_CLIENT');
    expect((error as UnsupportedClientError).missing).toEqual(probeMemjs());
    expect((error as Error).message).toContain('Server#close (ends _socket)');
  });

  it('a serverFactory that builds its own servers needs none of them; asking for the default one fails', async () => {
    const own = { onResponse() {}, onError() {}, write() {}, close() {} };
    const store = await createMemcachedStore({ servers: ['127.0.0.1:1'], serverFactory: () => own });
    await store.close();
    const error = await createMemcachedStore({
      servers: ['127.0.0.1:1'],
      serverFactory: (node, createDefault) => createDefault(node),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedClientError);
  });
});
