import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Instance, startInstance } from './helpers';

const SESSION_SECRET = 'session-secret-7f3a';
const REDIS_PASSWORD = 'redis-pass-91c2';

/** Every secret the env holds must stay off the page, its JSON and /metrics. */
function expectNoSecrets(text: string): void {
  expect(text).not.toContain(SESSION_SECRET);
  expect(text).not.toContain(REDIS_PASSWORD);
}

describe('live page and /metrics (memory)', () => {
  let app: Instance;
  beforeAll(async () => {
    app = await startInstance({ SESSION_SECRET });
  });
  afterAll(() => app.stop());

  it('GET / is the live page and /live.json its data: the stores, the last minute, the demo routes', async () => {
    const page = await request(app.url).get('/').expect(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('larder — live');
    expectNoSecrets(page.text);
    const before = await request(app.url).get('/live.json').expect(200);
    expect(before.body.stores).toEqual([expect.objectContaining({ name: 'memory', driver: 'memory' })]);
    expect(before.body.stores[0].window).toHaveLength(60);
    expect(before.body.routes.map((r: { path: string }) => r.path)).toContain('/customers/1');
    const opsOf = (body: { stores: { window: { ops: number; hits: number }[] }[] }) =>
      body.stores[0]?.window.reduce((sum, p) => sum + p.ops, 0) ?? 0;
    await request(app.url).get('/customers/1').expect(200);
    await request(app.url).get('/customers/1').expect(200);
    const after = await request(app.url).get('/live.json').expect(200);
    expect(opsOf(after.body)).toBeGreaterThanOrEqual(opsOf(before.body) + 2);
    expect(after.body.stores[0].window.some((p: { hits: number }) => p.hits > 0)).toBe(true);
    expectNoSecrets(after.text);
  });

  it('/metrics is Prometheus text from @larder/otel, with no key and no secret', async () => {
    await request(app.url).get('/customers/2').expect(200);
    await request(app.url).get('/customers/2').expect(200);
    const res = await request(app.url).get('/metrics').expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toMatch(/^# HELP larder_operation_duration /m);
    expect(res.text).toMatch(/larder_operation_duration_bucket\{.*larder_store="memory".*\} \d+/);
    expect(res.text).toMatch(/^larder_hits(_total)?\{.*larder_operation="remember".*\} [1-9]/m);
    expect(res.text).not.toContain('customer:');
    expectNoSecrets(res.text);
  });
});

describe('live page on Redis with a password', () => {
  let redis: RedisServer;
  let app: Instance;
  beforeAll(async () => {
    redis = await startRedis({ password: REDIS_PASSWORD });
    const url = `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`;
    app = await startInstance({ CACHE_DRIVER: 'redis', REDIS_URL: url, SESSION_SECRET });
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('shows the Redis store and its node, never the password', async () => {
    await request(app.url).get('/customers/1').expect(200);
    const res = await request(app.url).get('/live.json').expect(200);
    expect(res.body.stores[0]).toMatchObject({ driver: 'redis' });
    expectNoSecrets(res.text);
    expectNoSecrets((await request(app.url).get('/').expect(200)).text);
    await waitFor(async () => (await request(app.url).get('/metrics')).text.includes('db_system_name="redis"'));
    expectNoSecrets((await request(app.url).get('/metrics').expect(200)).text);
  });
});
