import type { TaggedEntry } from '@larder/core/driver';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { MAX_CALL_COUNTERS } from '../src/tag-write';
import { commandCalls, text } from './helpers';

/** `count` tags named after `name`, and a tagged entry of them under the counters of `prefix`, as core builds it. */
function entryOf(prefix: string, name: string, count: number, tail: string): TaggedEntry {
  const tags = Array.from({ length: count }, (_, i) => `${name}${i}`);
  return {
    head: '\u0001k,\u0001',
    tail,
    tags,
    counters: tags.map((tag) => `${prefix}__larder:tag:${tag}`),
    start: 1048576,
    extend: tags.map(() => true),
    counterTtlMs: 120_000,
  };
}

/** The stored text of an entry of `entry`'s tags, every counter at `version`. */
const storedText = (entry: TaggedEntry, version: number) =>
  `${entry.head}\u0002${entry.tags.map((tag) => `${tag}\u0003${version}`).join('\u0004')}\u0002${entry.tail}`;

describe('redis store: a tagged write call names its counters by index, and takes a bounded number of them', () => {
  let server: RedisServer;
  let store: RedisStore;
  let admin: Redis;
  let setTagged: NonNullable<RedisStore['setTagged']>;

  beforeAll(async () => {
    server = await startRedis();
    store = createRedisStore({ url: server.url });
    admin = new Redis(server.url);
    setTagged = store.setTagged?.bind(store) as NonNullable<RedisStore['setTagged']>;
    await store.set('warm', 'x', undefined);
  });
  afterAll(async () => {
    admin?.disconnect();
    await store?.close();
    await server?.stop();
  });

  it('an entry of 300 counters records each version in its order (indices past one byte)', async () => {
    const prefix = 'wide:';
    const entry = entryOf(prefix, 't', 300, 'v');
    // The 200th counter exists already at another version: its index must point at it, not a neighbour.
    await admin.set(`${prefix}__larder:tag:t199`, '7340032');
    const reply = await setTagged(`${prefix}k`, entry, 60_000);
    expect(reply.versions[199]).toBe(7340032);
    expect(reply.versions.filter((v) => v === 1048576)).toHaveLength(299);
    const expected = storedText(entry, 1048576).replace('t199\u00031048576', 't199\u00037340032');
    expect(text(await store.get(`${prefix}k`))).toBe(expected);
  });

  it(`writes of a tick naming more than ${MAX_CALL_COUNTERS} counters go out as several calls, in order, each entry intact`, async () => {
    const prefix = 'runs:';
    const count = Math.ceil(MAX_CALL_COUNTERS / 2) + 1;
    await admin.config('RESETSTAT');
    // The first goes alone (nothing in flight); the next three share a tick: two calls, as no two of them fit in one.
    const entries = ['a', 'b', 'c', 'd'].map((name) => entryOf(prefix, name, count, name));
    const replies = await Promise.all(entries.map((entry, i) => setTagged(`${prefix}${i}`, entry, 60_000)));
    expect(await commandCalls(server, 'evalsha')).toBe(4);
    for (const [i, entry] of entries.entries()) {
      expect(replies[i]?.versions).toHaveLength(count);
      expect(text(await store.get(`${prefix}${i}`))).toBe(storedText(entry, 1048576));
    }
    // Two writes of one key in one batch, split into two calls: the later still wins. (The first
    // two writes go alone: nothing in flight, then a batch of half the writes outstanding.)
    await admin.config('RESETSTAT');
    const first = entryOf(prefix, 'e', count, 'first');
    const later = entryOf(prefix, 'f', count, 'later');
    await Promise.all([
      setTagged(`${prefix}warm`, entryOf(prefix, 'w', 1, 'w'), 60_000),
      setTagged(`${prefix}filler`, entryOf(prefix, 'x', 1, 'x'), 60_000),
      setTagged(`${prefix}same`, first, 60_000),
      setTagged(`${prefix}same`, later, 60_000),
    ]);
    expect(await commandCalls(server, 'evalsha')).toBe(4);
    expect(text(await store.get(`${prefix}same`))).toBe(storedText(later, 1048576));
  });

  it(`a write naming more than ${MAX_CALL_COUNTERS} counters is refused with E_INVALID_TAG; the writes of its tick are written`, async () => {
    const prefix = 'over:';
    const results = await Promise.allSettled([
      setTagged(`${prefix}before`, entryOf(prefix, 'b', 3, 'before'), 60_000),
      setTagged(`${prefix}over`, entryOf(prefix, 'o', MAX_CALL_COUNTERS + 1, 'over'), 60_000),
      setTagged(`${prefix}after`, entryOf(prefix, 'a', 3, 'after'), 60_000),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'E_INVALID_TAG' });
    expect(await admin.exists(`${prefix}over`, `${prefix}__larder:tag:o0`)).toBe(0);
    expect(text(await store.get(`${prefix}after`))).toBe(storedText(entryOf(prefix, 'a', 3, 'after'), 1048576));
  });
});
