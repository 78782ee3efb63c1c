import type { Server } from 'node:http';
import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import express, { type Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidate, responseCache } from '../src/index';

describe('responseCache', () => {
  const cache = new Cache({ store: createMemoryStore(), prefix: 'test:', onError: 'throw' });
  const runs: Record<string, number> = {};
  let version = 1;
  let release: (() => void) | undefined;
  let server: Server;
  const rc = responseCache({ cache, ttl: '1m' });

  const app: Express = express();
  const count = (name: string) => {
    runs[name] = (runs[name] ?? 0) + 1;
  };
  app.get('/json', rc, (req, res) => {
    count('json');
    res.set('X-Custom', 'yes').json({ version, q: req.query.q ?? null });
  });
  app.get('/stream', rc, (_req, res) => {
    count('stream');
    res.setHeader('Content-Type', 'text/plain');
    res.write('part1-');
    res.write(Buffer.from('part2-'));
    res.end('end');
  });
  app.get('/binary', rc, (_req, res) => {
    count('binary');
    res.type('application/octet-stream').send(Buffer.from([0, 1, 2, 255, 254]));
  });
  app.get('/nostore', rc, (_req, res) => {
    count('nostore');
    res.set('Cache-Control', 'no-store').send('x');
  });
  app.get('/private', rc, (_req, res) => {
    count('private');
    res.set('Cache-Control', 'private, max-age=60').send('x');
  });
  app.get('/cookie', rc, (_req, res) => {
    count('cookie');
    res.cookie('sid', 'abc').send('x');
  });
  app.get('/missing', rc, (_req, res) => {
    count('missing');
    res.status(404).send('nope');
  });
  app.get('/missing-cached', responseCache({ cache, ttl: '1m', statuses: [200, 404] }), (_req, res) => {
    count('missing-cached');
    res.status(404).send('nope');
  });
  app.get('/lang', rc, (req, res) => {
    count('lang');
    res.vary('Accept-Language').send(`hello in ${req.get('accept-language') ?? 'default'} v${version}`);
  });
  let arrivals = 0;
  app.use('/slow', (_req, _res, next) => {
    arrivals++;
    next();
  });
  app.get('/slow', rc, async (_req, res) => {
    count('slow');
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    res.send(`slow v${version}`);
  });
  app.get(
    '/keyed',
    responseCache({ cache, ttl: '1m', key: (req) => (req.originalUrl ?? '/').split('?')[0] as string }),
    (_req, res) => {
      count('keyed');
      res.send('same for every query');
    },
  );
  app.post('/json', rc, (_req, res) => {
    count('post');
    res.json({ posted: true });
  });

  beforeAll(async () => {
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('caches status, headers and body: MISS then HIT, the handler runs once', async () => {
    const miss = await request(server).get('/json?q=1').expect(200);
    expect(miss.headers['x-cache']).toBe('MISS');
    const hit = await request(server).get('/json?q=1').expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.body).toEqual(miss.body);
    expect(hit.headers['x-custom']).toBe('yes');
    expect(hit.headers['content-type']).toBe(miss.headers['content-type']);
    expect(hit.headers.etag).toBe(miss.headers.etag);
    expect(runs.json).toBe(1);
    // Another query string is another key.
    await request(server).get('/json?q=2').expect(200);
    expect(runs.json).toBe(2);
  });

  it('answers 304 on a hit whose ETag matches If-None-Match', async () => {
    const first = await request(server).get('/json?q=etag').expect(200);
    await request(server)
      .get('/json?q=etag')
      .set('If-None-Match', first.headers.etag as string)
      .expect(304);
  });

  it('captures streamed writes and binary bodies', async () => {
    await request(server).get('/stream').expect(200, 'part1-part2-end');
    const hit = await request(server).get('/stream').expect(200, 'part1-part2-end');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(runs.stream).toBe(1);

    const parse = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    };
    await request(server).get('/binary').buffer(true).parse(parse).expect(200);
    const bin = await request(server).get('/binary').buffer(true).parse(parse).expect(200);
    expect(bin.headers['x-cache']).toBe('HIT');
    expect([...(bin.body as Buffer)]).toEqual([0, 1, 2, 255, 254]);
  });

  it('serves HEAD from a cached GET (no body); a cold HEAD does not fill the cache', async () => {
    await request(server).get('/json?q=head').expect(200);
    const head = await request(server).head('/json?q=head').expect(200);
    expect(head.headers['x-cache']).toBe('HIT');
    const before = runs.json;
    const cold = await request(server).head('/json?q=cold-head').expect(200);
    expect(cold.headers['x-cache']).toBe('MISS');
    const get = await request(server).get('/json?q=cold-head').expect(200);
    expect(get.headers['x-cache']).toBe('MISS');
    expect(runs.json).toBe((before ?? 0) + 2);
  });

  it('never caches when the request says Cache-Control: no-store', async () => {
    await request(server).get('/json?q=req-no-store').set('Cache-Control', 'no-store').expect(200);
    const again = await request(server).get('/json?q=req-no-store').expect(200);
    expect(again.headers['x-cache']).toBe('MISS');
  });

  it('never caches no-store or private responses, nor responses that set cookies', async () => {
    for (const path of ['/nostore', '/private', '/cookie']) {
      await request(server).get(path).expect(200);
      const second = await request(server).get(path).expect(200);
      expect(second.headers['x-cache']).toBe('MISS');
      expect(runs[path.slice(1)]).toBe(2);
    }
  });

  it('caches only 200 by default; other statuses by option', async () => {
    await request(server).get('/missing').expect(404);
    expect((await request(server).get('/missing').expect(404)).headers['x-cache']).toBe('MISS');
    await request(server).get('/missing-cached').expect(404);
    expect((await request(server).get('/missing-cached').expect(404)).headers['x-cache']).toBe('HIT');
  });

  it('does not cache other methods', async () => {
    await request(server).post('/json').expect(200);
    await request(server).post('/json').expect(200);
    expect(runs.post).toBe(2);
  });

  it('is Vary-aware: each Accept-Language is its own entry', async () => {
    const fr = await request(server).get('/lang').set('Accept-Language', 'fr').expect(200);
    expect(fr.text).toBe('hello in fr v1');
    const de = await request(server).get('/lang').set('Accept-Language', 'de').expect(200);
    expect(de.text).toBe('hello in de v1');
    expect(de.headers['x-cache']).toBe('MISS');
    const fr2 = await request(server).get('/lang').set('Accept-Language', 'fr').expect(200, 'hello in fr v1');
    expect(fr2.headers['x-cache']).toBe('HIT');
    const de2 = await request(server).get('/lang').set('Accept-Language', 'de').expect(200, 'hello in de v1');
    expect(de2.headers['x-cache']).toBe('HIT');
    expect(runs.lang).toBe(2);
  });

  it('a custom key function decides what is the same response', async () => {
    await request(server).get('/keyed?a=1').expect(200);
    const other = await request(server).get('/keyed?b=2').expect(200);
    expect(other.headers['x-cache']).toBe('HIT');
    expect(runs.keyed).toBe(1);
  });

  it('single-flight: a burst of 20 requests for a cold URL runs the handler once', async () => {
    const burst = Array.from({ length: 20 }, () => request(server).get('/slow'));
    const pending = Promise.all(burst.map((r) => r.then((res) => res)));
    // Wait until the one handler run is parked, then let it answer.
    while (!release || arrivals < 20) await new Promise((r) => setTimeout(r, 5));
    // Arrived requests look the key up (an in-process store answers within a few ticks), then join the flight.
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    release();
    const responses = await pending;
    expect(runs.slow).toBe(1);
    expect(responses.every((r) => r.status === 200 && r.text === 'slow v1')).toBe(true);
    expect(responses.filter((r) => r.headers['x-cache'] === 'MISS')).toHaveLength(1);
  });

  it('invalidate drops a URL, including all its Vary variants', async () => {
    version = 2;
    expect(await rc.invalidate('/json?q=1')).toBe(true);
    const fresh = await request(server).get('/json?q=1').expect(200);
    expect(fresh.headers['x-cache']).toBe('MISS');
    expect(fresh.body.version).toBe(2);

    expect(await invalidate(cache, '/lang')).toBe(true);
    const fr = await request(server).get('/lang').set('Accept-Language', 'fr').expect(200, 'hello in fr v2');
    expect(fr.headers['x-cache']).toBe('MISS');
    // The old 'de' variant is unreachable after the index was replaced.
    const de = await request(server).get('/lang').set('Accept-Language', 'de').expect(200, 'hello in de v2');
    expect(de.headers['x-cache']).toBe('MISS');
    expect(await invalidate(cache, '/never-cached')).toBe(false);
  });
});
