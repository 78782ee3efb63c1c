import { TimeoutError } from '@larder/core';
import {
  type FaultProxy,
  findFreePort,
  type RedisServer,
  startFaultProxy,
  startRedis,
  waitFor,
} from '@larder/dev-services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timedByDeadlines } from '../src/command-deadlines';
import { createRedisStore, type RedisStore } from '../src/index';
import { deadlinesSupported } from '../src/ioredis-internals';

const TIMEOUT_MS = 300;

describe('redis: command timeouts with one timer per client', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  let store: RedisStore;
  beforeAll(async () => {
    server = await startRedis();
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    store = createRedisStore({ url: `redis://${proxy.host}:${proxy.port}`, commandTimeoutMs: TIMEOUT_MS });
    await store.set('cd:warm', 'x', undefined);
  });
  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await server?.stop();
  });

  it('arms no ioredis timer per command; a duplicated client keeps ioredis timeouts', () => {
    const client = store.client as Redis;
    // The ioredis in use exposes what the deadlines read; a client without them would not.
    expect(deadlinesSupported(client)).toBe(true);
    expect(deadlinesSupported({} as Redis)).toBe(false);
    expect(client.options.commandTimeout).toBeUndefined();
    expect(client.options.socketTimeout).toBeUndefined();
    const copy = client.duplicate({ lazyConnect: true });
    expect(copy.options.commandTimeout).toBe(TIMEOUT_MS);
    expect(copy.options.socketTimeout).toBe(TIMEOUT_MS);
    copy.disconnect();
  });

  it('keeps no answered command: at 1 in flight one deadline is held', async () => {
    const deadlines = (store as unknown as { connection: { deadlines: { size: number }[] } }).connection.deadlines;
    for (let i = 0; i < 200; i++) await store.get(`cd:${i}`);
    expect(deadlines[0]!.size).toBeLessThanOrEqual(1);
  });

  it('holds no answered command while others are always in flight (their arguments are not kept alive)', async () => {
    const deadlines = (store as unknown as { connection: { deadlines: { queue: unknown[] }[] } }).connection.deadlines;
    // Replies 15 ms late and a command sent every millisecond or so: the list never empties.
    proxy.setFault({ kind: 'latency', ms: 15 });
    try {
      const sent: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i++) {
        sent.push(store.get(`cd:paced:${i}`));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const answered = sent.slice(0, 100);
      await Promise.all(answered);
      // Kept: the commands still in flight (those of the last 15 ms or so), none of the answered.
      const held = deadlines[0]!.queue.filter((deadline) => deadline !== undefined);
      expect(held.length).toBeGreaterThan(0);
      expect(held.length).toBeLessThan(100);
      await Promise.all(sent);
    } finally {
      proxy.clear();
    }
  });

  it('times out an unanswered command and reopens a silent connection', async () => {
    const socket = (store.client as Redis).stream;
    proxy.setFault({ kind: 'blackhole' });
    const started = performance.now();
    const error = await store.get('cd:warm').catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 400);
    expect(socket.destroyed).toBe(true);
    proxy.clear();
    await waitFor(
      () =>
        store.get('cd:warm').then(
          (value) => value === 'x',
          () => false,
        ),
      { timeoutMs: 5000, description: 'reads to work again' },
    );
    expect((store.client as Redis).stream).not.toBe(socket);
  });

  it('a command queued offline keeps its first deadline when it is written on connect, and its socket is checked', async () => {
    const port = await findFreePort();
    // Nothing listens yet: the command waits in ioredis' offline queue while the client retries.
    const client = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 20 });
    client.on('error', () => {});
    const deadlines = timedByDeadlines(client, TIMEOUT_MS);
    const started = performance.now();
    // BLPOP on an empty list: Redis holds the reply, so once written it stays unanswered.
    const reply = client.blpop('cd:offline', 5).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS / 3));
    // Then Redis becomes reachable: the client connects and writes the queued command.
    const late = await startFaultProxy({ target: { host: server.host, port: server.port }, listenPort: port });
    try {
      await waitFor(() => client.status === 'ready', { timeoutMs: 2000, description: 'the client to connect' });
      const socket = client.stream;
      const error = (await reply) as Error;
      const elapsed = performance.now() - started;
      expect(error.message).toBe('Command timed out');
      // Timed from when it was first sent (queued), not from when it was written.
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 100);
      // Written on that connection and nothing read since: the connection is dead, and destroyed.
      expect(socket.destroyed).toBe(true);
    } finally {
      deadlines.close();
      client.disconnect();
      await late.close();
    }
  });
});
