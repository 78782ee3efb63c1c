import { randomBytes } from 'node:crypto';
import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheSessionStore, type SessionData } from '../src/index';

// Values above the backend's item limit through the integrations (core README "Values"): a
// Redis store limited to 1 MiB per item, a cache with a 16 MB ceiling, so 5 MB are chunked.
let redis: RedisServer;
let cache: Cache;
beforeAll(async () => {
  redis = await startRedis();
  cache = new Cache({
    store: createRedisStore({ url: redis.url, maxValueBytes: 1024 * 1024, commandTimeoutMs: 5000 }),
    prefix: 'large:',
    timeout: '10s',
    maxValueBytes: '16mb',
  });
});
afterAll(async () => {
  await cache?.close();
  await redis?.stop();
});

/** How many chunk keys the server holds (`<key>~c<suffix>:<n>`). */
async function chunkKeys(): Promise<number> {
  const keys = (await redis.command('KEYS', 'large:*~c*')) as unknown[];
  return keys.length;
}

describe('values above the item limit through @larder/express', () => {
  it('a session of 5 MB is stored and read back', async () => {
    const store = new CacheSessionStore({ cache, prefix: 'big-sess' });
    const blob = randomBytes(5 * 1024 * 1024).toString('base64');
    const app = express();
    app.use(session({ store, secret: 's', resave: false, saveUninitialized: false }));
    app.post('/fill', (req, res, next) => {
      (req.session as unknown as SessionData).blob = blob;
      req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
    });
    app.get('/blob', (req, res) => {
      res.json({ same: (req.session as unknown as SessionData).blob === blob });
    });
    const fill = await request(app).post('/fill').expect(200);
    const cookie = fill.headers['set-cookie'] as unknown as string[];
    expect((await request(app).get('/blob').set('Cookie', cookie)).body).toEqual({ same: true });
    expect(await chunkKeys()).toBeGreaterThanOrEqual(6);
  });
});
