import { Cache } from '@larder/core';
import { freezeProcess, type RedisServer, redisCommandStats, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import express, { type Express } from 'express';
import session from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheSessionStore, type SessionData } from '../src/index';
import { call } from './helpers';
import { sessionStoreContract } from './session-contract';

let redis: RedisServer;
const caches: Cache[] = [];

function redisCache(options: { commandTimeoutMs?: number; breaker?: boolean } = {}): Cache {
  const cache = new Cache({
    store: createRedisStore({ url: redis.url, commandTimeoutMs: options.commandTimeoutMs ?? 2000 }),
    prefix: 'express-test:',
    timeout: '3s',
    breaker: options.breaker === true,
  });
  caches.push(cache);
  return cache;
}

/** Redis commands executed so far, by name (INFO commandstats). */
const commandStats = () => redisCommandStats(redis);

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const d = calls - (before[name] ?? 0);
    if (d > 0 && name !== 'info') out[name] = d;
  }
  return out;
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => {});
  await redis?.stop();
});

sessionStoreContract('redis', async () => redisCache(), { describe, it, beforeAll });

function app(store: CacheSessionStore): Express {
  const a = express();
  a.use(session({ store, secret: 's', resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
  a.post('/login', (req, res, next) => {
    (req.session as unknown as SessionData).user = 'ann';
    req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
  });
  a.get('/me', (req, res) => {
    if (!req.session) return void res.status(503).end();
    res.json({ user: (req.session as unknown as SessionData).user ?? null });
  });
  a.post('/visit', (req, res, next) => {
    if (!req.session) return void res.status(503).end();
    const s = req.session as unknown as SessionData;
    s.visits = Number(s.visits ?? 0) + 1;
    req.session.save((err) => (err ? next(err) : res.json({ visits: s.visits })));
  });
  return a;
}

describe('CacheSessionStore on Redis', () => {
  it('read-only request = 1 Redis command (GET); modifying request = 2 (GET + EVALSHA compare-and-set)', async () => {
    const a = app(new CacheSessionStore({ cache: redisCache() }));
    const login = await request(a).post('/login').expect(200);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0]?.split(';')[0] as string;
    let before = await commandStats();
    for (let i = 0; i < 10; i++) await request(a).get('/me').set('Cookie', cookie).expect(200, { user: 'ann' });
    expect(diff(await commandStats(), before)).toEqual({ get: 10 });
    before = await commandStats();
    for (let i = 0; i < 10; i++) await request(a).post('/visit').set('Cookie', cookie).expect(200);
    const modifying = diff(await commandStats(), before);
    // commandstats also counts the script's own GET and SET: sent were 10 GET + 10 EVALSHA (the merge's fast path).
    expect(modifying).toEqual({ get: 20, evalsha: 10, set: 10 });
  });

  it('with userKey: login writes the user index once; later requests cost the same 1 and 2 commands', async () => {
    const store = new CacheSessionStore({ cache: redisCache(), userKey: 'user' });
    const a = app(store);
    const login = await request(a).post('/login').expect(200);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0]?.split(';')[0] as string;
    const id = decodeURIComponent(cookie.split('=')[1] as string)
      .slice(2)
      .split('.')[0] as string;
    expect(await store.sessionsOf('ann')).toEqual([id]);
    let before = await commandStats();
    for (let i = 0; i < 5; i++) await request(a).get('/me').set('Cookie', cookie).expect(200, { user: 'ann' });
    expect(diff(await commandStats(), before)).toEqual({ get: 5 });
    before = await commandStats();
    for (let i = 0; i < 5; i++) await request(a).post('/visit').set('Cookie', cookie).expect(200);
    expect(diff(await commandStats(), before)).toEqual({ get: 10, evalsha: 5, set: 5 });
    expect(await store.destroyUser('ann')).toBe(1);
    await request(a).get('/me').set('Cookie', cookie).expect(200, { user: null });
  });

  it('the backend expiry follows the cookie', async () => {
    const cache = redisCache();
    const store = new CacheSessionStore({ cache });
    await new Promise<void>((resolve, reject) =>
      store.set('ttl-check', { cookie: { maxAge: 90_000 }, a: 1 }, (err) => (err ? reject(err) : resolve())),
    );
    const pttl = Number(await redis.command('PTTL', 'express-test:sess:ttl-check'));
    expect(pttl).toBeGreaterThan(88_000);
    expect(pttl).toBeLessThanOrEqual(90_000);
  });

  it('Redis frozen (SIGSTOP): 500s until the cache says down, then answers at once; connect within 1 s of SIGCONT, no session lost', async () => {
    const cache = redisCache({ commandTimeoutMs: 300, breaker: true });
    const store = new CacheSessionStore({ cache });
    const a = app(store);
    const login = await request(a).post('/login').expect(200);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0]?.split(';')[0] as string;
    await request(a).post('/visit').set('Cookie', cookie).expect(200, { visits: 1 });
    const pid = redis.pid as number;
    await freezeProcess(pid);
    let thawed: number;
    try {
      const disconnected = new Promise((resolve) => store.once('disconnect', resolve));
      // The cache's health: three calls that time out (300 ms) in a row make the store down.
      await Promise.all([1, 2, 3].map(() => request(a).post('/visit').set('Cookie', cookie).expect(500)));
      await disconnected;
      expect(store.connected).toBe(false);
      expect(cache.health()).toMatchObject({ state: 'down', lastError: { code: 'E_TIMEOUT' } });
      // Down: express-session skips the store (the app's 503), and the store's own calls fail at once
      // (the breaker), where each waited for the command timeout before.
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        await request(a).get('/me').set('Cookie', cookie).expect(503);
        await expect(call((cb) => store.get('sid', cb))).rejects.toMatchObject({ code: 'E_BACKEND' });
        expect(performance.now() - started).toBeLessThan(150);
      }
    } finally {
      process.kill(pid, 'SIGCONT');
      thawed = performance.now();
    }
    // The cache's probe (nothing else calls the store now) hears Redis answer again.
    await new Promise((resolve) => store.once('connect', resolve));
    expect(performance.now() - thawed).toBeLessThan(1000);
    expect(store.connected).toBe(true);
    await request(a).post('/visit').set('Cookie', cookie).expect(200, { visits: 2 });
    store.close();
  });
});
