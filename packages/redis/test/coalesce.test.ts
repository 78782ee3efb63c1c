import { BackendError } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLUSH_EVERY } from '../src/cork';
import { createRedisStore, type RedisStore } from '../src/index';

const text = (payload: unknown) =>
  typeof payload === 'string' ? payload : Buffer.from(payload as Uint8Array).toString();

describe('redis store, writes of one event-loop turn coalesced (coalesceWrites)', () => {
  let server: RedisServer;
  let store: RedisStore;

  beforeAll(async () => {
    server = await startRedis();
    store = createRedisStore({ url: server.url });
    await store.set('w:warm', 'x', undefined); // connected and ready
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('sends the commands of one turn as one socket write, each with its own reply and error', async () => {
    const stream = (store.client as Redis).stream as unknown as { _writev?: unknown; write: unknown };
    const socket = stream as unknown as { _writeGeneric: unknown; _writev: (...args: unknown[]) => unknown };
    const writev = socket._writev;
    let batches = 0;
    socket._writev = function (this: unknown, ...args: unknown[]) {
      batches++;
      return writev.apply(this, args);
    };
    try {
      const calls = [
        store.set('w:a', '1', 10_000),
        store.get('w:a'),
        store.set('w:n', 'not a number', undefined),
        store.increment('w:n', 1, undefined),
        store.set('w:b', '2', undefined),
        store.delete('w:a'),
        store.get('w:a'),
        store.get('w:b'),
      ];
      const results = await Promise.allSettled(calls);
      expect(batches).toBe(1);
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
        'fulfilled',
        'fulfilled',
      ]);
      const value = (i: number) => (results[i] as PromiseFulfilledResult<unknown>).value;
      // Read-your-writes in call order: the get after the set sees it, the get after the delete does not.
      expect(text(value(1))).toBe('1');
      expect(value(5)).toBe(true);
      expect(value(6)).toBeUndefined();
      expect(text(value(7))).toBe('2');
      expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(BackendError);
    } finally {
      socket._writev = writev;
    }
  });

  it('writes a long turn every FLUSH_EVERY commands, so the server starts on the first while the rest are sent', async () => {
    type Chunk = { chunk: Buffer | string };
    const socket = (store.client as Redis).stream as unknown as {
      _write: (chunk: Buffer | string, ...rest: unknown[]) => unknown;
      _writev: (chunks: Chunk[], ...rest: unknown[]) => unknown;
    };
    const { _write: write, _writev: writev } = socket;
    const perWrite: number[] = [];
    const sets = (data: Buffer | string) => String(data).split(/\$3\r\nset\r\n/i).length - 1;
    socket._write = function (this: unknown, chunk, ...rest) {
      perWrite.push(sets(chunk));
      return write.call(this, chunk, ...rest);
    };
    socket._writev = function (this: unknown, chunks, ...rest) {
      perWrite.push(chunks.reduce((n, c) => n + sets(c.chunk), 0));
      return writev.call(this, chunks, ...rest);
    };
    try {
      // The first goes out at once (nothing in flight); the other 99 are held, and written FLUSH_EVERY at a time.
      const calls = Array.from({ length: 100 }, (_, i) => store.set(`w:long:${i}`, String(i), undefined));
      await Promise.all(calls);
      expect(perWrite).toEqual([1, FLUSH_EVERY, FLUSH_EVERY, FLUSH_EVERY, 99 - 3 * FLUSH_EVERY]);
      const last = await store.get('w:long:99');
      expect(text(last)).toBe('99');
    } finally {
      socket._write = write;
      socket._writev = writev;
    }
  });

  it('writes a lone command at once, without waiting for the end of the event-loop turn', async () => {
    const socket = (store.client as Redis).stream as unknown as { _write: (...args: unknown[]) => unknown };
    const write = socket._write;
    let turnEnded = false;
    const writtenAfterTurn: boolean[] = [];
    socket._write = function (this: unknown, ...args: unknown[]) {
      writtenAfterTurn.push(turnEnded);
      return write.apply(this, args);
    };
    try {
      setImmediate(() => {
        turnEnded = true;
      });
      await store.set('w:lone', 'v', 10_000);
      expect(writtenAfterTurn).toEqual([false]);
    } finally {
      socket._write = write;
    }
  });

  it('sends an idle command without waiting for other work, and can be turned off', async () => {
    const started = performance.now();
    await store.set('w:idle', 'v', 10_000);
    expect(performance.now() - started).toBeLessThan(500);
    const plain = createRedisStore({ url: server.url, coalesceWrites: false });
    try {
      await Promise.all([plain.set('w:p1', 'a', undefined), plain.set('w:p2', 'b', undefined)]);
      expect(text(await plain.get('w:p1'))).toBe('a');
      expect(text(await plain.get('w:p2'))).toBe('b');
    } finally {
      await plain.close();
    }
  });
});
