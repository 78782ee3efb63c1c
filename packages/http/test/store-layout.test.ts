import { Cache } from '@larder/core';
import { redisCommand } from '@larder/dev-services';
import { createMemoryStore } from '@larder/memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBody, type StoredResponse } from '../src/entry';
import { encodeHead } from '../src/head';
import { bodyKey } from '../src/key';
import { type Lookup, ResponseStore, SCOPED } from '../src/store';
import { type RcBackend, rcBackends } from './harness';
import { legacyV2, legacyV3Head, legacyWrapped } from './legacy-entries';

// The storage protocol of a response split in a head and a body (entry.ts "Layout"), driven
// through ResponseStore on memory and a real redis-server: the interleavings two writers of one
// URL, or a revalidation and an invalidation, can produce, forced one step at a time.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

const BASE = 'r.page';
const SCOPE = 'http:test:g.page';
const TTL_MS = 60_000;

type Found = Lookup & { kind: 'found' | 'miss' };

function response(text: string, over: Partial<StoredResponse> = {}): Omit<StoredResponse, 'gen'> {
  const body = Buffer.from(text);
  const now = Date.now();
  return {
    status: 200,
    headers: { etag: `"${text}"`, 'x-from': text },
    body,
    length: body.length,
    storedAt: now,
    expiresAt: now + 1000,
    age: 0,
    shared: true,
    ...over,
  };
}

/** A store over `backend`'s cache, and the steps the tests force one at a time. */
function layoutHelpers(backend: RcBackend) {
  function setup() {
    const cache = backend.cache();
    const store = new ResponseStore(cache, TTL_MS, 1000);
    const lookup = async () => (await store.lookup(BASE, {})) as Found;
    /** A lookup by another process over the same store (none of this one's memos). */
    const fresh = async () => (await new ResponseStore(cache, TTL_MS, 1000).lookup(BASE, {})) as Found;
    /** A miss's scope, pinned when its lookup is read (before its handler would run). */
    const pin = async () => {
      const scoped = await store.pin(SCOPE);
      if (!scoped) throw new Error('the scope could not be pinned');
      return scoped;
    };
    const fill = async (seen: Found, entry: Omit<StoredResponse, 'gen'>, keepUntil?: number, scoped?: Cache) =>
      store.fill({ base: BASE, scoped: scoped ?? (await pin()), seen, vary: [], headers: {}, entry, keepUntil });
    return { cache, store, lookup, fresh, pin, fill };
  }

  /** A 304's refresh of what a lookup found (stale.ts `refreshed`): new headers and freshness, its body ref kept. */
  function refreshedOf(found: Found, header: string): Omit<StoredResponse, 'gen'> {
    const { gen: _gen, ...entry } = found.entry as StoredResponse;
    const now = Date.now();
    return { ...entry, headers: { ...entry.headers, 'x-refreshed': header }, storedAt: now, expiresAt: now + 5000 };
  }
  /**
   * Stores A and refreshes it as a 304 would (`x-refreshed: yes`), checking the refreshed entry
   * read back; `between` is read after A is found and before the refresh.
   */
  async function refreshStored<T>(steps: ReturnType<typeof setup>, between: () => Promise<T>) {
    const { lookup, fill } = steps;
    await fill(await lookup(), response('A'));
    const a = await lookup();
    const read = await between();
    const fresh = refreshedOf(a, 'yes');
    expect(await fill(a, fresh)).toBe(true);
    const after = await lookup();
    expect(after.entry?.headers['x-refreshed']).toBe('yes');
    expect(after.entry?.expiresAt).toBe(fresh.expiresAt);
    expect(after.entry?.body.toString()).toBe('A');
    return { a, after, between: read };
  }

  return { setup, refreshedOf, refreshStored };
}

describe.each(env.backends.map((b) => [b.name, b] as const))('ResponseStore head and body (%s)', (_name, backend) => {
  const { setup, refreshedOf } = layoutHelpers(backend);

  it("a revalidation's head write after an invalidation does not bring the entry back", async () => {
    const { store, lookup, pin, fill } = setup();
    await fill(await lookup(), response('A'));
    const a = await lookup();
    const pinned = await pin();
    expect(await store.invalidate(SCOPE, true)).toBe(true);
    await fill(a, refreshedOf(a, 'after-invalidation'), undefined, pinned);
    expect((await lookup()).kind).toBe('miss');
  });

  it("a miss's write pinned before a concurrent invalidation never answers; one pinned after it does", async () => {
    const { store, lookup, pin, fill } = setup();
    const miss = await lookup();
    expect(miss.kind).toBe('miss');
    const pinned = await pin();
    // The handler reads the old state; an unsafe request's invalidation lands meanwhile.
    await store.invalidate(SCOPE);
    await fill(miss, response('old'), undefined, pinned);
    expect((await lookup()).kind).toBe('miss');
    expect(await fill(await lookup(), response('new'))).toBe(true);
    expect((await lookup()).entry?.body.toString()).toBe('new');
  });

  it('keeps the headers as an object on an in-process store and as one text through JSON; a hit reads them whole', async () => {
    const { cache, lookup, fill } = setup();
    await lookup();
    // The store learns whether it is in process from the cache's capabilities.
    await cache.capabilities();
    const headers = { etag: '"A"', link: ['</a>; rel=a', '</b>; rel=b'], 'content-type': 'text/plain' };
    expect(await fill(await lookup(), response('A', { headers }))).toBe(true);
    const head = (await cache.get(BASE)) as { x?: unknown; h?: unknown };
    if (backend.name === 'memory') expect([head.x, head.h]).toEqual([undefined, headers]);
    else expect([typeof head.x, head.h]).toEqual(['string', undefined]);
    expect((await new ResponseStore(cache, TTL_MS, 1000).lookup(BASE, {})) as Found).toMatchObject({
      kind: 'found',
      entry: { headers },
    });
  });

  it('entries of earlier layouts (one value; a head and body under a generation; a binary head) read as misses; a fill replaces them', async () => {
    const { cache, lookup, fill, pin } = setup();
    // A generation-layout entry carries no scope: no invalidation since could reach it.
    await cache.set('g.page', 'g1', TTL_MS);
    const old = { ...response('old'), gen: 'g1' };
    await cache.set(BASE, legacyV2(old), TTL_MS);
    expect((await lookup()).kind).toBe('miss');
    const ref = { id: 'body1', until: Date.now() + TTL_MS };
    await cache.set(bodyKey(BASE), encodeBody(ref.id, old.body), TTL_MS);
    await cache.set(BASE, legacyV3Head(old, ref), TTL_MS);
    expect((await lookup()).kind).toBe('miss');
    // The same written with tags (a `Cache-Tag`): wrapped, still no scope.
    await cache.tags(['t']).set(BASE, legacyWrapped(legacyV3Head(old, ref)), TTL_MS);
    expect((await lookup()).kind).toBe('miss');
    // A version 3 head written through its scope (the layout before heads were JSON): a miss too.
    const scoped = await pin();
    await scoped.set(BASE, legacyWrapped(legacyV3Head({ ...old, gen: 'scope' }, ref)), TTL_MS);
    const found = await lookup();
    expect(found.kind).toBe('miss');
    expect(await fill(found, response('new'))).toBe(true);
    expect((await lookup()).entry?.body.toString()).toBe('new');
  });
});

// Elsewhere than in process a response is two values: a head and a body that names it (entry.ts "Layout").
describe('ResponseStore head and body as two values (redis)', () => {
  const backend = env.backends.find((b) => b.name === 'redis') as RcBackend;
  const { setup, refreshedOf, refreshStored } = layoutHelpers(backend);

  it('leaves every lookup to the asynchronous path (lookupNow is undefined)', async () => {
    const { cache, store, lookup, fill } = setup();
    await fill(await lookup(), response('A'));
    await cache.capabilities();
    expect(store.lookupNow(BASE, {})).toBeUndefined();
    expect((await lookup()).entry?.body.toString()).toBe('A');
  });

  it('a body that lands after another writer replaced the entry is not served with the newer head', async () => {
    const { cache, lookup, fresh, fill } = setup();
    expect(await fill(await lookup(), response('A'))).toBe(true);
    const a = await lookup();
    expect(a.entry?.body.toString()).toBe('A');
    const bodyOfA = await cache.get(bodyKey(BASE));
    expect(await fill(a, response('B'))).toBe(true);
    expect((await lookup()).entry?.body.toString()).toBe('B');
    // A's body write, late: B's head does not answer with it. A process that read B whole answers
    // with B's own bytes (its body id names them), without reading the body again.
    await cache.set(bodyKey(BASE), bodyOfA, TTL_MS);
    expect((await lookup()).entry?.body.toString()).toBe('B');
    const crossed = await fresh();
    expect(crossed.kind).toBe('miss');
    // The next fill stores a whole response again.
    expect(await fill(crossed, response('C'))).toBe(true);
    expect((await lookup()).entry?.body.toString()).toBe('C');
  });

  it("a revalidation's head that lands after a new 200 never names the new body", async () => {
    const { lookup, fill } = setup();
    await fill(await lookup(), response('A'));
    const a = await lookup();
    expect(await fill(a, response('B'))).toBe(true);
    // A's 304 refresh, late: A's headers with B's body would be another response.
    await fill(a, refreshedOf(a, 'late'));
    const after = await lookup();
    expect(after.kind).toBe('miss');
    expect(after.entry).toBeUndefined();
  });

  it('a refresh rewrites the head only: same body value, new headers and freshness', async () => {
    const steps = setup();
    const before = () => steps.cache.get(bodyKey(BASE)) as Promise<Buffer>;
    const { a, after, between } = await refreshStored(steps, before);
    expect(after.entry?.bodyRef).toEqual(a.entry?.bodyRef);
    expect(Buffer.compare(await before(), between)).toBe(0);
  });

  it('a refresh that keeps the head past its body moves the body expiry (touch), not its bytes', async () => {
    const { lookup, fill } = setup();
    const first = response('A');
    await fill(await lookup(), first, first.expiresAt);
    const a = await lookup();
    const until = (a.entry?.bodyRef?.until as number) + 2 * TTL_MS;
    expect(await fill(a, refreshedOf(a, 'longer'), until)).toBe(true);
    const after = await lookup();
    expect(after.entry?.body.toString()).toBe('A');
    expect(after.entry?.bodyRef).toEqual({ id: a.entry?.bodyRef?.id, until: until + TTL_MS });
    // The store's own expiry of the body moved with it.
    const url = new URL(env.redisUrl());
    const target = { host: url.hostname, port: Number(url.port) };
    // (Each test has a prefix of its own; no other test's body is kept over a minute.)
    const keys = (await redisCommand(target, 'KEYS', `*${bodyKey(BASE)}`)) as string[];
    const ttls = await Promise.all(keys.map(async (key) => Number(await redisCommand(target, 'PTTL', key))));
    expect(Math.max(...ttls)).toBeGreaterThan(2 * TTL_MS);
  });

  it('garbage at the head or body key is a miss, never an answer', async () => {
    const { cache, lookup, fill } = setup();
    await fill(await lookup(), response('A'));
    await cache.set(bodyKey(BASE), Buffer.from('not a body'), TTL_MS);
    expect((await lookup()).kind).toBe('miss');
    await cache.set(BASE, Buffer.from([3, 0, 1, 2]), TTL_MS);
    expect((await lookup()).kind).toBe('miss');
  });
});

// In process a response is one value: the head carries its body (head.ts `b`).
describe('ResponseStore head and body as one value (memory)', () => {
  const backend = env.backends.find((b) => b.name === 'memory') as RcBackend;
  const { setup, refreshedOf, refreshStored } = layoutHelpers(backend);

  /** A store that knows its cache is in process (learnt from the capabilities, after a first lookup). */
  async function inProcess() {
    const steps = setup();
    await steps.lookup();
    await steps.cache.capabilities();
    return steps;
  }

  it('a fill writes one value that carries the body; a lookup reads it whole', async () => {
    const { cache, lookup, fresh, fill } = await inProcess();
    const bytes = Buffer.from([0x7b, 0xe9, 0x00, 0xff, 0x80, 0x7d]);
    expect(await fill(await lookup(), { ...response('A'), body: bytes, length: bytes.length })).toBe(true);
    expect(await cache.get(bodyKey(BASE))).toBeUndefined();
    expect(((await cache.get(BASE)) as { b?: unknown }).b).toBeInstanceOf(Uint8Array);
    for (const found of [await lookup(), await lookup(), await fresh()]) {
      expect(found.kind).toBe('found');
      expect(Buffer.compare(found.entry?.body as Buffer, bytes)).toBe(0);
      expect(found.entry?.length).toBe(bytes.length);
    }
  });

  it('a refresh rewrites the one value: the same bytes, new headers and freshness; a late one never mixes two responses', async () => {
    const steps = await inProcess();
    const { cache, lookup, fill } = steps;
    const { a, after } = await refreshStored(steps, async () => undefined);
    expect(await cache.get(bodyKey(BASE))).toBeUndefined();
    // A new 200, then A's 304 refresh landing late: the entry is one whole response, A's headers
    // with A's bytes (the 304 found A current), never A's headers with B's body.
    expect(await fill(after, response('B'))).toBe(true);
    await fill(a, refreshedOf(a, 'late'));
    const last = await lookup();
    expect([last.entry?.headers['x-from'], last.entry?.body.toString()]).toEqual(['A', 'A']);
  });

  it('a head written before the store knew it was in process (two values) still reads whole', async () => {
    const { cache, lookup, fill, pin } = setup();
    // The first fill, before the capabilities resolved: head and body apart.
    expect(await fill(await lookup(), response('early'))).toBe(true);
    await cache.capabilities();
    const head = (await cache.get(BASE)) as { b?: unknown } | undefined;
    if (head?.b === undefined) expect(await cache.get(bodyKey(BASE))).toBeInstanceOf(Uint8Array);
    expect((await lookup()).entry?.body.toString()).toBe('early');
    // Written as two values on purpose (as that first fill may be), read through a new store.
    const ref = { id: 'body1', until: Date.now() + TTL_MS };
    const old = response('apart');
    await (await pin()).set(BASE, encodeHead(old, ref, SCOPED), TTL_MS);
    await cache.set(bodyKey(BASE), encodeBody(ref.id, old.body), TTL_MS);
    const apart = (await new ResponseStore(cache, TTL_MS, 1000).lookup(BASE, {})) as Found;
    expect(apart.entry?.body.toString()).toBe('apart');
    // Within the call too, by a store that read nothing before: the head, then its body, once each.
    const other = new ResponseStore(cache, TTL_MS, 1000);
    await cache.capabilities();
    const reads = cache.stats().hits;
    const now = other.lookupNow(BASE, {});
    expect(now?.kind === 'found' && now.entry?.body.toString()).toBe('apart');
    expect(cache.stats().hits).toBe(reads + 2);
  });

  it('answers a lookup within the call (lookupNow), as lookup does, counting one read', async () => {
    const { cache, store, lookup, fill } = await inProcess();
    await fill(await lookup(), response('A'));
    const hits = cache.stats().hits;
    const now = store.lookupNow(BASE, {});
    expect(now).not.toBeInstanceOf(Promise);
    expect(now).toMatchObject({ kind: 'found', fwd: 'uri-miss' });
    expect(now?.kind === 'found' && now.entry?.body.toString()).toBe('A');
    expect(cache.stats().hits).toBe(hits + 1);
    expect(store.lookupNow('r.absent', {})).toMatchObject({ kind: 'miss', fwd: 'uri-miss' });
    // A varying URI: the vary head, then the variant, both within the call.
    const seen = await lookup();
    const scoped = (await store.pin(SCOPE)) as Cache;
    const headers = { 'accept-language': 'de' };
    const entry = response('de', { headers: { vary: 'accept-language' } });
    expect(await store.fill({ base: BASE, scoped, seen, vary: ['accept-language'], headers, entry })).toBe(true);
    const varied = store.lookupNow(BASE, headers);
    expect(varied).toMatchObject({ kind: 'found', fwd: 'vary-miss', head: { v: ['accept-language'] } });
    expect(varied).toEqual(await store.lookup(BASE, headers));
    expect(store.lookupNow(BASE, { 'accept-language': 'fr' })).toMatchObject({ kind: 'miss', fwd: 'vary-miss' });
  });

  it("decodes each stored response once, over more URLs than its memo keeps, and never hands out the store's value to get", async () => {
    const { cache, store, lookup, pin } = await inProcess();
    const scoped = await pin();
    const seen = await lookup();
    const bases = Array.from({ length: 1_500 }, (_, i) => `r.page${i}`);
    for (const base of bases) {
      await store.fill({ base, scoped, seen, vary: [], headers: {}, entry: response(base) });
    }
    const entryOf = (base: string) => {
      const now = store.lookupNow(base, {});
      return now?.kind === 'found' ? now.entry : undefined;
    };
    const first = bases.map(entryOf);
    expect(first.map((entry) => entry?.body.toString())).toEqual(bases);
    // A second pass in turn finds the very responses decoded the first time (the 1,024-key memo has started over).
    expect(bases.every((base, i) => entryOf(base) === first[i])).toBe(true);
    // A value written again is decoded again; an app's get still copies the stored value.
    await store.fill({ base: 'r.page7', scoped, seen, vary: [], headers: {}, entry: response('new') });
    expect(entryOf('r.page7')?.body.toString()).toBe('new');
    const held = (await cache.get('r.page8')) as { b: Uint8Array };
    held.b.fill(0);
    expect(entryOf('r.page8')?.body.toString()).toBe('r.page8');
    // A dropped scope's responses are misses, decoded or not.
    await store.invalidate(SCOPE);
    expect(store.lookupNow('r.page9', {})).toMatchObject({ kind: 'miss' });
  });

  it('a head whose body is not bytes is a miss, never an answer', async () => {
    const { cache, lookup, fresh, fill } = await inProcess();
    await fill(await lookup(), response('A'));
    const head = (await cache.get(BASE)) as Record<string, unknown>;
    // The same value written back answers (a value set without its scope is still checked as one).
    await cache.set(BASE, { ...head }, TTL_MS);
    expect((await fresh()).entry?.body.toString()).toBe('A');
    await cache.set(BASE, { ...head, b: 'text' }, TTL_MS);
    expect((await fresh()).kind).toBe('miss');
  });

  it.each([
    ['keeps references (objects sized by an estimate)', { clone: false }],
    ['encodes values (bytes would be base64 in JSON)', { useCodec: true }],
  ])('a memory store that %s keeps the body a value of its own', async (_what, options) => {
    const cache = new Cache({ store: createMemoryStore(options), prefix: 'rc-refs:' });
    const store = new ResponseStore(cache, TTL_MS, 1000);
    await store.lookup(BASE, {});
    await cache.capabilities();
    const scoped = (await store.pin(SCOPE)) as Cache;
    const seen = (await store.lookup(BASE, {})) as Found;
    const entry = response('A', { body: Buffer.alloc(64 * 1024, 97), length: 64 * 1024 });
    expect(await store.fill({ base: BASE, scoped, seen, vary: [], headers: {}, entry })).toBe(true);
    expect(((await cache.get(BASE)) as { b?: unknown }).b).toBeUndefined();
    expect(((await cache.get(bodyKey(BASE))) as Buffer).length).toBe(2 + 12 + 64 * 1024);
    expect((await store.lookup(BASE, {})).kind).toBe('found');
  });
});
