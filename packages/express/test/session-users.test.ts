import { Cache } from '@larder/core';
import { waitFor } from '@larder/dev-services';
import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import { CacheSessionStore } from '../src/index';
import { call } from './helpers';

/** A store with userKey 'userId' over a fresh memory cache, and a peek at the raw index entry of a user. */
function setUp() {
  const cache = new Cache({ store: createMemoryStore(), prefix: 'u:' });
  const store = new CacheSessionStore({ cache, userKey: 'userId' });
  const index = async (user: string) => {
    const raw = await cache.namespace('sess-user').get<string>(user);
    return raw === undefined ? undefined : (JSON.parse(raw) as Record<string, number>);
  };
  const save = (sid: string, data: object, maxAge = 60_000) =>
    call((cb) => store.set(sid, { cookie: { maxAge, originalMaxAge: maxAge }, ...data }, cb));
  return { cache, store, index, save };
}

describe('userKey: the per-user session index', () => {
  it('every update prunes ids that are gone or now name another user', async () => {
    const { store, index, save } = setUp();
    await save('s1', { userId: 'ann' });
    await save('s2', { userId: 'ann' });
    expect(Object.keys((await index('ann')) ?? {}).sort()).toEqual(['s1', 's2']);
    await call((cb) => store.destroy('s1', cb)); // a plain logout: the index is not told
    await save('s2', { userId: 'bob' }); // the session now belongs to someone else
    await save('s3', { userId: 'ann' });
    expect(Object.keys((await index('ann')) ?? {})).toEqual(['s3']);
    expect(await store.sessionsOf('ann')).toEqual(['s3']);
    expect(await store.sessionsOf('bob')).toEqual(['s2']);
    expect(await store.sessionsOf(42)).toEqual([]);
  });

  it('the index entry expires with its sessions (TTL of the longest one, plus a slack of at most its lifetime)', async () => {
    const { index, save, store } = setUp();
    await save('short', { userId: 7 }, 150);
    await save('longer', { userId: 7 }, 300);
    expect(await store.sessionsOf(7)).toEqual(['short', 'longer']);
    // Nobody updates the index any more: its own TTL removes it (peeking does not prune).
    const started = Date.now();
    await waitFor(async () => (await index('7')) === undefined, { timeoutMs: 3000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await store.sessionsOf(7)).toEqual([]);
  });

  it('a session without the user field is not indexed; sessionsOf/destroyUser need userKey', async () => {
    const { index, save } = setUp();
    await save('anon', { cart: [] });
    expect(await index('undefined')).toBeUndefined();
    const plain = new CacheSessionStore({ cache: new Cache({ store: createMemoryStore(), prefix: 'p:' }) });
    await expect(plain.sessionsOf('ann')).rejects.toThrow(/userKey/);
    await expect(plain.destroyUser('ann')).rejects.toThrow(/userKey/);
    expect(() => new CacheSessionStore({ cache: plain['options'].cache, userKey: '' })).toThrow(/userKey/);
  });

  it('destroyUser destroys every session of the user and nothing else; a stale save does not bring one back', async () => {
    const { store, save } = setUp();
    await save('a1', { userId: 'ann' });
    await save('a2', { userId: 'ann' });
    await save('b1', { userId: 'bob' });
    const stale = await call<Record<string, unknown>>((cb) => store.get('a1', cb));
    expect(await store.destroyUser('ann')).toBe(2);
    await call((cb) => store.set('a1', { ...(stale as object), late: true }, cb));
    expect(await call((cb) => store.get('a1', cb))).toBeNull();
    expect(await store.sessionsOf('ann')).toEqual([]);
    expect(await store.sessionsOf('bob')).toEqual(['b1']);
  });
});
