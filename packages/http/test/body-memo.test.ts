import { redisCommand } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBody, type StoredResponse } from '../src/entry';
import { encodeHead } from '../src/head';
import { HeadMemo } from '../src/heads';
import { type Lookup, ResponseStore } from '../src/store';
import { rcBackends } from './harness';

// A body id names one body's bytes for good, so a process that read a response whole answers its
// later hits from the head alone: the body is neither read nor copied again until the head names
// another body.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

const BASE = 'r.page';
const TTL_MS = 60_000;
type Found = Lookup & { kind: 'found' | 'miss' };

function response(text: string): Omit<StoredResponse, 'gen'> {
  const body = Buffer.from(text);
  const now = Date.now();
  return {
    status: 200,
    headers: { etag: `"${text}"` },
    body,
    length: body.length,
    storedAt: now,
    expiresAt: now + 30_000,
    age: 0,
    shared: true,
  };
}

describe('ResponseStore on Redis: a hit read whole once then reads its head alone (server-counted)', () => {
  it('each later hit reads one key fewer (the body); a new body is read once, then head-only again', async () => {
    const redis = env.backends.find((b) => b.name === 'redis');
    const url = new URL(env.redisUrl());
    const target = { host: url.hostname, port: Number(url.port) };
    const cache = redis!.cache();
    const store = new ResponseStore(cache, TTL_MS, 1000);
    const lookup = async (from = store) => (await from.lookup(BASE, {})) as Found;
    const fill = async (seen: Found, text: string) =>
      store.fill({
        base: BASE,
        scoped: (await store.pin('http:t:g.page'))!,
        seen,
        vary: [],
        headers: {},
        entry: response(text),
      });
    /** Keys Redis looked up (hits and misses) while `run` ran. */
    const keyReads = async (run: () => Promise<unknown>) => {
      const read = async () => {
        const info = String(await redisCommand(target, 'INFO', 'stats'));
        const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1]);
        return field('keyspace_hits') + field('keyspace_misses');
      };
      const before = await read();
      await run();
      return (await read()) - before;
    };
    expect(await fill(await lookup(), 'A')).toBe(true);
    // Another process's first lookup reads the head, its scope and the body.
    const whole = await keyReads(async () =>
      expect((await lookup(new ResponseStore(cache, TTL_MS, 1000))).entry?.body.toString()).toBe('A'),
    );
    expect((await lookup()).entry?.body.toString()).toBe('A');
    const hits = await keyReads(async () => {
      for (let i = 0; i < 10; i++) expect((await lookup()).entry?.body.toString()).toBe('A');
    });
    expect(hits).toBe(10 * (whole - 1));
    // Another body under the same key: its head names a body this process never read.
    expect(await fill(await lookup(), 'B')).toBe(true);
    expect(await keyReads(async () => expect((await lookup()).entry?.body.toString()).toBe('B'))).toBe(whole);
    expect(await keyReads(async () => expect((await lookup()).entry?.body.toString()).toBe('B'))).toBe(whole - 1);
  });
});

describe('HeadMemo: whole responses per key and head', () => {
  const stored = (text: string, id: string, size = text.length) => {
    const entry = { ...response(text), body: Buffer.alloc(size, text), gen: 'scope' };
    const ref = { id, until: Date.now() + TTL_MS };
    return { head: encodeHead(entry, ref, entry.gen), body: encodeBody(id, entry.body) };
  };

  it('knows a body once read whole at a key, for that head and key only', () => {
    const memo = new HeadMemo();
    const a = stored('a', 'id-a');
    expect(memo.knowsBodyAt('k')).toBe(false);
    expect(memo.entry(a.head, a.body, 'k')?.body.toString()).toBe('a');
    expect(memo.knowsBodyAt('k')).toBe(true);
    expect(memo.known({ ...a.head }, 'k')?.body.toString()).toBe('a');
    expect(memo.known(a.head, 'elsewhere')).toBeUndefined();
    expect(memo.known(stored('b', 'id-b').head, 'k')).toBeUndefined();
    // The same body named by another head (written again) is not answered from the memo.
    expect(memo.known(encodeHead(response('a'), { id: 'id-a', until: 1 }, 'scope'), 'k')).toBeUndefined();
    // A head read without its body (a body of another head): its key no longer knows a body.
    const c = stored('c', 'id-c');
    expect(memo.entry(c.head, a.body, 'k')).toBeUndefined();
    expect(memo.knowsBodyAt('k')).toBe(false);
  });

  it('keeps a body read as a view into a larger buffer (a client read chunk) as bytes of its own', () => {
    const memo = new HeadMemo();
    const a = stored('a', 'id-a', 2_000);
    const chunk = Buffer.alloc(65_536);
    a.body.copy(chunk, 100);
    memo.entry(a.head, chunk.subarray(100, 100 + a.body.length), 'k');
    const kept = memo.known(a.head, 'k')?.body as Buffer;
    expect(kept.equals(Buffer.alloc(2_000, 'a'))).toBe(true);
    // Exactly its bytes: neither the chunk nor a slab of Node's Buffer pool.
    expect(kept.buffer.byteLength).toBe(2_000);
  });

  it('keeps no body over 1 MiB, and starts over past 16 MiB of bodies', () => {
    const memo = new HeadMemo();
    const big = stored('x', 'id-big', 1024 * 1024 + 1);
    expect(memo.entry(big.head, big.body, 'big')?.body.length).toBe(1024 * 1024 + 1);
    expect(memo.known(big.head, 'big')).toBeUndefined();
    const first = stored('0', 'id-0', 1024 * 1024);
    memo.entry(first.head, first.body, 'k0');
    for (let i = 1; i < 17; i++) {
      const next = stored(String(i % 10), `id-${i}`, 1024 * 1024);
      memo.entry(next.head, next.body, `k${i}`);
    }
    // The 17th body of 1 MiB passes 16 MiB: the memo started over with it.
    expect(memo.known(first.head, 'k0')).toBeUndefined();
    expect(memo.knowsBodyAt('k0')).toBe(false);
    expect(memo.knowsBodyAt('k16')).toBe(true);
  });

  it('is left out for a while after a fill of it answered fewer than 1 lookup in 8 (more URLs in turn than it keeps), then tried again', () => {
    const memo = new HeadMemo();
    const a = stored('a', 'id-a');
    // 1,024 URLs read in turn, none read again before the memo is full: it starts over, paused.
    for (let i = 0; i <= 1024; i++) memo.entry(a.head, a.body, `k${i}`);
    memo.entry(a.head, a.body, 'hot');
    expect(memo.knowsBodyAt('hot')).toBe(false);
    // 16,384 lookups later it keeps again.
    for (let i = 0; i < 16 * 1024; i++) memo.entry(a.head, a.body, `other${i}`);
    memo.entry(a.head, a.body, 'hot');
    expect(memo.knowsBodyAt('hot')).toBe(true);
    expect(memo.known(a.head, 'hot')?.body.toString()).toBe('a');
  });

  it('stays on for a key set it holds: hot URLs read again between the new ones', () => {
    const memo = new HeadMemo();
    const a = stored('a', 'id-a');
    for (let i = 0; i < 4 * 1024; i++) {
      const key = i % 4 === 0 ? `k${i}` : `hot${i % 8}`;
      if (memo.known(a.head, key) === undefined) memo.entry(a.head, a.body, key);
    }
    expect(memo.known(a.head, 'hot1')?.body.toString()).toBe('a');
  });
});
