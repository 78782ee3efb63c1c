import http from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, rcBackends, serve, until } from './response-cache-harness';

// Bad input gets the handler's response and nothing stored.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('responseCache on bad input ($name)', (backend) => {
  async function twice(path: string, expected: { status: number; detail: string }): Promise<void> {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let runs = 0;
    const app = express();
    app.use(rc);
    app.use((req, res) => {
      runs++;
      res.send(`handled ${req.url.length} chars`);
    });
    const served = await serve(app);
    try {
      const first = await served.get(path);
      expect(first.status).toBe(expected.status);
      expect(first.text).toBe(`handled ${path.length} chars`);
      expect(first.headers['cache-status']).toBe(`larder; fwd=bypass; detail=${expected.detail}`);
      await rc.settled();
      const second = await served.get(path);
      expect(second.headers['x-cache']).toBe('MISS');
      expect(runs).toBe(2);
    } finally {
      await served.close();
    }
  }

  it('a 100 KB URL: the handler answers, nothing is stored', async () => {
    await twice(`/search?q=${'a'.repeat(100_000)}`, { status: 200, detail: 'uri-too-long' });
  });

  it.each([
    ['CR/LF', '/a%0d%0aSet-Cookie:%20x=1'],
    ['NUL', '/b%00c'],
    ['lower-case hex and DEL', '/c%0a%7f'],
  ])('encoded %s in the path: the handler answers, nothing is stored', async (_name, path) => {
    await twice(path, { status: 200, detail: 'uri-control' });
  });

  it('a Vary naming 200 headers: the handler’s response, nothing stored', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let runs = 0;
    const app = express();
    const names = Array.from({ length: 200 }, (_, i) => `X-H${i}`).join(', ');
    app.get('/wide', rc, (_req, res) => {
      runs++;
      res.set('Vary', names).send('wide');
    });
    const served = await serve(app);
    try {
      const first = await served.get('/wide');
      expect(first.text).toBe('wide');
      expect(first.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=vary-limit');
      await rc.settled();
      expect((await served.get('/wide')).headers['x-cache']).toBe('MISS');
      expect(runs).toBe(2);
    } finally {
      await served.close();
    }
  });

  it('a handler that destroys the response mid-stream: the client sees the abort, nothing stored, a waiting request runs its own handler', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = express();
    app.get('/broken', rc, async (_req, res) => {
      runs++;
      if (runs === 1) {
        res.type('text/plain').write('partial ');
        await gate;
        res.destroy();
        return;
      }
      res.send('whole');
    });
    const served = await serve(app);
    try {
      const aborted = new Promise<string>((resolve) => {
        const options = {
          host: '127.0.0.1',
          port: served.port,
          path: '/broken',
          agent: false,
          headers: { host: 'a.example' },
        };
        const req = http.get(options, (res) => {
          res.on('data', () => {});
          res.on('aborted', () => resolve('aborted'));
          res.on('error', () => resolve('aborted'));
          res.on('end', () => resolve('ended'));
        });
        req.on('error', () => resolve('aborted'));
      });
      await until(() => runs === 1);
      const follower = served.get('/broken');
      await until(() => rc.stats().waiting === 1, 3000, 'the follower to join the flight');
      release();
      expect(await aborted).toBe('aborted');
      const second = await follower;
      expect(second.text).toBe('whole');
      expect(runs).toBe(2);
      await rc.settled();
      // The follower's own response was stored; the broken one never was.
      expect((await served.get('/broken')).text).toBe('whole');
    } finally {
      await served.close();
    }
  });
});
