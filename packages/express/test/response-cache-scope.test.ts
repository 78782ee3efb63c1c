import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, rcBackends, type Served, serve, until, untilHit } from './response-cache-harness';

// Issue 40: a response is written through its URL's scope pinned before its handler ran, so an
// invalidation that lands while the handler runs, on any instance, wins over the response.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('responseCache writes through the pinned scope ($name)', (backend) => {
  it("a miss whose handler ran across another instance's PUT never stores what it read", async () => {
    const cache = backend.cache();
    let version = 0;
    let release: (() => void) | undefined;
    let reading = false;
    // Two instances (two middlewares, each with its own flights) of one app on one store.
    const [a, b] = (await Promise.all(
      [cache, cache.withOptions({ onError: 'throw' })].map((view) => {
        const rc = cacheFor({ cache: view, ttl: '1m' });
        const app = express();
        app.get('/doc', rc, async (_req, res) => {
          const read = `v${version}`;
          if (release === undefined) {
            reading = true;
            await new Promise<void>((resolve) => {
              release = resolve;
            });
          }
          res.send(read);
        });
        app.put('/doc', rc, (_req, res) => {
          version++;
          res.send(`v${version}`);
        });
        return serve(app);
      }),
    )) as [Served, Served];
    try {
      // B's handler reads v0 and waits; A's PUT changes it and invalidates; then B answers v0.
      const slow = b.get('/doc');
      await until(() => reading, 3000, "B's handler to read");
      expect((await a.request('/doc', { method: 'PUT' })).text).toBe('v1');
      (release as () => void)();
      expect((await slow).text).toBe('v0');
      // Neither instance ever serves v0 again: B's write read as invalidated (it lands, as a miss).
      for (const one of [a, b]) expect((await untilHit(one, '/doc')).text).toBe('v1');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('responseCache on a cache with the msgpack codec', () => {
  it('stores and answers hits: a binary codec keeps the entry header, so the scope is recorded as with JSON', async () => {
    const cache = new Cache({ store: createMemoryStore({ useCodec: true }), prefix: 'rcs:', codec: 'msgpack' });
    let runs = 0;
    const rc = cacheFor({ cache, ttl: '1m' });
    const app = express();
    app.get('/doc', rc, (_req, res) => {
      runs++;
      res.send('doc');
    });
    const served = await serve(app);
    try {
      const first = await served.get('/doc');
      expect(first.headers['x-cache']).toBe('MISS');
      await rc.settled();
      for (let i = 0; i < 2; i++) {
        const reply = await served.get('/doc');
        expect(reply.text).toBe('doc');
        expect(reply.headers['x-cache']).toBe('HIT');
      }
      expect(runs).toBe(1);
      // And a drop of the URL's scope reaches it.
      await rc.invalidate('/doc');
      expect((await served.get('/doc')).headers['x-cache']).toBe('MISS');
      expect(runs).toBe(2);
    } finally {
      await served.close();
    }
  });
});
