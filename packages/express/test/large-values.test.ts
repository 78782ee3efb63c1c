import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheSessionStore, responseCache, type SessionData } from '../src/index';

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

  it('a 5 MB response through responseCache is stored in chunks and replayed byte-exact over HTTP', async () => {
    const body = randomBytes(5 * 1024 * 1024);
    let runs = 0;
    const app = express();
    // A 5 MB read (index, 6 chunks, a checksum) takes longer than the default 50 ms lookup budget.
    const rc = responseCache({ cache, ttl: '1m', maxBodyBytes: 8 * 1024 * 1024, lookupBudget: '10s' });
    app.get('/report', rc, (_req, res) => {
      runs++;
      res.type('application/octet-stream').send(body);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/report`;
    const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    try {
      const before = await chunkKeys();
      const miss = await fetch(url);
      expect(miss.headers.get('x-cache')).toBe('MISS');
      expect(sha(new Uint8Array(await miss.arrayBuffer()))).toBe(sha(body));
      // The entry is written as the response ends: wait for the replay rather than a fixed time.
      let hit: Response | undefined;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const res = await fetch(url);
        if (res.headers.get('x-cache') === 'HIT') {
          hit = res;
          break;
        }
        await res.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(hit, 'no HIT within 60 s').toBeDefined();
      const replayed = Buffer.from(await (hit as Response).arrayBuffer());
      expect(replayed.length).toBe(body.length);
      expect(replayed.equals(body)).toBe(true);
      expect(hit?.headers.get('content-type')).toBe('application/octet-stream');
      expect(await chunkKeys()).toBeGreaterThanOrEqual(before + 5);
      const count = runs;
      const again = Buffer.from(await (await fetch(url)).arrayBuffer());
      expect(again.equals(body)).toBe(true);
      expect(runs).toBe(count);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 90_000);
});
