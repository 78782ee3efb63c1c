import { parseInfo } from '@larder/dev-services';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, rcBackends, serve, until, untilHit } from './response-cache-harness';

// Issue #40: what a revalidation's 304 writes to the store, counted by redis-server itself
// (INFO stats total_net_input_bytes, every byte any client sent it). A response is a small head
// and a body under a key of its own (@larder/http README "How entries are stored"): the 304
// rewrites the head, never the body's bytes.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

const BODY = 'x'.repeat(256 * 1024);

async function bytesIn(): Promise<number> {
  const info = parseInfo(String(await env.redis().command('INFO', 'stats')));
  return Number(info.total_net_input_bytes);
}

describe('responseCache revalidation, bytes written (redis)', () => {
  it('a 304 revalidation of a 256 KiB entry writes under 4 KiB; the next hit serves the same body, refreshed', async () => {
    const redis = env.backends.find((b) => b.name === 'redis')!;
    const rc = cacheFor({ cache: redis.cache(), ttl: '1m' });
    const asked: (string | undefined)[] = [];
    const app = express();
    app.get('/big', rc, (req, res) => {
      asked.push(req.headers['if-none-match']);
      // The first response is fresh for 1 s; the 304 refreshes it for a minute, with a header of its own.
      const first = asked.length === 1;
      res.set({ 'Cache-Control': `max-age=${first ? 1 : 60}`, 'X-Run': String(asked.length) });
      res.send(BODY);
    });
    const served = await serve(app);
    try {
      const stored = await served.get('/big');
      const at = Date.now();
      await rc.settled();
      await untilHit(served, '/big');
      // The first read of a scoped (tagged) entry on a connection sends the driver's read script
      // once (EVAL, about 1.2 KB); the hits after it send its digest (EVALSHA).
      await untilHit(served, '/big');
      let before = await bytesIn();
      expect((await served.get('/big')).headers['x-cache']).toBe('HIT');
      const hit = (await bytesIn()) - before;
      expect(hit).toBeLessThan(1024);
      await until(() => Date.now() > at + 1100, 3000, 'the entry to go stale');

      before = await bytesIn();
      const reply = await served.get('/big');
      await rc.settled();
      const revalidated = (await bytesIn()) - before;
      expect(reply.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=304; stored');
      expect(reply.text).toBe(BODY);
      // Exactly one handler run, asked conditionally with the stored ETag.
      expect(asked).toEqual([undefined, stored.headers.etag]);
      // The lookup and the head: the body's 256 KiB are not sent again (before #40: 262,902 bytes).
      expect(revalidated).toBeLessThan(4096);

      const next = await served.get('/big');
      expect(next.headers['x-cache']).toBe('HIT');
      expect(next.text).toBe(BODY);
      expect(next.headers.etag).toBe(stored.headers.etag);
      // RFC 9111 §4.3.4: the 304's headers replace the stored ones (X-Run, Cache-Control, Date)...
      expect(next.headers['x-run']).toBe('2');
      expect(next.headers['cache-control']).toBe('max-age=60');
      // ...and the freshness counts from the refresh: Age restarts, a minute to live.
      expect(Number(next.headers.age)).toBeLessThanOrEqual(1);
      expect(next.headers['cache-status']).toMatch(/^larder; hit; ttl=(59|60)$/);
      expect(asked).toHaveLength(2);
    } finally {
      await served.close();
    }
  });
});
