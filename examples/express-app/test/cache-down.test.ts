import { type RedisServer, startRedis } from '@larder/dev-services';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Instance, startInstance } from './helpers';

// Every route behaves by one rule when Redis goes away: the cache fails open (reads fall back to
// the database, writes still succeed), sessions fail closed (503 with larder's code), and the
// observability routes keep answering. A malformed JSON body is the client's 400, up or down.
describe('the example with its Redis gone: every route by the same rule', () => {
  let redis: RedisServer;
  let app: Instance;
  let cookie: string;
  beforeAll(async () => {
    redis = await startRedis();
    app = await startInstance({ CACHE_DRIVER: 'redis', REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('malformed JSON to /login and PUT /customers/:id is a 400 saying so', async () => {
    for (const path of ['/login', '/customers/1']) {
      const res = await request(app.url)
        [path === '/login' ? 'post' : 'put'](path)
        .set('content-type', 'application/json')
        .send('{"name": "ann"');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'E_BAD_REQUEST', message: 'the request body is not valid JSON' });
    }
  });

  it('with Redis up: cached reads, a session', async () => {
    await request(app.url).get('/customers/1').expect(200).expect('x-source', 'db');
    await request(app.url).get('/customers/1').expect(200).expect('x-source', 'cache');
    await request(app.url).get('/reports/daily').expect(200);
    const login = await request(app.url).post('/login').send({ name: 'ann' }).expect(200);
    cookie = (login.headers['set-cookie'] as unknown as string[])[0]?.split(';')[0] as string;
  });

  it('with Redis stopped: the cache fails open on every cache route, sessions fail closed, the rest answers', async () => {
    await redis.stop();
    const customer = await request(app.url).get('/customers/1').expect(200);
    expect(customer.headers['x-source']).toBe('db');
    expect(customer.body.name).toBe('Ada Lovelace');
    await request(app.url).get('/customers/2').expect(200).expect('x-source', 'db');
    const update = await request(app.url).put('/customers/2').send({ name: 'Grace B. Hopper' }).expect(200);
    expect(update.headers['x-cache-invalidated']).toBe('no');
    expect(update.body.name).toBe('Grace B. Hopper');
    const report = await request(app.url).get('/reports/daily').expect(200);
    expect(report.body.names).toContain('Grace B. Hopper');
    for (const res of [
      await request(app.url).post('/login').send({ name: 'bob' }),
      await request(app.url).get('/me').set('Cookie', cookie),
      await request(app.url).get('/me'),
    ]) {
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/^E_(BACKEND|TIMEOUT)$/);
      expect(res.body.message).toContain('/healthz');
    }
    await request(app.url).get('/').expect(200);
    await request(app.url).get('/live.json').expect(200);
    await request(app.url).get('/metrics').expect(200);
    const health = await request(app.url).get('/healthz').expect(503);
    expect(health.body.cache.problem.message).toContain('(connection refused)');
    await request(app.url).post('/login').set('content-type', 'application/json').send('{').expect(400);
  });
});
