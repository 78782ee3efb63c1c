import { randomBytes } from 'node:crypto';
import { Cache, type EncryptOptions } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import express, { type Express } from 'express';
import session from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheSessionStore, type SessionData } from '../src/index';
import { sessionStoreContract } from './session-contract';

let redis: RedisServer;
const caches: Cache[] = [];
const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

function redisCache(prefix: string, encrypt?: EncryptOptions): Cache {
  const cache = new Cache({
    store: createRedisStore({ url: redis.url, commandTimeoutMs: 2000 }),
    prefix,
    timeout: '3s',
    ...(encrypt === undefined ? {} : { encrypt }),
  });
  caches.push(cache);
  return cache;
}

/** Every key and value under `pattern` on the server, as text (SCAN + GET: what an operator sees). */
async function serverDump(pattern: string): Promise<{ keys: string[]; values: string }> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = (await redis.command('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)) as [string, string[]];
    cursor = String(next);
    keys.push(...found.map(String));
  } while (cursor !== '0');
  const values = await Promise.all(keys.map((key) => redis.command('GET', key)));
  return { keys, values: values.map(String).join('\n') };
}

function app(store: CacheSessionStore): Express {
  const a = express();
  a.use(session({ store, secret: 's', resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
  a.post('/login/:user', (req, res, next) => {
    (req.session as unknown as SessionData).user = req.params.user;
    req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
  });
  a.get('/me', (req, res) => {
    res.json({ user: (req.session as unknown as SessionData).user ?? null });
  });
  return a;
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => {});
  await redis?.stop();
});

sessionStoreContract('redis, encrypted store', async () => redisCache('enc-contract:', { keys: [k1] }), {
  describe,
  it,
  beforeAll,
});

describe('CacheSessionStore({ encrypt }) on Redis', () => {
  it('stores no plaintext session data, and with hashKeys no plaintext key, in what SCAN shows', async () => {
    const cache = redisCache('enc-scan:', { keys: [k1], hashKeys: true });
    const a = app(new CacheSessionStore({ cache }));
    const login = await request(a).post('/login/ann.lovelace@example.com').expect(200);
    const cookie = login.headers['set-cookie'] as unknown as string[];
    expect((await request(a).get('/me').set('Cookie', cookie)).body.user).toBe('ann.lovelace@example.com');
    const sid = decodeURIComponent(String(cookie[0]).split(';')[0] as string)
      .slice('connect.sid=s:'.length)
      .split('.')[0] as string;
    const dump = await serverDump('enc-scan:*');
    expect(dump.keys.length).toBeGreaterThan(0);
    expect(dump.keys.join(' ')).not.toContain(sid);
    expect(dump.keys.join(' ')).not.toContain('sess');
    expect(dump.values).not.toContain('lovelace');
  });

  it('the encrypt option of the session store encrypts a plain cache’s sessions', async () => {
    const cache = redisCache('enc-option:');
    const a = app(new CacheSessionStore({ cache, encrypt: { keys: [k1] } }));
    const login = await request(a).post('/login/grace').expect(200);
    const cookie = login.headers['set-cookie'] as unknown as string[];
    expect((await request(a).get('/me').set('Cookie', cookie)).body.user).toBe('grace');
    expect((await serverDump('enc-option:*')).values).not.toContain('grace');
    // The plain cache reads the entry, and names what it lacks.
    const keys = (await serverDump('enc-option:*')).keys;
    const key = (keys[0] as string).slice('enc-option:'.length);
    await expect(cache.get(key)).rejects.toMatchObject({ code: 'E_VALUE_STEP_MISSING', step: 'encrypt' });
  });

  it('key rotation under load: sessions written with the old key stay readable, new writes use the new key, none is lost', async () => {
    const before = app(new CacheSessionStore({ cache: redisCache('enc-rotate:', { keys: [k1] }) }));
    const cookies: string[][] = [];
    for (let i = 0; i < 40; i++) {
      const login = await request(before).post(`/login/user-${i}`).expect(200);
      cookies.push(login.headers['set-cookie'] as unknown as string[]);
    }
    const after = app(new CacheSessionStore({ cache: redisCache('enc-rotate:', { keys: [k2, k1] }) }));
    // Both generations of the app serve at once, as during a rolling deploy.
    const reads = await Promise.all(
      cookies.flatMap((cookie, i) => [
        request(i % 2 === 0 ? before : after)
          .get('/me')
          .set('Cookie', cookie),
        request(after).get('/me').set('Cookie', cookie),
      ]),
    );
    expect(reads.map((read) => read.body.user)).toEqual(cookies.flatMap((_, i) => [`user-${i}`, `user-${i}`]));
    const fresh = await request(after).post('/login/new-user').expect(200);
    const freshCookie = fresh.headers['set-cookie'] as unknown as string[];
    expect((await request(after).get('/me').set('Cookie', freshCookie)).body.user).toBe('new-user');
    const dump = await serverDump('enc-rotate:*');
    expect(dump.values).toContain('k2');
    expect(dump.values).toContain('k1');
  });
});

describe('CacheSessionStore({ encrypt }) bad input', () => {
  it('bad keys are a ConfigError at construction that never shows the key', () => {
    const cache = redisCache('enc-bad:');
    const short = randomBytes(16);
    for (const encrypt of [{ keys: [] }, { keys: [{ id: 'k1', key: short }] }, { keys: [{ id: '', key: k1.key }] }]) {
      let error: unknown;
      try {
        new CacheSessionStore({ cache, encrypt: encrypt as EncryptOptions });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'E_CONFIG' });
      expect(String((error as Error).message)).not.toContain(short.toString('base64'));
    }
  });
});
