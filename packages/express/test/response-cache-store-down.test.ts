import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { responseCache } from '../src/index';
import { past, type Served, serve, until, untilHit } from './response-cache-harness';

// RFC 5861 §4 when the STORE is down: the lookup is skipped (fail open), so only a copy the
// cache's L1 still holds can answer the handler's error. With it, within the window, the stale
// entry answers; without it (no L1, or an L1 its channel's loss flushed) the handler's 5xx stands.
let server: RedisServer;
let cache: Cache;
let served: Served;
let failing = false;
let runs = 0;
beforeEach(async () => {
  server = await startRedis();
  failing = false;
  runs = 0;
});
afterEach(async () => {
  await served?.close();
  await cache?.close().catch(() => {});
  await server?.stop().catch(() => {});
});

async function start(l1: 'none' | 'tracking' | undefined): Promise<void> {
  cache = new Cache({
    store: createRedisStore({ url: server.url, commandTimeoutMs: 500 }),
    prefix: `rc-down-${process.pid}:`,
    timeout: '1s',
    breaker: true,
    ...(l1 ? { l1: { invalidation: l1, ttl: '1m' } } : {}),
  });
  const rc = responseCache({ cache, ttl: '1m' });
  const app = express();
  app.set('etag', false);
  app.get('/page/:name', rc, (req, res) => {
    runs++;
    if (failing) return void res.status(500).send('boom');
    const window = req.params.name === 'short' ? 1 : 60;
    const maxAge = req.params.name === 'long' ? 600 : 1;
    res.set('Cache-Control', `max-age=${maxAge}, stale-if-error=${window}`).send(`${req.params.name} ok`);
  });
  served = await serve(app);
}

/** Stops the server and waits until the response cache skips the store (its lookup of a URL the L1 lacks says so). */
async function storeDown(): Promise<void> {
  await server.kill();
  const errored = new Promise((resolve) => cache.on('error', resolve));
  await served.get('/page/never-read');
  await errored;
}

describe('responseCache stale-if-error with the store down (redis)', () => {
  it('a copy in the L1 answers the handler 5xx within the window, the 5xx stands outside it', async () => {
    await start('none');
    await served.get('/page/board');
    await served.get('/page/short');
    // A hit reads both keys of the entry through the cache: its L1 now holds them.
    await untilHit(served, '/page/board');
    await untilHit(served, '/page/short');
    const at = Date.now();
    failing = true;
    await storeDown();
    await past(at, 2100);
    for (let i = 0; i < 5; i++) {
      // A lookup of a URL the L1 lacks fails: the store is marked down (the lookups skip it).
      const unknown = await served.get(`/page/never-read-${i}`);
      expect(unknown.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=unavailable');
      const before = runs;
      const reply = await served.get('/page/board');
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('board ok');
      expect(reply.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=500');
      // The handler was asked (the entry is stale); its error was not sent.
      expect(runs).toBe(before + 1);
    }
    const outside = await served.get('/page/short');
    expect(outside.status).toBe(500);
    expect(outside.text).toBe('boom');
  });

  it('a fresh copy in the L1 is a hit while the store is down (the handler is not asked)', async () => {
    await start('none');
    await served.get('/page/long');
    await untilHit(served, '/page/long');
    failing = true;
    await storeDown();
    const before = runs;
    for (let i = 0; i < 3; i++) {
      const unknown = await served.get(`/page/never-read-${i}`);
      expect(unknown.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=unavailable');
      const reply = await served.get('/page/long');
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('long ok');
      expect(reply.headers['cache-status']).toMatch(/^larder; hit; ttl=\d+$/);
    }
    // Only the never-read requests reached the handler.
    expect(runs).toBe(before + 3);
  });

  it('without an L1 the handler 5xx stands', async () => {
    await start(undefined);
    await served.get('/page/board');
    await untilHit(served, '/page/board');
    const at = Date.now();
    failing = true;
    await storeDown();
    await past(at, 1100);
    const reply = await served.get('/page/board');
    expect(reply.status).toBe(500);
    expect(reply.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=unavailable');
  });

  it("without an L1 the cache's breaker says when the store is down, and its probes ride on the middleware's own lookups", async () => {
    await start(undefined);
    await served.get('/page/long');
    await untilHit(served, '/page/long');
    await server.kill();
    // Three failed lookups open the breaker (the middleware keeps no down-timer of its own).
    await until(
      async () => {
        const reply = await served.get('/page/long');
        expect(reply.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=unavailable');
        return cache.health().state === 'down';
      },
      5000,
      'the breaker to open',
    );
    const up = new Promise((resolve) => cache.on('up', resolve));
    await server.restart();
    // Nothing but the middleware asks the store: one of its lookups is the probe that closes the
    // breaker, and the next request is stored again (the restarted server lost the entry).
    await until(
      async () => /; stored$/.test(String((await served.get('/page/long')).headers['cache-status'])),
      5000,
      'the middleware to store again',
    );
    await up;
    expect(cache.health().state).toBe('up');
  });

  it('an L1 kept by tracking is flushed when the server goes: the handler 5xx stands', async () => {
    await start('tracking');
    await served.get('/page/board');
    await untilHit(served, '/page/board');
    const at = Date.now();
    failing = true;
    await storeDown();
    await past(at, 1100);
    const reply = await served.get('/page/board');
    expect(reply.status).toBe(500);
  });
});
