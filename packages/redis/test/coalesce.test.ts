import { BackendError } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLUSH_EVERY } from '../src/cork';
import { createRedisStore, type RedisStore } from '../src/index';
import { type Chunk, text, watchSocketWrites } from './helpers';

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
    let batches = 0;
    const results = await watchSocketWrites(
      store,
      (_chunks, vectored) => {
        if (vectored) batches++;
      },
      () =>
        Promise.allSettled([
          store.set('w:a', '1', 10_000),
          store.get('w:a'),
          store.set('w:n', 'not a number', undefined),
          store.increment('w:n', 1, undefined),
          store.set('w:b', '2', undefined),
          store.delete('w:a'),
          store.get('w:a'),
          store.get('w:b'),
        ]),
    );
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
  });

  it('writes a long turn every FLUSH_EVERY commands, so the server starts on the first while the rest are sent', async () => {
    const perWrite: number[] = [];
    const sets = (data: Chunk) => String(data).split(/\$3\r\nset\r\n/i).length - 1;
    // The first goes out at once (nothing in flight); the other 99 are held, and written FLUSH_EVERY at a time.
    await watchSocketWrites(
      store,
      (chunks) => perWrite.push(chunks.reduce((n, chunk) => n + sets(chunk), 0)),
      () => Promise.all(Array.from({ length: 100 }, (_, i) => store.set(`w:long:${i}`, String(i), undefined))),
    );
    expect(perWrite).toEqual([1, FLUSH_EVERY, FLUSH_EVERY, FLUSH_EVERY, 99 - 3 * FLUSH_EVERY]);
    const last = await store.get('w:long:99');
    expect(text(last)).toBe('99');
  });

  it('writes a lone command at once, without waiting for the end of the event-loop turn', async () => {
    let turnEnded = false;
    const writtenAfterTurn: boolean[] = [];
    await watchSocketWrites(
      store,
      (_chunks, vectored) => {
        if (!vectored) writtenAfterTurn.push(turnEnded);
      },
      () => {
        setImmediate(() => {
          turnEnded = true;
        });
        return store.set('w:lone', 'v', 10_000);
      },
    );
    expect(writtenAfterTurn).toEqual([false]);
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
