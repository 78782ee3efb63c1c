import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkApps, type Instances } from './fork-apps';
import { past, until } from './response-cache-harness';

// RFC 5861 §3 across a fleet: two app processes on one redis-server serving the same stale entry
// start one background revalidation between them (the instance whose claim lands).
const APP = fileURLToPath(new URL('./fixtures/response-cache-app.ts', import.meta.url));

let server: RedisServer;
let instances: Instances;
beforeAll(async () => {
  server = await startRedis();
  instances = await forkApps(APP, { LARDER_TEST_REDIS: server.url, LARDER_TEST_PREFIX: `rc-fleet-${process.pid}:` });
}, 30_000);
afterAll(async () => {
  await instances?.stop();
  await server?.stop();
});

interface Reply {
  status: number;
  text: string;
  xCache: string;
  cacheStatus: string;
  ms: number;
}

/** One request (on a fresh connection unless `agent` is given), with the same `Host` whichever instance it goes to (one origin, one entry). */
function send(url: string, method = 'GET', agent: http.Agent | false = false): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, setHost: false, headers: { host: 'a.example' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString(),
          xCache: String(res.headers['x-cache']),
          cacheStatus: String(res.headers['cache-status']),
          ms: performance.now() - started,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function runs(url: string): Promise<{ started: number; held: number }> {
  return JSON.parse((await send(`${url}/control/runs`)).text);
}

const both = (path: string, method = 'POST') => Promise.all(instances.urls.map((url) => send(`${url}${path}`, method)));

/** Fills `path` through instance A (the handler not held) and waits until B hits it. Resolves when it was filled. */
async function fill(path: string): Promise<number> {
  const [a, b] = instances.urls;
  await both('/control/release');
  await both('/control/version?v=1');
  await send(`${a}${path}`);
  const at = Date.now();
  await send(`${a}/control/settled`);
  await until(async () => (await send(`${b}${path}`)).xCache === 'HIT', 3000, 'a hit on B');
  return at;
}

describe('responseCache stale-while-revalidate across two processes (redis)', () => {
  it('20 concurrent stale requests over both instances start one revalidation, none waits for it', async () => {
    const [a, b] = instances.urls;
    const at = await fill('/page/board');
    const before = (await runs(a)).started + (await runs(b)).started;
    expect(before).toBe(1);
    await both('/control/hold');
    await both('/control/version?v=2');
    await past(at, 1100);
    // The revalidation is held at the gate: every stale request is answered without it.
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => send(`${i % 2 ? b : a}/page/board`)));
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('board v1');
      expect(reply.xCache).toBe('HIT');
      expect(reply.cacheStatus).toBe('larder; hit; fwd=stale; detail=stale-while-revalidate');
    }
    // Each stale request, one at a time on either instance, is answered at once: on a kept-alive
    // connection, and the best of three tries (at a load average of 25 on 2 cores single
    // requests took 60-70 ms; one that waited on the held revalidation would never end).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const url of [a, b, a, b, a, b]) {
        const tries: number[] = [];
        for (let i = 0; i < 3; i++) {
          const reply = await send(`${url}/page/board`, 'GET', agent);
          expect(reply.text).toBe('board v1');
          tries.push(reply.ms);
        }
        expect(Math.min(...tries)).toBeLessThan(50);
      }
    } finally {
      agent.destroy();
    }
    await until(
      async () => (await runs(a)).held + (await runs(b)).held === 1,
      5000,
      'exactly one held revalidation (of both instances)',
    );
    const holder = (await runs(a)).held === 1 ? a : b;
    const other = holder === a ? b : a;
    // The other instance's claims have all been refused once its own background work settled
    // (had one of them landed, its revalidation would be held too).
    await send(`${other}/control/settled`);
    expect((await runs(other)).held).toBe(0);
    expect((await runs(a)).started + (await runs(b)).started).toBe(2);
    await both('/control/release');
    await Promise.all([send(`${a}/control/settled`), send(`${b}/control/settled`)]);
    for (const url of [b, a]) {
      const fresh = await send(`${url}/page/board`);
      expect(fresh.text).toBe('board v2');
      expect(fresh.cacheStatus).toMatch(/^larder; hit; ttl=\d+$/);
    }
    expect((await runs(a)).started + (await runs(b)).started).toBe(2);
  }, 30_000);

  it('a PUT on one instance during the other one revalidation is never overwritten by it', async () => {
    const [a, b] = instances.urls;
    const at = await fill('/page/item');
    await both('/control/hold');
    await past(at, 1100);
    expect((await send(`${a}/page/item`)).text).toBe('item v1');
    await until(async () => (await runs(a)).held === 1, 5000, 'the revalidation on A');
    // The write lands on B while A's revalidation has read v1 and is still working.
    await both('/control/version?v=2');
    const put = await send(`${b}/page/item`, 'PUT');
    expect(put.status).toBe(200);
    await both('/control/release');
    await Promise.all([send(`${a}/control/settled`), send(`${b}/control/settled`)]);
    for (const url of [a, b]) {
      const after = await send(`${url}/page/item`);
      expect(after.text).toBe('item v2');
    }
  }, 30_000);
});
