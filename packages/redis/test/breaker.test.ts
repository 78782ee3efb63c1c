import { Cache } from '@larder/core';
import { freezeProcess, type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

// The L2 breaker (`breaker: true`) on a real redis-server frozen with SIGSTOP (issue #39,
// scenario 7): once open, operations fail or serve graced values within the probe interval
// instead of waiting for the command timeout; it closes within 1 s of SIGCONT.

describe('the L2 breaker on Redis under SIGSTOP', () => {
  let server: RedisServer;
  let guarded: Cache;
  let plain: Cache;
  let frozen = false;

  beforeAll(async () => {
    server = await startRedis();
    guarded = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'breaker:', breaker: true });
    plain = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'breaker:' });
  });
  afterAll(async () => {
    // By PID: the server this test started.
    if (frozen) process.kill(server.pid as number, 'SIGCONT');
    await guarded?.close();
    await plain?.close();
    await server?.stop();
  });

  it('fails fast while Redis is frozen, serves the graced value, and closes within 1 s of SIGCONT', async () => {
    const events: string[] = [];
    guarded.on('down', () => events.push('down'));
    guarded.on('up', () => events.push('up'));
    await guarded.remember('graced', 50, () => 'old', { grace: '1h' });
    await waitFor(async () => (await guarded.get('graced')) === undefined, { timeoutMs: 5000 });
    await plain.get('warm');
    const pid = server.pid as number;
    await freezeProcess(pid);
    frozen = true;
    // The calls that find the server frozen wait for the command timeout; three in a row open the breaker.
    const opening = performance.now();
    const [plainMs] = await Promise.all([
      plain.get('k').catch(() => performance.now() - opening),
      ...[1, 2, 3].map((i) => guarded.get(`k${i}`).catch(() => {})),
    ]);
    const openedMs = performance.now() - opening;
    expect(guarded.health()).toMatchObject({ state: 'down', lastError: expect.anything() });
    expect(events).toEqual(['down']);
    // Open: every call answers at once. The loop never yields to the timers, so on a loaded machine
    // it can outlast the 100 ms probe interval: then one call is the probe and waits for the timeout.
    const fast: number[] = [];
    let probes = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const error = await guarded.get(`f${i}`).catch((e: unknown) => e);
      if ((error as { code?: string }).code === 'E_TIMEOUT') probes++;
      else {
        expect(error).toMatchObject({ code: 'E_BACKEND', message: expect.stringContaining('breaker open') });
        fast.push(performance.now() - started);
      }
    }
    expect(probes).toBeLessThanOrEqual(1);
    expect(fast.length).toBeGreaterThanOrEqual(19);
    const started = performance.now();
    expect(await guarded.remember('graced', 50, () => 'new', { grace: '1h' })).toBe('old');
    const gracedMs = performance.now() - started;
    // Thaw, and keep calling (each call past the probe interval is a probe): up within 1 s.
    process.kill(pid, 'SIGCONT');
    frozen = false;
    const thawed = performance.now();
    await waitFor(
      async () => {
        await guarded.get('probe').catch(() => {});
        return guarded.health().state === 'up';
      },
      { timeoutMs: 5000, intervalMs: 20 },
    );
    const upMs = performance.now() - thawed;
    console.log(
      `breaker: without it a call waited ${Number(plainMs).toFixed(0)} ms; opened after ${openedMs.toFixed(0)} ms; open, calls answered in max ${Math.max(...fast).toFixed(1)} ms, the graced value in ${gracedMs.toFixed(1)} ms; up ${upMs.toFixed(0)} ms after SIGCONT`,
    );
    expect(Number(plainMs)).toBeGreaterThanOrEqual(1900);
    expect(Math.max(...fast)).toBeLessThan(100);
    expect(gracedMs).toBeLessThan(100);
    expect(upMs).toBeLessThan(1000);
    expect(events).toEqual(['down', 'up']);
    expect(await guarded.remember('graced', 50, () => 'new', { grace: '1h' })).toBeDefined();
  }, 30_000);
});
