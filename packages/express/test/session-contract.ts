import assert from 'node:assert/strict';
import type { Cache } from '@larder/core';
import { CacheSessionStore, type SessionData } from '../src/index';
import { call } from './helpers';

interface Hooks {
  describe: (name: string, fn: () => void) => void;
  it: (name: string, fn: () => Promise<void>) => void;
  beforeAll: (fn: () => Promise<void>) => void;
}

/** The express-session Store contract, run against a Cache (memory, Redis, ...). */
export function sessionStoreContract(name: string, createCache: () => Promise<Cache>, hooks: Hooks): void {
  const { describe, it, beforeAll } = hooks;
  describe(`CacheSessionStore contract on ${name}`, () => {
    let store: CacheSessionStore;
    const cookie = () => ({ originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString(), path: '/' });

    beforeAll(async () => {
      store = new CacheSessionStore({ cache: await createCache(), prefix: `contract-${Date.now()}` });
    });

    it('set then get returns the session with its cookie; unknown ids give null', async () => {
      await call((cb) => store.set('a', { cookie: cookie(), user: 'ann', n: 1 }, cb));
      const got = (await call<SessionData | null>((cb) => store.get('a', cb))) as SessionData;
      assert.equal(got.user, 'ann');
      assert.equal(got.n, 1);
      assert.equal((got.cookie as { originalMaxAge: number }).originalMaxAge, 60_000);
      assert.equal(await call((cb) => store.get('missing', cb)), null);
    });

    it('destroy removes the session', async () => {
      await call((cb) => store.set('gone', { cookie: cookie(), x: 1 }, cb));
      await call((cb) => store.destroy('gone', cb));
      assert.equal(await call((cb) => store.get('gone', cb)), null);
    });

    it('touch keeps the session readable', async () => {
      await call((cb) => store.set('t', { cookie: cookie(), x: 2 }, cb));
      await call((cb) => store.touch('t', { cookie: cookie(), x: 2 }, cb));
      const got = (await call<SessionData | null>((cb) => store.get('t', cb))) as SessionData;
      assert.equal(got.x, 2);
    });

    it('a cookie already expired deletes instead of writing', async () => {
      await call((cb) => store.set('old', { cookie: cookie(), x: 3 }, cb));
      await call((cb) =>
        store.set('old', { cookie: { expires: new Date(Date.now() - 1000).toISOString() }, x: 4 }, cb),
      );
      assert.equal(await call((cb) => store.get('old', cb)), null);
    });

    it('all, length, ids and clear see only sessions', async () => {
      await call((cb) => store.clear(cb));
      await call((cb) => store.set('s1', { cookie: cookie(), n: 1 }, cb));
      await call((cb) => store.set('s2', { cookie: cookie(), n: 2 }, cb));
      assert.equal(await call((cb) => store.length(cb)), 2);
      assert.deepEqual(((await call<string[]>((cb) => store.ids(cb))) ?? []).sort(), ['s1', 's2']);
      const all = (await call<SessionData[]>((cb) => store.all(cb))) ?? [];
      assert.deepEqual(all.map((s) => s.n).sort(), [1, 2]);
      await call((cb) => store.clear(cb));
      assert.equal(await call((cb) => store.length(cb)), 0);
      assert.equal(await call((cb) => store.get('s1', cb)), null);
    });
  });
}
