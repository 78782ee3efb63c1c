import { parseInfo } from '@larder/dev-services';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, rcBackends, serve, until, untilHit } from './response-cache-harness';

// What a revalidation's 304 writes to the store, counted by redis-server itself (INFO stats
// total_net_input_bytes): today the whole entry, body included (README "Entry format": the
// headers, freshness and body are one value, so a refresh cannot leave the body's bytes alone).
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

const BODY = 'x'.repeat(256 * 1024);

async function bytesIn(): Promise<number> {
  const info = parseInfo(String(await env.redis().command('INFO', 'stats')));
  return Number(info.total_net_input_bytes);
}

describe('responseCache revalidation, bytes written (redis)', () => {
  it('a 304 rewrites the whole 256 KiB entry; a hit sends under 1 KiB', async () => {
    const redis = env.backends.find((b) => b.name === 'redis')!;
    const rc = cacheFor({ cache: redis.cache(), ttl: '1m' });
    let runs = 0;
    const app = express();
    app.get('/big', rc, (_req, res) => {
      runs++;
      res.set('Cache-Control', 'max-age=1').send(BODY);
    });
    const served = await serve(app);
    try {
      await served.get('/big');
      const at = Date.now();
      await rc.settled();
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
      expect(runs).toBe(2);
      // The limit as it stands: the body's bytes go to the store again (plus the header, the lookup).
      expect(revalidated).toBeGreaterThan(BODY.length);
      expect(revalidated).toBeLessThan(BODY.length + 4096);
    } finally {
      await served.close();
    }
  });
});
