import { freezeProcess, type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cache } from '../../src/cache/cache';

// The rate limiter asks the cache's L2 breaker (`breaker: true`) on a redis-server frozen with
// SIGSTOP: once the breaker is open, `onStoreDown` decides at once instead of after the command
// timeout; after SIGCONT decisions come from the store again. Without the breaker, unchanged:
// the first decision on the frozen server waits for the command timeout.

describe('the rate limiter on the L2 breaker, Redis under SIGSTOP', () => {
  let server: RedisServer;
  let guarded: Cache;
  let plain: Cache;
  let frozen = false;

  beforeAll(async () => {
    server = await startRedis();
    guarded = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'rl-breaker:', breaker: true });
    plain = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'rl-breaker:' });
  });
  afterAll(async () => {
    // By PID: the server this test started.
    if (frozen) process.kill(server.pid as number, 'SIGCONT');
    await guarded?.close();
    await plain?.close();
    await server?.stop();
  });

  it('decides at once while the breaker is open (closed and local modes), from the store again after SIGCONT', async () => {
    const closed = guarded.rateLimiter({ limit: 10, window: '1m', name: 'closed' });
    const local = guarded.rateLimiter({ limit: 10, window: '1m', name: 'local', onStoreDown: 'local' });
    const unguarded = plain.rateLimiter({ limit: 10, window: '1m', name: 'plain' });
    for (const limiter of [closed, local, unguarded]) {
      await waitFor(async () => (await limiter.peek('warm-up')).source === 'store', { timeoutMs: 20_000 });
    }
    const events: string[] = [];
    guarded.on('down', () => events.push('down'));
    guarded.on('up', () => events.push('up'));
    const pid = server.pid as number;
    await freezeProcess(pid);
    frozen = true;
    // The decisions that find the server frozen wait for the command timeout; three in a row open the breaker.
    const opening = performance.now();
    const [plainDecision, ...opened] = await Promise.all([
      unguarded.hit('k').then((decision) => ({ decision, ms: performance.now() - opening })),
      ...[1, 2, 3].map((i) => closed.hit(`k${i}`)),
    ]);
    expect(plainDecision.decision).toMatchObject({ allowed: false, source: 'closed' });
    for (const decision of opened) expect(decision).toMatchObject({ allowed: false, source: 'closed' });
    expect(guarded.health().state).toBe('down');
    expect(events).toEqual(['down']);
    // Open: each decision is made at once by onStoreDown (a probe, once its interval is over, may wait).
    const ms: number[] = [];
    for (let i = 0; i < 10; i++) {
      const limiter = i % 2 === 0 ? closed : local;
      const started = performance.now();
      const decision = await limiter.hit('k');
      ms.push(performance.now() - started);
      expect(decision.source).toBe(limiter === closed ? 'closed' : 'local');
    }
    const fast = ms.filter((m) => m < 100);
    process.kill(pid, 'SIGCONT');
    frozen = false;
    const thawed = performance.now();
    await waitFor(async () => (await closed.hit('after')).source === 'store', { timeoutMs: 5000, intervalMs: 20 });
    const upMs = performance.now() - thawed;
    console.log(
      `rate limiter on the breaker: without it a decision waited ${plainDecision.ms.toFixed(0)} ms; open, decisions in ${ms.map((m) => m.toFixed(1)).join(', ')} ms; from the store ${upMs.toFixed(0)} ms after SIGCONT`,
    );
    expect(plainDecision.ms).toBeGreaterThanOrEqual(1900);
    expect(fast.length).toBeGreaterThanOrEqual(ms.length - 1);
    expect(upMs).toBeLessThan(1000);
    expect(guarded.health().state).toBe('up');
    expect(events).toEqual(['down', 'up']);
  }, 30_000);
});
