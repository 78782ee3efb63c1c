import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, rcBackends, serve, until, untilHit } from './response-cache-harness';

// Issue 20, defects 1-3: a shared cache never hands one user's (or one host's) response to another.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('responseCache is a shared cache ($name)', (backend) => {
  it('never serves a response to a request with Authorization to anyone else (RFC 9111 §3.5)', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let runs = 0;
    const app = express();
    app.get('/me', rc, (req, res) => {
      runs++;
      const user = req.get('authorization')?.replace('Bearer ', '').replace('-token', '') ?? 'anonymous';
      res.json({ user, secret: `${user}'s profile` });
    });
    const served = await serve(app);
    try {
      const alice = await served.get('/me', { authorization: 'Bearer alice-token' });
      expect(alice.text).toContain('alice');
      await rc.settled();
      const anonymous = await served.get('/me');
      expect(anonymous.headers['x-cache']).toBe('MISS');
      expect(anonymous.text).not.toContain('alice');
      expect(JSON.parse(anonymous.text).user).toBe('anonymous');
      // Bob with his own token never gets Alice's (nor the anonymous) entry either.
      await rc.settled();
      const bob = await served.get('/me', { authorization: 'Bearer bob-token' });
      expect(JSON.parse(bob.text).user).toBe('bob');
      expect(bob.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=authorization');
      expect(runs).toBe(3);
    } finally {
      await served.close();
    }
  });

  it('50 concurrent cold requests with 50 different Authorization headers: 50 handler runs, each its own body', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = express();
    app.get('/me', rc, async (req, res) => {
      runs++;
      await gate;
      res.json({ user: req.get('authorization') });
    });
    const served = await serve(app);
    try {
      const replies = Promise.all(
        Array.from({ length: 50 }, (_, i) => served.get('/me', { authorization: `Bearer user-${i}` })),
      );
      // Every request runs its own handler; before the fix one ran and 49 waited on it.
      await until(() => runs === 50, 3000, '50 handler runs').catch(() => {});
      release();
      const all = await replies;
      all.forEach((reply, i) => {
        expect(JSON.parse(reply.text).user).toBe(`Bearer user-${i}`);
        expect(reply.headers['cache-status']).not.toContain('collapsed');
      });
      expect(runs).toBe(50);
      await rc.settled();
      const anonymous = await served.get('/me');
      expect(anonymous.headers['x-cache']).toBe('MISS');
    } finally {
      await served.close();
    }
  });

  it('a public response to a request with Authorization is shared; concurrent equal requests collapse', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = express();
    app.get('/catalog', rc, async (_req, res) => {
      runs++;
      await gate;
      res.set('Cache-Control', 'public, max-age=60').send('the same for everyone');
    });
    const served = await serve(app);
    try {
      const replies = Promise.all(
        Array.from({ length: 10 }, () => served.get('/catalog', { authorization: 'Bearer same' })),
      );
      await until(() => runs === 1);
      // Let the other nine finish their lookups and join the flight.
      await until(() => rc.stats().waiting === 9, 3000, 'nine followers');
      release();
      const all = await replies;
      expect(runs).toBe(1);
      expect(all.every((r) => r.text === 'the same for everyone')).toBe(true);
      expect(all.filter((r) => r.headers['cache-status']?.includes('collapsed'))).toHaveLength(9);
      await rc.settled();
      const other = await served.get('/catalog', { authorization: 'Bearer someone-else' });
      expect(other.headers['x-cache']).toBe('HIT');
      expect((await served.get('/catalog')).headers['x-cache']).toBe('HIT');
    } finally {
      await served.close();
    }
  });

  it('the host is part of the key (RFC 9111 §2: the target URI)', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    app.get('/home', rc, (req, res) => {
      res.send(`home of ${req.get('host')}`);
    });
    const served = await serve(app);
    try {
      await served.get('/home', { host: 'a.example' });
      await untilHit(served, '/home', { host: 'a.example' });
      const b = await served.get('/home', { host: 'b.example' });
      expect(b.text).toBe('home of b.example');
      expect(b.headers['x-cache']).toBe('MISS');
      // The default port is the same origin; another port is another one.
      expect((await served.get('/home', { host: 'A.EXAMPLE:80' })).text).toBe('home of a.example');
      expect((await served.get('/home', { host: 'a.example:8080' })).text).toBe('home of a.example:8080');
    } finally {
      await served.close();
    }
  });

  it('X-Forwarded-Host never feeds the key, and a response made under another forwarded host is not stored', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    app.set('trust proxy', true);
    app.get('/', rc, (req, res) => {
      res.send(`<a href="${req.protocol}://${req.hostname}/login">log in</a>`);
    });
    const served = await serve(app);
    try {
      const evil = await served.get('/', { 'x-forwarded-host': 'evil.example' });
      expect(evil.text).toContain('evil.example');
      expect(evil.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=forwarded');
      await rc.settled();
      const user = await served.get('/');
      expect(user.text).toBe('<a href="http://a.example/login">log in</a>');
      const hit = await untilHit(served, '/');
      expect(hit.text).toBe('<a href="http://a.example/login">log in</a>');
      // A forwarded host equal to Host changes nothing.
      expect((await served.get('/', { 'x-forwarded-host': 'a.example' })).headers['x-cache']).toBe('HIT');
    } finally {
      await served.close();
    }
  });

  it('keys on X-Forwarded-Host when the app says so (vary option), so each forwarded host has its own entry', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m', vary: ['X-Forwarded-Host'] });
    const app = express();
    app.set('trust proxy', true);
    app.get('/', rc, (req, res) => {
      res.send(`link to ${req.hostname}`);
    });
    const served = await serve(app);
    try {
      await served.get('/', { 'x-forwarded-host': 'shop.example' });
      expect((await untilHit(served, '/', { 'x-forwarded-host': 'shop.example' })).text).toBe('link to shop.example');
      const plain = await served.get('/');
      expect(plain.text).toBe('link to a.example');
    } finally {
      await served.close();
    }
  });
});
