import { freezeProcess } from '@larder/dev-services';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseCache } from '../src/index';
import { rcBackends, type Served, serve, untilHit } from './response-cache-harness';

// Issue 20, defect 8: a cache outage never fails a route. The response cache fails open, whatever
// the cache's `onError`, and gives up on a lookup after its time budget (default 50 ms).
const env = rcBackends();
const redisBackend = env.backends.find((b) => b.name === 'redis')!;
beforeAll(() => env.start());
afterAll(() => env.stop());

/** Handler time of the test routes. */
const HANDLER_MS = 20;
/**
 * What a loaded 2-core CI machine adds to a request on top of the budget and the handler. A
 * lookup left waiting on the outage would add the cache's 3 s timeout instead.
 */
const SLACK_MS = 500;

async function app(onError: 'throw' | 'miss'): Promise<{ served: Served; runs: () => number }> {
  const rc = responseCache({ cache: redisBackend.cache({ onError }), ttl: '1m' });
  let runs = 0;
  const a = express();
  a.get('/report', rc, async (_req, res) => {
    runs++;
    await new Promise((resolve) => setTimeout(resolve, HANDLER_MS));
    res.send('report');
  });
  return { served: await serve(a), runs: () => runs };
}

/** Every request during the outage is answered by the handler, within the budget plus its own time. */
async function expectFailOpen(served: Served, runs: () => number): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const before = runs();
    const start = Date.now();
    const reply = await served.get('/report');
    const took = Date.now() - start;
    const what = `request ${i} of the outage`;
    expect(reply.status, what).toBe(200);
    expect(reply.text, what).toBe('report');
    expect(reply.headers['cache-status'], what).toBe('larder; fwd=uri-miss; detail=unavailable');
    expect(runs(), what).toBe(before + 1);
    expect(took, what).toBeLessThan(50 + HANDLER_MS + SLACK_MS);
  }
}

describe.each(['throw', 'miss'] as const)('responseCache on a Redis outage (cache onError: %s)', (onError) => {
  it('a stopped Redis: every request answered by the handler, then hits again once Redis is back', async () => {
    const { served, runs } = await app(onError);
    const redis = env.redis();
    try {
      await served.get('/report');
      await untilHit(served, '/report');
      await redis.kill();
      try {
        await expectFailOpen(served, runs);
      } finally {
        await redis.restart();
      }
      // The restarted server is empty: a fill, then hits.
      await untilHit(served, '/report', undefined, 15_000);
    } finally {
      await served.close();
    }
  });

  it('a frozen Redis (SIGSTOP): the lookup is abandoned after the budget; the handler answers', async () => {
    const { served, runs } = await app(onError);
    const pid = env.redis().pid as number;
    try {
      await served.get('/report');
      await untilHit(served, '/report');
      await freezeProcess(pid);
      try {
        await expectFailOpen(served, runs);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await untilHit(served, '/report', undefined, 15_000);
    } finally {
      await served.close();
    }
  });
});
