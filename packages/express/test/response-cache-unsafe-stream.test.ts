import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Cache } from '@larder/core';
import { type FaultProxy, startFaultProxy } from '@larder/dev-services';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';
import express, { type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, rcBackends, serve, until, withApp } from './response-cache-harness';

// Issue 40, defect 1: read-your-writes after an unsafe request whose response streams. A body
// written before `end()` (with a Content-Length the client knows it is whole) must not complete
// before the URI's entries are invalidated, or the client's next GET can read the old entry.
const env = rcBackends();
// 50 rounds per kind: before the fix 20 of 20 such GETs read the old entry (30 ms store); 200 cost CI 95 s a Node version.
const ROUNDS = 50;
// Added to every Redis round trip by a TCP proxy (15 ms each way).
const LATENCY_MS = 30;
let proxy: FaultProxy | undefined;
const caches: Cache[] = [];
let dir = '';
let file = '';

beforeAll(async () => {
  await env.start();
  const redis = env.redis();
  proxy = await startFaultProxy({ target: { host: redis.host, port: redis.port } });
  proxy.setFault({ kind: 'latency', ms: LATENCY_MS / 2 });
  dir = mkdtempSync(join(tmpdir(), 'larder-rc-'));
  file = join(dir, 'saved.txt');
  writeFileSync(file, 'saved');
});
afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => {});
  await proxy?.close();
  await env.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const backends = [
  { name: 'memory', cache: () => new Cache({ store: createMemoryStore(), prefix: 'rc-stream:' }) },
  {
    name: `redis behind a proxy adding ${LATENCY_MS} ms per round trip`,
    cache: () => {
      const url = new URL(env.redis().url);
      url.host = `${proxy?.host}:${proxy?.port}`;
      const cache = new Cache({
        store: createRedisStore({ url: url.toString(), commandTimeoutMs: 2000 }),
        prefix: `rc-stream-${process.pid}:`,
        timeout: '3s',
      });
      caches.push(cache);
      return cache;
    },
  },
];

/** How each PUT handler answers: its body goes out through `write`/a pipe/`sendFile` before `end`. */
const answers: Record<string, (res: Response) => void> = {
  'write then end, with Content-Length': (res) => {
    res.setHeader('Content-Length', '5');
    res.write('saved');
    res.end();
  },
  'write then end, chunked': (res) => {
    res.write('sa');
    res.end('ved');
  },
  'a piped Readable, with Content-Length': (res) => {
    res.setHeader('Content-Length', '5');
    Readable.from([Buffer.from('sa'), Buffer.from('ved')]).pipe(res);
  },
  'a piped Readable, chunked': (res) => {
    Readable.from([Buffer.from('sa'), Buffer.from('ved')]).pipe(res);
  },
  'res.sendFile': (res) => {
    res.sendFile(file);
  },
  // A 204 is whole with its headers: flushing them completes it for the client.
  '204 with flushHeaders': (res) => {
    res.status(204).flushHeaders();
    setImmediate(() => res.end());
  },
};

describe.each(backends)('responseCache: a streamed unsafe response and the next GET ($name)', (backend) => {
  it(`the same client's GET right after each of ${ROUNDS} streamed PUTs sees the new state, whatever the PUT's response streams`, async () => {
    const cache = backend.cache();
    const app = express();
    const kinds = Object.keys(answers);
    const versions = new Map(kinds.map((_, i) => [String(i), 1]));
    const rcs = kinds.map(() => cacheFor({ cache, ttl: '1m' }));
    kinds.forEach((kind, i) => {
      const rc = rcs[i]!;
      app.get(`/doc/${i}`, rc, (_req, res) => {
        res.send(`v${versions.get(String(i))}`);
      });
      app.put(`/doc/${i}`, rc, (_req, res) => {
        versions.set(String(i), (versions.get(String(i)) ?? 0) + 1);
        answers[kind]?.(res);
      });
    });
    const served = await serve(app);
    try {
      const results = await Promise.all(
        kinds.map(async (kind, i) => {
          const rc = rcs[i]!;
          // One keep-alive connection: the client sends its GET as soon as the PUT's response is whole.
          const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          const path = `/doc/${i}`;
          const stale: string[] = [];
          let unstored = 0;
          try {
            let stored = rc.stats().stored;
            await served.request(path, { agent });
            await until(() => rc.stats().stored > stored, 5000, `${kind}: the first entry`);
            for (let round = 1; round <= ROUNDS; round++) {
              // Every PUT finds an entry of the old state to retire.
              const put = await served.request(path, { method: 'PUT', agent });
              expect(put.text).toBe(put.status === 204 ? '' : 'saved');
              stored = rc.stats().stored;
              const got = await served.request(path, { agent });
              const expected = `v${versions.get(String(i))}`;
              if (got.text !== expected) stale.push(`round ${round}: ${got.text} (${got.headers['x-cache']})`);
              await rc.settled();
              if (rc.stats().stored > stored) continue;
              // Not stored: a HIT, or an invalidation that raced the GET's fill. Store the state again.
              if (got.headers['x-cache'] === 'MISS') unstored++;
              await served.request(path, { agent });
              await rc.settled();
            }
          } finally {
            agent.destroy();
          }
          return { kind, stale, unstored };
        }),
      );
      const summary = results.map(({ kind, stale, unstored }) => ({
        kind,
        stale: stale.length,
        unstored,
        first: stale[0],
      }));
      expect(summary).toEqual(kinds.map((kind) => ({ kind, stale: 0, unstored: 0, first: undefined })));
    } finally {
      await served.close();
    }
  }, 180_000);

  it('a PUT whose response is cut short after its status went out still invalidates the URI (in the background)', async () => {
    let version = 1;
    await withApp(
      { cache: backend.cache(), ttl: '1m' },
      (app, rc) => {
        app.get('/cut', rc, (_req, res) => {
          res.send(`v${version}`);
        });
        app.put('/cut', rc, (_req, res) => {
          version++;
          res.setHeader('Content-Length', '10');
          res.write('part', () => res.destroy());
        });
      },
      async (served, rc) => {
        await served.get('/cut');
        await until(() => rc.stats().stored === 1, 5000, 'the entry');
        await expect(served.request('/cut', { method: 'PUT' })).rejects.toThrow();
        await rc.settled();
        const after = await served.get('/cut');
        expect(after.text).toBe('v2');
        expect(after.headers['x-cache']).toBe('MISS');
      },
    );
  });

  it('a middleware mounted after the cache that wraps res.end still sees the end of a response held at its last write', async () => {
    let ends = 0;
    await withApp(
      { cache: backend.cache(), ttl: '1m' },
      (app, rc) => {
        app.put('/wrapped', rc, (_req, res, next) => {
          const end = res.end;
          res.end = function (this: Response, ...args: unknown[]) {
            ends++;
            return (end as (...a: unknown[]) => Response).apply(this, args);
          } as Response['end'];
          next();
        });
        app.put('/wrapped', (_req, res) => {
          res.setHeader('Content-Length', '5');
          // `end()` comes once the (held) write is out.
          res.write('saved', () => res.end());
        });
      },
      async (served) => {
        expect((await served.request('/wrapped', { method: 'PUT' })).text).toBe('saved');
        expect(ends).toBe(1);
      },
    );
  });

  it('a write of a chunk Node refuses throws before any header is sent, as without the cache (the error handler answers 500)', async () => {
    await withApp(
      { cache: backend.cache(), ttl: '1m' },
      (app, rc) => {
        app.put('/bad-chunk', rc, (_req, res) => {
          res.write(42 as unknown as string);
        });
      },
      async (served) => {
        expect((await served.request('/bad-chunk', { method: 'PUT' })).status).toBe(500);
      },
    );
  });
});
