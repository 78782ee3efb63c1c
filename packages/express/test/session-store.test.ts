import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { waitFor } from '@larder/dev-services';
import express, { type Express } from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheSessionStore, type SessionData } from '../src/index';
import { type CountingStore, call, countingMemoryCache } from './helpers';
import { sessionStoreContract } from './session-contract';

sessionStoreContract('memory', async () => countingMemoryCache().cache, { describe, it, beforeAll });

/** An Express app whose /login writes the session, /me reads it, /visit modifies it. */
function sessionApp(store: CacheSessionStore, options: Partial<session.SessionOptions> = {}): Express {
  const app = express();
  app.use(
    session({
      store,
      secret: 'test-secret',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3_600_000 },
      ...options,
    }),
  );
  app.post('/login', (req, res, next) => {
    (req.session as unknown as SessionData).user = 'ann';
    (req.session as unknown as SessionData).visits = 0;
    req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
  });
  app.get('/me', (req, res) => {
    if (!req.session) return void res.status(503).json({ error: 'session store unavailable' });
    const s = req.session as unknown as SessionData;
    res.json({ user: s.user ?? null, visits: s.visits ?? null });
  });
  app.post('/visit', (req, res, next) => {
    if (!req.session) return void res.status(503).json({ error: 'session store unavailable' });
    const s = req.session as unknown as SessionData;
    s.visits = Number(s.visits ?? 0) + 1;
    req.session.save((err) => (err ? next(err) : res.json({ visits: s.visits })));
  });
  return app;
}

async function login(app: Express): Promise<string> {
  const res = await request(app).post('/login').expect(200);
  const cookie = res.headers['set-cookie']?.[0]?.split(';')[0];
  expect(cookie).toBeTruthy();
  return cookie as string;
}

describe('CacheSessionStore with express-session', () => {
  it('is an express-session Store (regenerate/load/createSession) and the session round-trips', async () => {
    const { cache } = countingMemoryCache();
    const store = new CacheSessionStore({ cache });
    expect(store).toBeInstanceOf(session.Store);
    const app = sessionApp(store);
    const cookie = await login(app);
    await request(app).post('/visit').set('Cookie', cookie).expect(200, { visits: 1 });
    await request(app).get('/me').set('Cookie', cookie).expect(200, { user: 'ann', visits: 1 });
  });

  it('takes the TTL from the cookie maxAge, else from the ttl option', async () => {
    const { cache, store: backend } = countingMemoryCache();
    await login(sessionApp(new CacheSessionStore({ cache }), { cookie: { maxAge: 120_000 } }));
    expect(backend.ttls).toHaveLength(1);
    expect(backend.ttls[0]).toBeGreaterThan(119_000);
    expect(backend.ttls[0]).toBeLessThanOrEqual(120_000);

    backend.reset();
    // A browser-session cookie (no maxAge/expires) falls back to the configured ttl.
    await login(sessionApp(new CacheSessionStore({ cache, ttl: '10m' }), { cookie: {} }));
    expect(backend.ttls[0]).toBeGreaterThan(599_000);
    expect(backend.ttls[0]).toBeLessThanOrEqual(600_000);
  });

  it('lazy touch: read-only requests reach the backend once each (a get), no write while the expiry is recent', async () => {
    const { cache, store: backend } = countingMemoryCache();
    const app = sessionApp(new CacheSessionStore({ cache }));
    const cookie = await login(app);
    backend.reset();
    for (let i = 0; i < 10; i++) await request(app).get('/me').set('Cookie', cookie).expect(200);
    expect(backend.count('get')).toBe(10);
    expect(backend.writes()).toBe(0);
  });

  it('touchAfter 0 writes the expiry on every read-only request, with touch (expiry only), never a rewrite', async () => {
    const { cache, store: backend } = countingMemoryCache();
    const app = sessionApp(new CacheSessionStore({ cache, touchAfter: 0 }));
    const cookie = await login(app);
    backend.reset();
    for (let i = 0; i < 5; i++) await request(app).get('/me').set('Cookie', cookie).expect(200);
    expect(backend.count('touch')).toBe(5);
    expect(backend.fullWrites()).toBe(0);
  });

  it('touches once the stored expiry is older than touchAfter', async () => {
    const { cache, store: backend } = countingMemoryCache();
    const touchAfter = 800;
    const app = sessionApp(new CacheSessionStore({ cache, touchAfter }));
    const loggedIn = Date.now();
    const cookie = await login(app);
    backend.reset();
    await request(app).get('/me').set('Cookie', cookie).expect(200);
    if (Date.now() - loggedIn < touchAfter) expect(backend.writes()).toBe(0);
    // The condition itself is time: wait until the stored expiry is older than touchAfter.
    while (Date.now() - loggedIn <= touchAfter + 20) await new Promise((r) => setTimeout(r, 10));
    backend.reset();
    const touched = Date.now();
    await request(app).get('/me').set('Cookie', cookie).expect(200);
    await request(app).get('/me').set('Cookie', cookie).expect(200);
    expect(backend.fullWrites()).toBe(0);
    if (Date.now() - touched < touchAfter) expect(backend.count('touch')).toBe(1);
    else expect(backend.count('touch')).toBeGreaterThanOrEqual(1);
  });

  it('skips an unchanged set (resave: true calls set on every request)', async () => {
    const { cache, store: backend } = countingMemoryCache();
    const app = sessionApp(new CacheSessionStore({ cache }), { resave: true });
    const cookie = await login(app);
    backend.reset();
    for (let i = 0; i < 10; i++) await request(app).get('/me').set('Cookie', cookie).expect(200);
    expect(backend.writes()).toBe(0);
    // A changed session is written.
    await request(app).post('/visit').set('Cookie', cookie).expect(200, { visits: 1 });
    expect(backend.fullWrites()).toBe(1);
  });

  it('two app instances sharing one cache see the same session', async () => {
    const { cache } = countingMemoryCache();
    const a = sessionApp(new CacheSessionStore({ cache }));
    const b = sessionApp(new CacheSessionStore({ cache }));
    const cookie = await login(a);
    await request(b).post('/visit').set('Cookie', cookie).expect(200, { visits: 1 });
    await request(a).get('/me').set('Cookie', cookie).expect(200, { user: 'ann', visits: 1 });
  });

  describe('backend down', () => {
    let backend: CountingStore;
    let store: CacheSessionStore;
    let app: Express;
    let cookie: string;

    beforeAll(async () => {
      const made = countingMemoryCache();
      backend = made.store;
      store = new CacheSessionStore({ cache: made.cache });
      app = sessionApp(store);
      cookie = await login(app);
      await request(app).post('/visit').set('Cookie', cookie).expect(200, { visits: 1 });
    });
    afterAll(() => store.close());

    it('read errors reach express-session (500); once the cache says down, disconnect is emitted and req.session is unavailable', async () => {
      let disconnects = 0;
      store.on('disconnect', () => disconnects++);
      backend.down = true;
      // The cache's health: 3 failed calls in a row make the store down.
      for (let i = 0; i < 3; i++) {
        expect(store.connected).toBe(true);
        await request(app).get('/me').set('Cookie', cookie).expect(500);
      }
      expect(disconnects).toBe(1);
      expect(store.connected).toBe(false);
      // express-session skips the store while it is disconnected: the app answers 503 itself.
      await request(app).get('/me').set('Cookie', cookie).expect(503);
    });

    it('a write error is reported, not dropped', async () => {
      const write = await call((cb) => store.set('x', { cookie: { maxAge: 1000 }, a: 1 }, cb)).catch((e) => e);
      expect(write).toMatchObject({ code: 'E_BACKEND' });
    });

    it('on recovery connect is emitted and the session is intact', async () => {
      const connected = new Promise((resolve) => store.once('connect', resolve));
      backend.down = false;
      await connected;
      await request(app).get('/me').set('Cookie', cookie).expect(200, { user: 'ann', visits: 1 });
      await request(app).post('/visit').set('Cookie', cookie).expect(200, { visits: 2 });
    });
  });

  it("with encrypt (a cache of its own over the same store): disconnect and connect follow that cache's health", async () => {
    const made = countingMemoryCache();
    const store = new CacheSessionStore({ cache: made.cache, encrypt: { keys: [{ id: 'k1', key: randomBytes(32) }] } });
    const events: string[] = [];
    store.on('disconnect', () => events.push('disconnect'));
    store.on('connect', () => events.push('connect'));
    made.store.down = true;
    for (let i = 0; i < 3; i++) {
      await expect(call((cb) => store.get('s', cb))).rejects.toMatchObject({ code: 'E_BACKEND' });
    }
    expect(events).toEqual(['disconnect']);
    expect(store.connected).toBe(false);
    made.store.down = false;
    // Nothing calls the store: the cache's probe hears the backend again.
    await waitFor(() => events.length === 2, { timeoutMs: 3000, description: 'connect' });
    expect(events).toEqual(['disconnect', 'connect']);
    expect(store.connected).toBe(true);
    store.close();
  });

  it('probeInterval is deprecated and ignored, but still checked: a bad one is an InvalidTtlError', () => {
    const { cache } = countingMemoryCache();
    expect(() => new CacheSessionStore({ cache, probeInterval: -1 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_TTL' }),
    );
    new CacheSessionStore({ cache, probeInterval: '1s' }).close();
  });

  it("fails closed even on a cache configured with onError 'miss'", async () => {
    const { cache, store: backend } = countingMemoryCache({ onError: 'miss' });
    const store = new CacheSessionStore({ cache });
    await call((cb) => store.set('s', { cookie: { maxAge: 60_000 }, a: 1 }, cb));
    backend.down = true;
    await expect(call((cb) => store.get('s', cb))).rejects.toMatchObject({ code: 'E_BACKEND' });
    await expect(call((cb) => store.set('s', { cookie: { maxAge: 60_000 }, a: 2 }, cb))).rejects.toMatchObject({
      code: 'E_BACKEND',
    });
    backend.down = false;
    store.close();
  });

  it('all/length/ids/clear fail with an error naming the driver when the store cannot enumerate', async () => {
    const { cache, store: backend } = countingMemoryCache();
    // A store without `keys` cannot enumerate (method presence is the capability).
    Object.defineProperty(backend, 'keys', { value: undefined });
    const store = new CacheSessionStore({ cache });
    await expect(call((cb) => store.length(cb))).rejects.toMatchObject({
      code: 'E_UNSUPPORTED_OPERATION',
      message: expect.stringContaining('memory'),
    });
  });
});

describe('CacheSessionStore with @fastify/session', () => {
  it('keeps the session across requests and skips unchanged rolling saves', async () => {
    const { cache, store: backend } = countingMemoryCache();
    const app = Fastify();
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret: 'a-secret-with-at-least-32-characters!!',
      store: new CacheSessionStore({ cache }) as never,
      cookie: { secure: false, maxAge: 3_600_000 },
      rolling: true,
      saveUninitialized: false,
    });
    app.post('/login', async (req) => {
      req.session.set('user' as never, 'ann' as never);
      return { ok: true };
    });
    app.get('/me', async (req) => ({ user: req.session.get('user' as never) ?? null }));
    await app.ready();
    try {
      const res = await app.inject({ method: 'POST', url: '/login' });
      const cookie = String(res.headers['set-cookie']).split(';')[0] as string;
      expect(backend.fullWrites()).toBe(1);
      backend.reset();
      for (let i = 0; i < 5; i++) {
        const me = await app.inject({ method: 'GET', url: '/me', headers: { cookie } });
        expect(me.json()).toEqual({ user: 'ann' });
      }
      // rolling calls store.set on every request; the data is unchanged and the expiry recent.
      expect(backend.count('get')).toBe(5);
      expect(backend.writes()).toBe(0);
    } finally {
      await app.close();
    }
  });
});

describe('CacheSessionStore envelope', () => {
  it('stores text (no byte copies, no binary marker) and still reads sessions stored as bytes by 0.x', async () => {
    const { cache } = countingMemoryCache();
    const store = new CacheSessionStore({ cache });
    const expires = new Date(Date.now() + 60_000);
    await call((cb) => store.set('a', { cookie: { expires, maxAge: 60_000 }, user: 'ann' }, cb));
    const stored = await cache.namespace('sess').get('a');
    expect(typeof stored).toBe('string');
    expect(String(stored).split('\n')[2]).toBe('{"user":"ann"}');
    // The earlier format: the same lines as UTF-8 bytes.
    const old = Buffer.from(`${expires.getTime()}\n${JSON.stringify({ expires, maxAge: 60_000 })}\n{"user":"bob"}`);
    await cache.namespace('sess').set('b', old, 60_000);
    const session = await call<SessionData>((cb) => store.get('b', cb));
    expect(session?.user).toBe('bob');
    // ...and merge: a change saved on top of it replaces the bytes with text.
    await call((cb) => store.set('b', { ...(session as SessionData), visits: 1 }, cb));
    expect(String(await cache.namespace('sess').get('b')).split('\n')[2]).toBe('{"user":"bob","visits":1}');
  });
});
