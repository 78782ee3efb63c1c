import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseCache } from '../src/index';
import { filled, past, rcBackends, until, withApp } from './response-cache-harness';

// Issue 40: the `staleWhileRevalidate` / `staleIfError` options are the RFC 5861 windows of the
// responses that do not name their own (like `grace`), off by default.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe('responseCache stale-window options: bad input', () => {
  it.each([
    ['staleWhileRevalidate', 'soon'],
    ['staleWhileRevalidate', -1],
    ['staleWhileRevalidate', 0],
    ['staleIfError', Number.NaN],
    ['staleIfError', '10 minutes'],
    ['staleIfError', {}],
  ])('%s: %s is a ConfigError naming the option', (name, value) => {
    const cache = env.backends[0]!.cache();
    expect(() => responseCache({ cache, ttl: '1m', [name]: value })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', variable: name }),
    );
  });
});

describe.each(env.backends)('responseCache stale-window options ($name)', (backend) => {
  it('staleWhileRevalidate: a response without the directive is served stale while one run revalidates', async () => {
    let runs = 0;
    await withApp(
      { cache: backend.cache(), ttl: '1m', staleWhileRevalidate: '30s' },
      (app, rc) => {
        app.get('/plain', rc, (_req, res) => {
          runs++;
          res.set('Cache-Control', 'max-age=1').send(`plain ${runs}`);
        });
        app.get('/strict', rc, (_req, res) => {
          runs++;
          res.set('Cache-Control', 'max-age=1, must-revalidate').send(`strict ${runs}`);
        });
      },
      async (served, rc) => {
        const { at } = await filled(served, rc, '/plain');
        await filled(served, rc, '/strict');
        await past(at, 1100);
        const stale = await served.get('/plain');
        expect(stale.text).toBe('plain 1');
        expect(stale.headers['cache-status']).toBe('larder; hit; fwd=stale; detail=stale-while-revalidate');
        await until(() => runs === 3, 3000, 'the background run');
        // must-revalidate forbids serving it stale (RFC 9111 §5.2.2.2): the request waits for the handler.
        const strict = await served.get('/strict');
        expect(strict.text).toBe('strict 4');
        await rc.settled();
      },
    );
  });

  it('staleIfError: a 5xx within the window is answered with the stale entry; the response’s own directive wins', async () => {
    let failing = false;
    await withApp(
      { cache: backend.cache(), ttl: '1m', staleIfError: '30s' },
      (app, rc) => {
        app.get('/news', rc, (_req, res) => {
          if (failing) return void res.status(500).send('failed');
          res.set('Cache-Control', 'max-age=1').send('the news');
        });
        app.get('/own', rc, (_req, res) => {
          if (failing) return void res.status(500).send('failed');
          res.set('Cache-Control', 'max-age=1, stale-if-error=0').send('own window');
        });
      },
      async (served, rc) => {
        const { at } = await filled(served, rc, '/news');
        await filled(served, rc, '/own');
        failing = true;
        await past(at, 1100);
        const news = await served.get('/news');
        expect(news.status).toBe(200);
        expect(news.text).toBe('the news');
        expect(news.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=500');
        expect((await served.get('/own')).status).toBe(500);
      },
    );
  });
});
