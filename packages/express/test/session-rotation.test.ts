import { randomBytes } from 'node:crypto';
import { Cache, type EncryptOptions } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import express, { type Express } from 'express';
import session from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheSessionStore, type SessionData } from '../src/index';

// Key rotation on a real Redis, following the core README's steps ("Encryption"): each step's app
// serves beside the previous step's, as in a rolling deploy, while sessions are written and read.
let redis: RedisServer;
const caches: Cache[] = [];
const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const USERS = 16;

function redisCache(prefix: string, encrypt: EncryptOptions): Cache {
  const cache = new Cache({
    store: createRedisStore({ url: redis.url, commandTimeoutMs: 3000 }),
    prefix,
    timeout: '5s',
    encrypt,
  });
  caches.push(cache);
  return cache;
}

/** An app whose session counts its writes: POST /login/:user, POST /hit (a read-modify-write), GET /me. */
function app(cache: Cache): Express {
  const a = express();
  a.use(
    session({
      store: new CacheSessionStore({ cache }),
      secret: 's',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3_600_000 },
    }),
  );
  a.post('/login/:user', (req, res, next) => {
    Object.assign(req.session, { user: req.params.user, hits: 0 });
    req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
  });
  a.post('/hit', (req, res, next) => {
    const data = req.session as unknown as SessionData & { hits?: number };
    if (data.user === undefined) return void res.status(401).json({ lost: true });
    data.hits = (data.hits ?? 0) + 1;
    req.session.save((err) => (err ? next(err) : res.json({ user: data.user, hits: data.hits })));
  });
  a.get('/me', (req, res) => {
    const data = req.session as unknown as SessionData & { hits?: number };
    res.json({ user: data.user ?? null, hits: data.hits ?? null });
  });
  return a;
}

/** Every key name under `pattern` on the server (what SCAN shows an operator). */
async function serverKeys(pattern: string): Promise<string> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = (await redis.command('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)) as [string, string[]];
    cursor = String(next);
    keys.push(...found.map(String));
  } while (cursor !== '0');
  return keys.join(' ');
}

interface User {
  name: string;
  cookie: string[];
  hits: number;
}

/** Each user, concurrently with the others, writes then reads its session `rounds` times, alternating apps. */
async function load(users: User[], apps: Express[], rounds: number): Promise<void> {
  await Promise.all(
    users.map(async (user, u) => {
      for (let r = 0; r < rounds; r++) {
        const writer = apps[(u + r) % apps.length] as Express;
        const reader = apps[(u + r + 1) % apps.length] as Express;
        const hit = await request(writer).post('/hit').set('Cookie', user.cookie);
        expect(hit.status, `${user.name} lost`).toBe(200);
        user.hits++;
        const me = await request(reader).get('/me').set('Cookie', user.cookie).expect(200);
        expect(me.body).toEqual({ user: user.name, hits: user.hits });
      }
    }),
  );
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => {});
  await redis?.stop();
});

const ROTATIONS: [string, [string, EncryptOptions][]][] = [
  [
    'with hashKeys',
    [
      ['one key, hashKeys: true', { keys: [k1], hashKeys: true }],
      ['the name key pinned', { keys: [k1], hashKeys: k1.key }],
      ['the new key listed second', { keys: [k1, k2], hashKeys: k1.key }],
      ['the new key first', { keys: [k2, k1], hashKeys: k1.key }],
      ['the old key dropped', { keys: [k2], hashKeys: k1.key }],
    ],
  ],
  [
    'without hashKeys',
    [
      ['one key', { keys: [k1] }],
      ['the new key listed second', { keys: [k1, k2] }],
      ['the new key first', { keys: [k2, k1] }],
      ['the old key dropped', { keys: [k2] }],
    ],
  ],
];

describe.each(ROTATIONS)('key rotation %s on Redis: the README steps under load', (variant, steps) => {
  it('loses no session and no entry, with each step serving beside the one before', async () => {
    const hashed = variant === 'with hashKeys';
    const prefix = hashed ? 'rotate-hashed:' : 'rotate-plain:';
    const users: User[] = [];
    let previous: { cache: Cache; app: Express } | undefined;
    for (const [i, [step, encrypt]] of steps.entries()) {
      const cache = redisCache(prefix, encrypt);
      const current = { cache, app: app(cache) };
      const last = i === steps.length - 1;
      if (last && previous !== undefined) {
        // The old key goes once what it wrote is rewritten: a write per session and entry with the new writer.
        await load(users, [previous.app], 1);
        for (let j = 0; j < i; j++) await previous.cache.set(`user:${j}@example.com`, j);
      }
      for (let j = 0; j < i; j++) expect(await cache.get(`user:${j}@example.com`), step).toBe(j);
      await cache.set(`user:${i}@example.com`, i, '1h');
      const apps = previous === undefined ? [current.app] : [previous.app, current.app];
      // New logins on every app serving, then everyone's sessions written and read across both apps.
      for (const a of apps) {
        const name = `person-${users.length}@example.com`;
        const login = await request(a).post(`/login/${name}`).expect(200);
        users.push({ name, cookie: login.headers['set-cookie'] as unknown as string[], hits: 0 });
      }
      while (users.length < USERS && i === 0) {
        const name = `person-${users.length}@example.com`;
        const login = await request(current.app).post(`/login/${name}`).expect(200);
        users.push({ name, cookie: login.headers['set-cookie'] as unknown as string[], hits: 0 });
      }
      await load(users, apps, 2);
      if (hashed) expect(await serverKeys(`${prefix}*`), step).not.toMatch(/person|user|example|sess/);
      previous = current;
    }
    const final = (previous as { app: Express }).app;
    const reads = await Promise.all(users.map((user) => request(final).get('/me').set('Cookie', user.cookie)));
    expect(reads.map((read) => read.body)).toEqual(users.map((user) => ({ user: user.name, hits: user.hits })));
  }, 120_000);
});
