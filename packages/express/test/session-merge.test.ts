import type { AddressInfo } from 'node:net';
import { Cache } from '@larder/core';
import { waitFor } from '@larder/dev-services';
import { createMemoryStore } from '@larder/memory';
import express from 'express';
import session from 'express-session';
import { describe, expect, it } from 'vitest';
import { CacheSessionStore, SessionLockTimeoutError, sessionLock } from '../src/index';
import { encodeEnvelope } from '../src/sessions/envelope';
import { type MergeBackend, mergeData, saveMerged } from '../src/sessions/merge';

describe('mergeData (top-level diff of this request applied onto the stored session)', () => {
  it('applies added, changed and removed keys and keeps keys only the other writer touched', () => {
    const base = JSON.stringify({ a: 1, b: 1, gone: 1, other: 1 });
    const mine = JSON.stringify({ a: 2, b: 1, added: true, other: 1 });
    const current = JSON.stringify({ a: 1, b: 1, gone: 1, other: 5, theirs: 'x' });
    expect(JSON.parse(mergeData(base, mine, current))).toEqual({ a: 2, b: 1, added: true, other: 5, theirs: 'x' });
  });

  it('a key changed by both: the later save wins', () => {
    const merged = mergeData('{"n":1}', '{"n":2}', '{"n":7}');
    expect(JSON.parse(merged)).toEqual({ n: 2 });
  });

  it('nested values compare as a whole (a changed object replaces the stored one)', () => {
    const merged = mergeData('{"cart":{"x":1}}', '{"cart":{"x":1,"y":2}}', '{"cart":{"z":3}}');
    expect(JSON.parse(merged)).toEqual({ cart: { x: 1, y: 2 } });
  });
});

describe('saveMerged against a real memory cache', () => {
  const setUp = () => {
    const cache = new Cache({ store: createMemoryStore(), prefix: 'm:' });
    const backend: MergeBackend = {
      read: (sid) => cache.get(sid),
      compareAndSet: (sid, expected, payload, ttl) => cache.compareAndSet(sid, expected, payload, ttl),
    };
    return { cache, backend };
  };
  const envelope = (data: object) => encodeEnvelope({ writtenExpiry: 1, cookie: 'null', data: JSON.stringify(data) });

  it('fast path: one compare-and-set when nobody wrote since the read', async () => {
    const { cache, backend } = setUp();
    const stored = envelope({ a: 1 });
    await cache.set('s', stored);
    const written = await saveMerged(backend, 's', { stored, data: '{"a":1}' }, '{"a":1,"b":2}', 'null', 1, 60_000);
    expect(written?.data).toBe('{"a":1,"b":2}');
    expect(await cache.get('s')).toBe(written?.stored);
  });

  it('conflict: re-reads and applies its change onto the newer session', async () => {
    const { cache, backend } = setUp();
    const read = envelope({ a: 1 });
    await cache.set('s', envelope({ a: 1, theirs: true }));
    const written = await saveMerged(
      backend,
      's',
      { stored: read, data: '{"a":1}' },
      '{"a":1,"mine":true}',
      'null',
      1,
      60_000,
    );
    expect(JSON.parse(written?.data ?? '')).toEqual({ a: 1, theirs: true, mine: true });
  });

  it('no resurrection: a session read and then destroyed is not written back', async () => {
    const { cache, backend } = setUp();
    const read = envelope({ a: 1 });
    expect(
      await saveMerged(backend, 's', { stored: read, data: '{"a":1}' }, '{"a":2}', 'null', 1, 60_000),
    ).toBeUndefined();
    expect(await cache.get('s')).toBeUndefined();
  });

  it('a brand-new session that meets a stored one adds its keys to it', async () => {
    const { cache, backend } = setUp();
    await cache.set('s', envelope({ first: true }));
    const written = await saveMerged(backend, 's', undefined, '{"second":true}', 'null', 1, 60_000);
    expect(JSON.parse(written?.data ?? '')).toEqual({ first: true, second: true });
  });
});

describe('sessionLock', () => {
  it('a wait past `wait` calls next with SessionLockTimeoutError (503, E_SESSION_LOCK_TIMEOUT); the route runs once the lock is free', async () => {
    const cache = new Cache({ store: createMemoryStore(), prefix: 'lock:' });
    const store = new CacheSessionStore({ cache });
    const app = express();
    app.use(session({ store, secret: 's', resave: false, saveUninitialized: false }));
    app.post('/login', (req, res) => {
      (req.session as unknown as { user: string }).user = 'ann';
      res.json({ id: req.sessionID });
    });
    app.post('/locked', sessionLock({ store, wait: 100, ttl: '5s' }), (_req, res) => res.json({ ran: true }));
    // biome-ignore lint/suspicious/noExplicitAny: express error handler signature
    app.use((err: any, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err.status ?? 500).json({ code: err.code, timeout: err instanceof SessionLockTimeoutError });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const login = await fetch(`${base}/login`, { method: 'POST' });
      const cookie = login.headers.getSetCookie()[0]?.split(';')[0] as string;
      const { id } = (await login.json()) as { id: string };
      const held = store.lockSession(id, '5s');
      expect(await held.acquire()).toBe(true);
      const started = Date.now();
      const blocked = await fetch(`${base}/locked`, { method: 'POST', headers: { cookie } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      expect(blocked.status).toBe(503);
      expect(await blocked.json()).toEqual({ code: 'E_SESSION_LOCK_TIMEOUT', timeout: true });
      await held.release();
      const free = await fetch(`${base}/locked`, { method: 'POST', headers: { cookie } });
      expect(await free.json()).toEqual({ ran: true });
      // Released once the response finished: the lock can be taken again.
      const again = store.lockSession(id, '5s');
      await waitFor(() => again.acquire(), { timeoutMs: 2000 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('needs a store', () => {
    expect(() => sessionLock({} as never)).toThrow(/store/);
  });
});
