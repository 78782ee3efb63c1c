import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webResponseCache } from '../src/index';
import { rcBackends, until } from './harness';

// What the Web binding does beyond the shared rows: RFC 5861 with its own background copy, a
// handler that throws, and bad input.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

const past = (at: number, ms: number) => until(() => Date.now() > at + ms, ms + 3000, 'the clock');
const get = (path: string, headers?: Record<string, string>) => new Request(`http://a.example${path}`, { headers });

describe('webResponseCache: bad input', () => {
  it('no cache is a ConfigError naming it', () => {
    expect(() => webResponseCache({ ttl: '1m' } as never)).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', variable: 'cache' }),
    );
  });

  it('a key function that returns no string rejects with a ConfigError', async () => {
    const rc = webResponseCache({ cache: env.backends[0]!.cache(), ttl: '1m', key: () => 42 as never });
    await expect(rc(get('/x'), async () => new Response('x'))).rejects.toMatchObject({
      code: 'E_CONFIG',
      variable: 'key',
    });
  });
});

// The lookup budget is far above the default 50 ms: a Redis lookup slowed by a loaded CI machine
// is not taken for an outage (which answers with the handler by design).
describe.each(env.backends)('webResponseCache ($name)', (backend) => {
  it('stale-while-revalidate: the stale body at once, one background run through the same handler', async () => {
    const rc = webResponseCache({ cache: backend.cache(), ttl: '1m', lookupBudget: '3s' });
    let runs = 0;
    const handler = async () => {
      runs++;
      return new Response(`v${runs}`, { headers: { 'cache-control': 'max-age=1, stale-while-revalidate=30' } });
    };
    await (await rc(get('/swr'), handler)).text();
    const at = Date.now();
    await rc.settled();
    await past(at, 1100);
    const replies = await Promise.all(Array.from({ length: 5 }, () => rc(get('/swr'), handler)));
    for (const reply of replies) {
      expect(await reply.text()).toBe('v1');
      expect(reply.headers.get('cache-status')).toBe('larder; hit; fwd=stale; detail=stale-while-revalidate');
    }
    await rc.settled();
    expect(runs).toBe(2);
    const fresh = await rc(get('/swr'), handler);
    expect(await fresh.text()).toBe('v2');
    expect(fresh.headers.get('x-cache')).toBe('HIT');
  });

  it('a 304 that leaves the entry stale (max-age=0) answers with its own headers and Age 0, and is not kept', async () => {
    const rc = webResponseCache({ cache: backend.cache(), ttl: '1m', lookupBudget: '3s' });
    const asked: (string | null)[] = [];
    let cacheControl = 'max-age=1';
    const handler = async (req: Request) => {
      asked.push(req.headers.get('if-none-match'));
      const headers = {
        etag: '"f1"',
        'cache-control': cacheControl,
        'x-edition': cacheControl === 'max-age=1' ? '1' : '2',
      };
      if (req.headers.get('if-none-match') === '"f1"') return new Response(null, { status: 304, headers });
      return new Response('the feed', { headers });
    };
    await (await rc(get('/feed'), handler)).text();
    const at = Date.now();
    await rc.settled();
    cacheControl = 'max-age=0';
    await past(at, 1100);
    for (let i = 0; i < 2; i++) {
      const reply = await rc(get('/feed'), handler);
      expect(await reply.text()).toBe('the feed');
      expect(reply.headers.get('cache-status')).toBe('larder; fwd=stale; fwd-status=304');
      expect(reply.headers.get('cache-control')).toBe('max-age=0');
      expect(reply.headers.get('x-edition')).toBe('2');
      expect(reply.headers.get('age')).toBe('0');
      await rc.settled();
    }
    expect(asked).toEqual([null, '"f1"', '"f1"']);
  });

  it('stale-if-error: a handler that throws within the window is answered with the stale entry', async () => {
    const rc = webResponseCache({ cache: backend.cache(), ttl: '1m', lookupBudget: '3s', staleIfError: '30s' });
    let failing = false;
    const handler = async () => {
      if (failing) throw new Error('database down');
      return new Response('the news', { headers: { 'cache-control': 'max-age=1' } });
    };
    await (await rc(get('/news'), handler)).text();
    const at = Date.now();
    await rc.settled();
    failing = true;
    await past(at, 1100);
    const reply = await rc(get('/news'), handler);
    expect(await reply.text()).toBe('the news');
    expect(reply.headers.get('cache-status')).toBe('larder; fwd=stale; fwd-status=500');
    // Outside a window (none on this URL) the error goes to the caller.
    await expect(rc(get('/other'), handler)).rejects.toThrow('database down');
  });

  it('an unsafe request’s response comes back only once its URI is invalidated', async () => {
    const rc = webResponseCache({ cache: backend.cache(), ttl: '1m', lookupBudget: '3s' });
    let version = 1;
    const handler = async (request: Request) => {
      if (request.method === 'PUT') version++;
      return new Response(`v${version}`);
    };
    await (await rc(get('/doc'), handler)).text();
    await rc.settled();
    expect((await rc(get('/doc'), handler)).headers.get('x-cache')).toBe('HIT');
    await rc(new Request('http://a.example/doc', { method: 'PUT' }), handler);
    expect(await (await rc(get('/doc'), handler)).text()).toBe('v2');
  });
});
