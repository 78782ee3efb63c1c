import http from 'node:http';
import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { Controller, Get, Header } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { until } from '../../http/test/harness';
import { LarderResponseCache } from '../src/index';
import { type Platform, responseCacheModule, serveNest } from './nest-app';

// RFC 5861 §3 on Nest: the stale entry answers at once while one copy of the request goes
// through the platform's app (Express `handle`, Fastify `routing`) in the background.

describe.each(['express', 'fastify'] as Platform[])('Nest (%s): stale-while-revalidate', (platform) => {
  it('serves the stale body at once to 5 concurrent requests, one background run, then fresh; keep-alive after hits', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const revalidation = new Promise<void>((resolve) => {
      release = resolve;
    });
    @Controller()
    class BoardController {
      @Get('board')
      @Header('cache-control', 'max-age=1, stale-while-revalidate=30')
      async board() {
        runs++;
        // The revalidation waits for the test: the five stale requests are all answered meanwhile.
        if (runs === 2) await revalidation;
        return `board v${runs}`;
      }
    }
    const { app, served } = await serveNest(
      responseCacheModule(BoardController, {
        cache: new Cache({ store: createMemoryStore(), prefix: `swr-${platform}:` }),
        responseCache: { ttl: '1m', lookupBudget: '3s' },
      }),
      platform,
    );
    const rc = app.get(LarderResponseCache);
    try {
      await served.get('/board');
      const at = Date.now();
      await rc.settled();
      // Two hits on one keep-alive connection: the platform is left able to serve the next request.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set<unknown>();
      for (let i = 0; i < 2; i++) {
        const reply = await keptAlive(served.port, agent, sockets);
        expect(reply).toMatchObject({ xCache: 'HIT', body: 'board v1' });
      }
      expect(sockets.size).toBe(1);
      agent.destroy();
      await until(() => Date.now() > at + 1100, 3000, 'the entry to go stale');
      const replies = await Promise.all(Array.from({ length: 5 }, () => served.get('/board')));
      release();
      for (const reply of replies) {
        expect(reply.text).toBe('board v1');
        expect(reply.headers['cache-status']).toBe('larder; hit; fwd=stale; detail=stale-while-revalidate');
      }
      await until(() => runs === 2, 3000, 'the background run');
      await rc.settled();
      const fresh = await served.get('/board');
      expect(fresh.text).toBe('board v2');
      expect(fresh.headers['x-cache']).toBe('HIT');
      expect(runs).toBe(2);
      expect(rc.stats()).toMatchObject({ hits: expect.any(Number) });
    } finally {
      await served.close();
    }
  });
});

/** A GET of /board on a keep-alive agent (Host `a.example`, as the harness sends), noting its socket. */
function keptAlive(port: number, agent: http.Agent, sockets: Set<unknown>): Promise<{ xCache: unknown; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/board', agent, headers: { host: 'a.example' } }, (res) => {
      sockets.add(res.socket);
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      res.on('end', () => resolve({ xCache: res.headers['x-cache'], body }));
    });
    req.on('error', reject);
  });
}
