import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import compression from 'compression';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, rcBackends, serve, untilHit } from './response-cache-harness';

// Issue 20, defects 7 and 9: every hit is decodable by its client, Range is answered correctly,
// hop-by-hop headers are never replayed, and an absent and an empty Vary'd header differ.
const env = rcBackends();
const dir = mkdtempSync(path.join(tmpdir(), 'larder-rc-'));
const file = path.join(dir, 'file.txt');
const FILE_TEXT = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(10);
beforeAll(async () => {
  writeFileSync(file, FILE_TEXT);
  await env.start();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await env.stop();
});
const BIG = 'a compressible line of text\n'.repeat(200);

describe.each(env.backends)('responseCache transforms and ranges ($name)', (backend) => {
  it('compression() mounted before the cache: every hit decodes, gzip for those who accept it, plain otherwise', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    app.use(compression());
    app.get('/big', rc, (_req, res) => {
      res.type('text/plain').send(BIG);
    });
    const served = await serve(app);
    try {
      const first = await served.get('/big', { 'accept-encoding': 'gzip' });
      expect(first.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(first.body).toString()).toBe(BIG);
      const hit = await untilHit(served, '/big', { 'accept-encoding': 'gzip' });
      expect(hit.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(hit.body).toString()).toBe(BIG);
      const plain = await untilHit(served, '/big', { 'accept-encoding': 'identity' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.text).toBe(BIG);
    } finally {
      await served.close();
    }
  });

  it('compression() inside the cached route: stored gzip is replayed only to clients that accept gzip', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    app.get('/inner', rc, compression(), (_req, res) => {
      res.type('text/plain').send(BIG);
    });
    // A handler that gzips whatever the client says and forgets Vary.
    app.get('/pregzipped', rc, (_req, res) => {
      res.set({ 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' }).send(gzipSync(BIG));
    });
    const served = await serve(app);
    try {
      await served.get('/inner', { 'accept-encoding': 'gzip' });
      const hit = await untilHit(served, '/inner', { 'accept-encoding': 'gzip' });
      expect(gunzipSync(hit.body).toString()).toBe(BIG);
      const plain = await served.get('/inner', { 'accept-encoding': 'identity' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.text).toBe(BIG);

      await served.get('/pregzipped', { 'accept-encoding': 'gzip' });
      await untilHit(served, '/pregzipped', { 'accept-encoding': 'gzip' });
      const refused = await served.get('/pregzipped', { 'accept-encoding': 'br' });
      expect(refused.headers['x-cache']).toBe('MISS');
      expect(refused.headers['cache-status']).toContain('detail=encoding');
    } finally {
      await served.close();
    }
  });

  it('Range after a cached plain GET of a sendFile route: the right bytes (206), never the cached 200', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    // sendFile says `max-age=0` unless told otherwise: a shared cache would not keep that.
    app.get('/file', rc, (_req, res) => {
      res.sendFile(file, { maxAge: '1m' });
    });
    const served = await serve(app);
    try {
      await served.get('/file');
      const full = await untilHit(served, '/file');
      expect(full.text).toBe(FILE_TEXT);
      const first = await served.get('/file', { range: 'bytes=0-9' });
      expect(first.status).toBe(206);
      expect(first.text).toBe(FILE_TEXT.slice(0, 10));
      expect(first.headers['content-range']).toBe(`bytes 0-9/${FILE_TEXT.length}`);
      expect(first.headers['x-cache']).toBe('HIT');
      const tail = await served.get('/file', { range: 'bytes=-5' });
      expect(tail.status).toBe(206);
      expect(tail.text).toBe(FILE_TEXT.slice(-5));
      // Several ranges, or an If-Range that does not match: the handler answers.
      const multi = await served.get('/file', { range: 'bytes=0-1,5-6' });
      expect(multi.headers['x-cache']).toBe('MISS');
      expect(multi.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=range');
      const stale = await served.get('/file', { range: 'bytes=0-9', 'if-range': '"not-the-etag"' });
      expect(stale.status).toBe(200);
      expect(stale.text).toBe(FILE_TEXT);
    } finally {
      await served.close();
    }
  });

  it('with statuses [200, 206] a 206 is never stored, nor replayed to a request with no or another Range', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m', statuses: [200, 206] });
    const app = express();
    // sendFile says `max-age=0` unless told otherwise: a shared cache would not keep that.
    app.get('/file', rc, (_req, res) => {
      res.sendFile(file, { maxAge: '1m' });
    });
    const served = await serve(app);
    try {
      const part = await served.get('/file', { range: 'bytes=0-9' });
      expect(part.status).toBe(206);
      expect(part.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=range');
      await rc.settled();
      const whole = await served.get('/file');
      expect(whole.status).toBe(200);
      expect(whole.text).toBe(FILE_TEXT);
      await rc.settled();
      const other = await served.get('/file', { range: 'bytes=10-19' });
      expect(other.text).toBe(FILE_TEXT.slice(10, 20));
    } finally {
      await served.close();
    }
  });

  it('never replays hop-by-hop headers nor the headers the response’s Connection names', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    app.get('/hop', rc, (_req, res) => {
      res.set({ Connection: 'X-Upstream-Token', 'X-Upstream-Token': 'secret', 'Keep-Alive': 'timeout=5' });
      res.set({ 'Proxy-Authenticate': 'Basic', 'Proxy-Connection': 'keep-alive' }).send('hop');
    });
    const served = await serve(app);
    try {
      await served.get('/hop');
      const hit = await untilHit(served, '/hop');
      for (const name of ['x-upstream-token', 'keep-alive', 'proxy-authenticate', 'proxy-connection']) {
        expect(hit.headers[name], name).toBeUndefined();
      }
      expect(hit.text).toBe('hop');
    } finally {
      await served.close();
    }
  });

  it('an absent and an empty Vary’d header are different variants (RFC 9111 §4.1)', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    app.get('/team', rc, (req, res) => {
      res.vary('X-Team').send(`team=${req.get('x-team') ?? '(none)'}`);
    });
    const served = await serve(app);
    try {
      await served.get('/team');
      expect((await untilHit(served, '/team')).text).toBe('team=(none)');
      const empty = await served.get('/team', { 'x-team': '' });
      expect(empty.text).toBe('team=');
      expect(empty.headers['x-cache']).toBe('MISS');
      expect((await untilHit(served, '/team', { 'x-team': '' })).text).toBe('team=');
      expect((await served.get('/team')).text).toBe('team=(none)');
    } finally {
      await served.close();
    }
  });

  it.each([
    ['Vary: *', 'vary-star', (res: express.Response) => res.set('Vary', '*')],
    ['no-store', 'no-store', (res: express.Response) => res.set('Cache-Control', 'no-store')],
    ['private', 'private', (res: express.Response) => res.set('Cache-Control', 'private, max-age=60')],
    ['no-cache', 'no-cache', (res: express.Response) => res.set('Cache-Control', 'no-cache')],
    ['Set-Cookie', 'set-cookie', (res: express.Response) => res.cookie('sid', 'abc')],
    ['status 404', 'status', (res: express.Response) => res.status(404)],
    ['Expires in the past', 'stale', (res: express.Response) => res.set('Expires', 'Thu, 01 Jan 1970 00:00:00 GMT')],
  ])('never stores a response with %s (Cache-Status detail=%s)', async (_name, detail, decorate) => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let runs = 0;
    const app = express();
    app.get('/r', rc, (_req, res) => {
      runs++;
      decorate(res);
      res.send('body');
    });
    const served = await serve(app);
    try {
      const first = await served.get('/r');
      expect(first.headers['cache-status']).toBe(`larder; fwd=uri-miss; detail=${detail}`);
      await rc.settled();
      expect((await served.get('/r')).headers['x-cache']).toBe('MISS');
      expect(runs).toBe(2);
    } finally {
      await served.close();
    }
  });

  it.each([
    ['Cache-Control: no-store', { 'cache-control': 'no-store' }, 'no-store'],
    ['Cache-Control: no-cache', { 'cache-control': 'no-cache' }, 'no-cache'],
    ['Pragma: no-cache', { pragma: 'no-cache' }, 'no-cache'],
  ])('a request with %s is neither served from nor stored in the cache', async (_name, headers, detail) => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let runs = 0;
    const app = express();
    app.get('/r', rc, (_req, res) => {
      runs++;
      res.send(`run ${runs}`);
    });
    const served = await serve(app);
    try {
      await served.get('/r');
      const hit = await untilHit(served, '/r');
      const before = runs;
      const bypass = await served.get('/r', headers);
      expect(bypass.headers['cache-status']).toBe(`larder; fwd=request; detail=${detail}`);
      expect(bypass.text).toBe(`run ${before + 1}`);
      await rc.settled();
      expect((await served.get('/r')).text).toBe(hit.text);
    } finally {
      await served.close();
    }
  });
});
