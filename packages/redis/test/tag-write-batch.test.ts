import { Cache } from '@larder/core';
import type { TaggedEntry } from '@larder/core/driver';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { MAX_CALL_COUNTERS } from '../src/tag-write';
import { FLUSH_AT } from '../src/tag-write-batch';
import { commandCalls, text, watchSocketWrites } from './helpers';

/** A tagged entry of `tags` under the counters of `prefix`, as core builds it. */
const entryOf = (prefix: string, tags: string[], tail: string): TaggedEntry => ({
  head: '\u0001k,\u0001',
  tail,
  tags,
  counters: tags.map((tag) => `${prefix}__larder:tag:${tag}`),
  start: 1048576,
  extend: tags.map(() => true),
  counterTtlMs: 120_000,
});

/** A tagged entry of `count` tags named after `name`, under the counters of `prefix`. */
const wideEntryOf = (prefix: string, name: string, count: number, tail: string): TaggedEntry =>
  entryOf(
    prefix,
    Array.from({ length: count }, (_, i) => `${name}${i}`),
    tail,
  );

/** The stored text of an entry of `entry`'s tags, every counter at `version`. */
const storedText = (entry: TaggedEntry, version: number) =>
  `${entry.head}\u0002${entry.tags.map((tag) => `${tag}\u0003${version}`).join('\u0004')}\u0002${entry.tail}`;

describe('redis store: the tagged writes of one tick share one script call, which names its counters by index and takes a bounded number of them', () => {
  let server: RedisServer;
  let store: RedisStore;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedis();
    store = createRedisStore({ url: server.url });
    admin = new Redis(server.url);
    await store.set('warm', 'x', undefined);
  });
  afterAll(async () => {
    admin?.disconnect();
    await store?.close();
    await server?.stop();
  });

  it('64 tagged sets in flight cost a few EVALSHA calls, each entry reads back and is invalidated by its tags', async () => {
    const cache = new Cache({ store, prefix: 'batch:' });
    await admin.config('RESETSTAT');
    const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((key, i) => cache.tags([i % 2 ? 'odd' : 'even', 'all']).set(key, { i }, '1m')));
    const scripts = (await commandCalls(server, 'evalsha')) + (await commandCalls(server, 'eval'));
    // The first goes alone (nothing was in flight); the rest share calls: 14 here, as a burst's
    // first batches hold half of the writes outstanding so far (1, 2, 4...) and core reaches the
    // store at a few depths of the tick. A quarter of the writes at most.
    expect(scripts).toBeLessThanOrEqual(16);
    expect(await cache.getMany(keys)).toEqual(keys.map((_, i) => ({ i })));
    await cache.invalidateTags(['odd']);
    expect(await cache.getMany(keys)).toEqual(keys.map((_, i) => (i % 2 ? undefined : { i })));
  });

  it(`a batch goes out at once when it holds half of the writes outstanding (${FLUSH_AT} at most), so Redis starts on it while the tick goes on`, async () => {
    const prefix = 'every:';
    const setTagged = store.setTagged?.bind(store) as NonNullable<RedisStore['setTagged']>;
    await Promise.all(
      Array.from({ length: 2 }, (_, i) => setTagged(`${prefix}warm${i}`, entryOf(prefix, ['t'], 'w'), 60_000)),
    );
    await admin.config('RESETSTAT');
    // The warm writes loaded both scripts. Now one alone (nothing in flight), then 2 × FLUSH_AT in
    // the same tick: batches of half the writes outstanding as they are given (1, 2, 4, 8, 16, then
    // FLUSH_AT), and the last one at the end of the tick.
    const count = 1 + 2 * FLUSH_AT;
    let socketWrites = 0;
    await watchSocketWrites(
      store,
      () => socketWrites++,
      () =>
        Promise.all(
          Array.from({ length: count }, (_, i) =>
            setTagged(`${prefix}${i}`, entryOf(prefix, ['t'], String(i)), 60_000),
          ),
        ),
    );
    expect(await commandCalls(server, 'evalsha')).toBe(8);
    // Each full batch left at once, not at the end of the tick with the rest.
    expect(socketWrites).toBeGreaterThanOrEqual(7);
    expect(text(await store.get(`${prefix}${count - 1}`))).toBe(`\u0001k,\u0001\u0002t\u00031048576\u0002${count - 1}`);
  });

  it('keeps call order: a delete or a tag invalidation sent after a queued tagged write lands after it', async () => {
    const prefix = 'order:';
    const setTagged = store.setTagged?.bind(store) as NonNullable<RedisStore['setTagged']>;
    await store.set(`${prefix}__larder:tag:t`, '1048576', 600_000);
    // The first write goes out at once; the second waits for the end of the tick, unless another
    // command of the primary sends it first.
    const first = setTagged(`${prefix}first`, entryOf(prefix, ['t'], '1'), 60_000);
    const queued = setTagged(`${prefix}queued`, entryOf(prefix, ['t'], '2'), 60_000);
    const deleted = store.delete(`${prefix}queued`);
    const bumped = store.bumpTags?.([`${prefix}__larder:tag:t`], 1);
    await Promise.all([first, queued, deleted, bumped]);
    expect(await store.get(`${prefix}queued`)).toBeUndefined();
    // The write recorded the version from before the invalidation: the invalidation wins over it.
    expect((await queued).versions).toEqual([1048576]);
    expect(text(await store.get(`${prefix}__larder:tag:t`))).toBe('1048577');
  });

  it('a batch Redis refuses rejects each of its writes with the store error; the next batch writes again', async () => {
    const prefix = 'refused:';
    const setTagged = store.setTagged?.bind(store) as NonNullable<RedisStore['setTagged']>;
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => setTagged(`${prefix}${i}`, entryOf(prefix, ['t'], String(i)), 60_000)),
      );
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'E_BACKEND' });
    }
    expect(await admin.exists(`${prefix}1`, `${prefix}7`)).toBe(0);
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => setTagged(`${prefix}${i}`, entryOf(prefix, ['t'], String(i)), 60_000)),
    );
    expect(await admin.exists(`${prefix}1`, `${prefix}7`)).toBe(2);
  });

  it('a counter holding something larder never writes (a comma) rejects the write with the store error, not misread versions', async () => {
    const prefix = 'garbled:';
    const setTagged = store.setTagged?.bind(store) as NonNullable<RedisStore['setTagged']>;
    await admin.set(`${prefix}__larder:tag:t`, '5,6');
    const error = await setTagged(`${prefix}k`, entryOf(prefix, ['t', 'u'], 'v'), 60_000).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_BACKEND' });
    expect(String((error as Error).message)).toMatch(/SET_TAGGED answered 5 fields for 2 counters/);
    await admin.del(`${prefix}__larder:tag:t`);
    const reply = await setTagged(`${prefix}k`, entryOf(prefix, ['t', 'u'], 'v'), 60_000);
    expect(reply.versions).toEqual([1048576, 1048576]);
  });

  it('a lone write naming one tag twice records its version at both places; versions past 2^53 or not whole read as Number reads them', async () => {
    const prefix = 'lone:';
    const setTagged = store.setTagged?.bind(store) as NonNullable<RedisStore['setTagged']>;
    const twice = entryOf(prefix, ['t', 't'], 'v');
    await admin.set(`${prefix}__larder:tag:t`, '9');
    const reply = await setTagged(`${prefix}twice`, twice, 60_000);
    expect(reply.versions).toEqual([9, 9]);
    expect(text(await store.get(`${prefix}twice`))).toBe('\u0001k,\u0001\u0002t\u00039\u0004t\u00039\u0002v');
    // Counters set by hand: one past 2^53 (left to Number, which rounds the text itself), a decimal, a negative.
    await admin.set(`${prefix}__larder:tag:big`, '9007199254740993');
    await admin.set(`${prefix}__larder:tag:half`, '1.5');
    await admin.set(`${prefix}__larder:tag:neg`, '-12');
    const odd = await setTagged(`${prefix}odd`, entryOf(prefix, ['big', 'half', 'neg'], 'v'), 60_000);
    expect(odd.versions).toEqual([Number('9007199254740993'), 1.5, -12]);
    // Checked counters with no expiry answer -1: none left to wait for.
    expect(odd.lifeMs).toEqual([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]);
  });

  it('loads the batch script again after SCRIPT FLUSH (NOSCRIPT → EVAL)', async () => {
    const prefix = 'flushed:';
    const setTagged = store.setTagged?.bind(store) as NonNullable<RedisStore['setTagged']>;
    await admin.script('FLUSH');
    const replies = await Promise.all(
      Array.from({ length: 4 }, (_, i) => setTagged(`${prefix}${i}`, entryOf(prefix, ['t'], String(i)), 60_000)),
    );
    expect(replies.map((reply) => reply.versions)).toEqual([[1048576], [1048576], [1048576], [1048576]]);
    expect(text(await store.get(`${prefix}3`))).toBe('\u0001k,\u0001\u0002t\u00031048576\u00023');
  });

  it('an entry of 300 counters records each version in its order (indices past one byte)', async () => {
    const setTagged = store.setTagged?.bind(store) as NonNullable<RedisStore['setTagged']>;
    const prefix = 'wide:';
    const entry = wideEntryOf(prefix, 't', 300, 'v');
    // The 200th counter exists already at another version: its index must point at it, not a neighbour.
    await admin.set(`${prefix}__larder:tag:t199`, '7340032');
    const reply = await setTagged(`${prefix}k`, entry, 60_000);
    expect(reply.versions[199]).toBe(7340032);
    expect(reply.versions.filter((v) => v === 1048576)).toHaveLength(299);
    const expected = storedText(entry, 1048576).replace('t199\u00031048576', 't199\u00037340032');
    expect(text(await store.get(`${prefix}k`))).toBe(expected);
  });

  it(`writes of a tick naming more than ${MAX_CALL_COUNTERS} counters go out as several calls, in order, each entry intact`, async () => {
    const setTagged = store.setTagged?.bind(store) as NonNullable<RedisStore['setTagged']>;
    const prefix = 'runs:';
    const count = Math.ceil(MAX_CALL_COUNTERS / 2) + 1;
    await admin.config('RESETSTAT');
    // The first goes alone (nothing in flight); the next three share a tick: two calls, as no two of them fit in one.
    const entries = ['a', 'b', 'c', 'd'].map((name) => wideEntryOf(prefix, name, count, name));
    const replies = await Promise.all(entries.map((entry, i) => setTagged(`${prefix}${i}`, entry, 60_000)));
    expect(await commandCalls(server, 'evalsha')).toBe(4);
    for (const [i, entry] of entries.entries()) {
      expect(replies[i]?.versions).toHaveLength(count);
      expect(text(await store.get(`${prefix}${i}`))).toBe(storedText(entry, 1048576));
    }
    // Two writes of one key in one batch, split into two calls: the later still wins. (The first
    // two writes go alone: nothing in flight, then a batch of half the writes outstanding.)
    await admin.config('RESETSTAT');
    const first = wideEntryOf(prefix, 'e', count, 'first');
    const later = wideEntryOf(prefix, 'f', count, 'later');
    await Promise.all([
      setTagged(`${prefix}warm`, wideEntryOf(prefix, 'w', 1, 'w'), 60_000),
      setTagged(`${prefix}filler`, wideEntryOf(prefix, 'x', 1, 'x'), 60_000),
      setTagged(`${prefix}same`, first, 60_000),
      setTagged(`${prefix}same`, later, 60_000),
    ]);
    expect(await commandCalls(server, 'evalsha')).toBe(4);
    expect(text(await store.get(`${prefix}same`))).toBe(storedText(later, 1048576));
  });

  it(`a write naming more than ${MAX_CALL_COUNTERS} counters is refused with E_INVALID_TAG; the writes of its tick are written`, async () => {
    const setTagged = store.setTagged?.bind(store) as NonNullable<RedisStore['setTagged']>;
    const prefix = 'over:';
    const results = await Promise.allSettled([
      setTagged(`${prefix}before`, wideEntryOf(prefix, 'b', 3, 'before'), 60_000),
      setTagged(`${prefix}over`, wideEntryOf(prefix, 'o', MAX_CALL_COUNTERS + 1, 'over'), 60_000),
      setTagged(`${prefix}after`, wideEntryOf(prefix, 'a', 3, 'after'), 60_000),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'E_INVALID_TAG' });
    expect(await admin.exists(`${prefix}over`, `${prefix}__larder:tag:o0`)).toBe(0);
    expect(text(await store.get(`${prefix}after`))).toBe(storedText(wideEntryOf(prefix, 'a', 3, 'after'), 1048576));
  });
});
