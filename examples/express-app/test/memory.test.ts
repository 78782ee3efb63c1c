import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { type Instance, scenario, startInstance } from './helpers';

describe('example app on memory (no env, no setup)', () => {
  let app: Instance;
  beforeAll(async () => {
    app = await startInstance({});
  });
  afterAll(() => app.stop());

  it('runs the cache-aside, response-cache and session scenario', async () => {
    await scenario(app);
  });

  it('the 500 ms lookup is paid once: the cached read is fast', async () => {
    const slow = createApp({}, { lookupDelayMs: 500 });
    try {
      let started = performance.now();
      await request(slow.app).get('/customers/2').expect(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(450);
      started = performance.now();
      await request(slow.app).get('/customers/2').expect(200);
      expect(performance.now() - started).toBeLessThan(200);
      expect(slow.lookups()).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('/healthz names the drivers and shows no secrets', async () => {
    const res = await request(app.url).get('/healthz').expect(200);
    expect(res.body.cache).toMatchObject({ store: 'memory', driver: 'memory', ok: true });
    expect(res.body.sessions).toMatchObject({ store: 'memory', driver: 'memory', ok: true });
  });

  it('unknown customers are 404 and not cached', async () => {
    await request(app.url).get('/customers/nope').expect(404);
    await request(app.url).get('/customers/nope').expect(404);
  });
});
