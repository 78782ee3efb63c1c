import { Cache, type StoreHealth } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it, vi } from 'vitest';

// The L2 breaker (`breaker: true`) on the chaos store: opens after consecutive failures or
// timeouts, fails fast while open, closes when a probe answers.

function watched(cache: Cache) {
  const events: { event: 'up' | 'down'; health: StoreHealth }[] = [];
  cache.on('down', (health) => events.push({ event: 'down', health }));
  cache.on('up', (health) => events.push({ event: 'up', health }));
  return events;
}

/** `call` is refused by the open breaker within 50 ms of being made. */
async function refusedAtOnce(call: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await expect(call()).rejects.toMatchObject({
    code: 'E_BACKEND',
    message: expect.stringContaining('breaker open'),
  });
  expect(performance.now() - started).toBeLessThan(50);
}

describe('the L2 breaker', () => {
  it('health() is one unchanging snapshot while nothing changes, and a new one with every change', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'br-health:', timeout: 200 });
    await cache.set('k', 1);
    const up = cache.health();
    expect(cache.health()).toBe(up);
    expect(Object.isFrozen(up)).toBe(true);
    store.fail({ ops: ['get'], times: 1 });
    await cache.get('k').catch(() => {});
    const failedOnce = cache.health();
    expect(failedOnce).toMatchObject({ state: 'up', consecutiveFailures: 1, lastError: expect.any(Error) });
    expect(up).toMatchObject({ consecutiveFailures: 0 });
    expect(up).not.toHaveProperty('lastError');
    await cache.get('k');
    expect(cache.health()).toMatchObject({ state: 'up', consecutiveFailures: 0, lastError: expect.any(Error) });
  });

  it('opens after 3 consecutive failures: down once, then calls fail at once without waiting for the timeout', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'br:', breaker: true, timeout: 300 });
    const events = watched(cache);
    store.hang({ ops: ['get'] });
    const started = performance.now();
    const first = await Promise.all([1, 2, 3].map((i) => cache.get(`k${i}`).catch((error: unknown) => error)));
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    for (const error of first) expect(error).toMatchObject({ code: 'E_TIMEOUT' });
    expect(events.map((e) => e.event)).toEqual(['down']);
    expect(cache.health()).toMatchObject({ state: 'down', lastError: { code: 'E_TIMEOUT' } });
    await refusedAtOnce(() => cache.get('k4'));
    store.heal();
  });

  it('a caller past the probe interval is still refused at once when the probe timer runs late (busy event loop)', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'br-late:', breaker: true, timeout: 300 });
    store.hang({ ops: ['get'] });
    await Promise.all([1, 2, 3].map((i) => cache.get(`k${i}`).catch(() => {})));
    expect(cache.health()).toMatchObject({ state: 'down', probeIntervalMs: 100 });
    // Block the event loop past the first probe interval, so the probe's timer has not run yet.
    const blockedUntil = performance.now() + 150;
    while (performance.now() < blockedUntil) {}
    await refusedAtOnce(() => cache.get('k4'));
    store.heal();
    await vi.waitFor(() => expect(cache.health().state).toBe('up'), { timeout: 2000, interval: 20 });
  });

  it('while open, remember serves the graced copy at once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const store = createChaosStore();
      const cache = new Cache({ store, prefix: 'br-grace:', breaker: true, timeout: 200 });
      await cache.remember('k', '1s', () => 'old', { grace: '1h' });
      vi.setSystemTime(Date.now() + 2000);
      store.fail({ ops: ['get'] });
      for (let i = 0; i < 3; i++) await cache.get(`x${i}`).catch(() => {});
      expect(cache.health().state).toBe('down');
      store.hang({ ops: ['get'] });
      const started = performance.now();
      expect(await cache.remember('k', '1s', () => 'new', { grace: '1h' })).toBe('old');
      expect(performance.now() - started).toBeLessThan(50);
      store.heal();
    } finally {
      vi.useRealTimers();
    }
  });

  it('closes when a probe answers: up within the probe interval (at most 1 s) of the store recovering', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'br-up:', breaker: true, timeout: 200 });
    const events = watched(cache);
    store.fail({ ops: ['get'] });
    for (let i = 0; i < 3; i++) await cache.get('k').catch(() => {});
    expect(cache.health().state).toBe('down');
    // Probes keep failing while the store does: still down, no second event.
    await vi.waitFor(
      async () => {
        await cache.get('k').catch(() => {});
        expect(store.calls.get).toBeGreaterThanOrEqual(6);
      },
      { timeout: 5000, interval: 20 },
    );
    expect(events.map((e) => e.event)).toEqual(['down']);
    store.heal();
    const healed = performance.now();
    await vi.waitFor(
      async () => {
        await cache.get('k').catch(() => {});
        expect(cache.health().state).toBe('up');
      },
      { timeout: 3000, interval: 20 },
    );
    expect(performance.now() - healed).toBeLessThan(1100);
    expect(events.map((e) => e.event)).toEqual(['down', 'up']);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('input errors do not count: a bad key never opens it', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'br-input:', breaker: true });
    for (let i = 0; i < 5; i++) await expect(cache.get('')).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    expect(cache.health().state).toBe('up');
  });

  it('without the option, health still goes down and up, but every call waits for the store', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'br-off:', timeout: 200 });
    const events = watched(cache);
    store.fail({ ops: ['get'] });
    // Every call reaches the store (the client's error, not the breaker's refusal).
    for (let i = 0; i < 5; i++) {
      await expect(cache.get('k')).rejects.toMatchObject({ cause: { message: 'chaos: get failed' } });
    }
    expect(store.calls.get).toBeGreaterThanOrEqual(5);
    expect(cache.health()).toMatchObject({ state: 'down', consecutiveFailures: 5, failFast: false });
    expect(events.map((e) => e.event)).toEqual(['down']);
    // A hung store is waited for: no fast failure without the option.
    store.heal();
    store.hang({ ops: ['get'] });
    const started = performance.now();
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    store.heal();
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.health()).toMatchObject({ state: 'up', consecutiveFailures: 0 });
    expect(events.map((e) => e.event)).toEqual(['down', 'up']);
  });

  it('while down, a probe goes out with no other traffic: up within 1 s of the store answering again', async () => {
    for (const breaker of [false, true]) {
      const store = createChaosStore();
      const cache = new Cache({ store, prefix: 'br-probe:', breaker, timeout: 200 });
      const events = watched(cache);
      store.fail({ ops: ['get'] });
      for (let i = 0; i < 3; i++) await cache.get('k').catch(() => {});
      expect(cache.health().state).toBe('down');
      // Nothing calls the cache now: the probes alone reach the store, at a growing interval.
      await vi.waitFor(() => expect(store.calls.get).toBeGreaterThanOrEqual(5), { timeout: 3000, interval: 20 });
      expect(cache.health()).toMatchObject({ state: 'down', probeIntervalMs: expect.any(Number) });
      expect(cache.health().probeIntervalMs).toBeGreaterThan(100);
      store.heal();
      const healed = performance.now();
      await vi.waitFor(() => expect(cache.health().state).toBe('up'), { timeout: 3000, interval: 10 });
      expect(performance.now() - healed).toBeLessThan(1100);
      expect(events.map((e) => e.event)).toEqual(['down', 'up']);
      // Up: no more probes.
      const calls = store.calls.get;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(store.calls.get).toBe(calls);
      await cache.close();
    }
  });

  it('a probe of a store whose get throws instead of rejecting fails like a rejection (counted, no uncaught error)', async () => {
    const inner = createChaosStore();
    let thrown = 0;
    const store = Object.assign(Object.create(inner), {
      get: () => {
        thrown++;
        throw new Error('thrown synchronously');
      },
    });
    const cache = new Cache({ store, prefix: 'br-throws:', timeout: 200 });
    // The facade turns the throw of a call into a rejection; three in a row make the store down.
    for (let i = 0; i < 3; i++) await cache.get('k').catch(() => {});
    expect(cache.health().state).toBe('down');
    await vi.waitFor(() => expect(cache.health().consecutiveFailures).toBeGreaterThanOrEqual(5), {
      timeout: 3000,
      interval: 20,
    });
    expect(thrown).toBeGreaterThanOrEqual(2);
    expect(cache.health()).toMatchObject({ state: 'down', lastError: { message: 'thrown synchronously' } });
    await cache.close();
  });

  it('close() stops the probes of a store that is down', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'br-close:', timeout: 200 });
    store.fail({ ops: ['get'] });
    for (let i = 0; i < 3; i++) await cache.get('k').catch(() => {});
    await cache.close();
    const calls = store.calls.get;
    // Showing that something does NOT happen: longer than the first probe interval (100 ms).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(store.calls.get).toBe(calls);
  });

  it('describe() reports it: state, since, consecutive failures, probe interval and the last error as data', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'br-describe:', breaker: true, timeout: 200 });
    const created = Date.now();
    expect((await cache.describe()).breaker).toEqual({
      state: 'up',
      since: expect.any(Number),
      consecutiveFailures: 0,
      probeIntervalMs: 100,
    });
    store.hang({ ops: ['get'] });
    await Promise.all([1, 2, 3].map((i) => cache.get(`k${i}`).catch(() => {})));
    const down = (await cache.describe()).breaker;
    expect(down).toMatchObject({ state: 'down', consecutiveFailures: 3, probeIntervalMs: 100 });
    expect(down?.since).toBeGreaterThanOrEqual(created);
    expect(down?.lastError).toEqual({ code: 'E_TIMEOUT', message: expect.stringContaining('timed out') });
    expect(JSON.parse(JSON.stringify(down))).toEqual(down);
    expect(cache.health()).toMatchObject({ state: 'down', consecutiveFailures: 3, probeIntervalMs: 100 });
    // A failed probe counts and doubles the interval; a client's error is shown by its message.
    store.heal();
    store.fail({ ops: ['get'] });
    await vi.waitFor(
      async () => {
        await cache.get('k').catch(() => {});
        expect(cache.health().consecutiveFailures).toBe(4);
      },
      { timeout: 3000, interval: 20 },
    );
    expect((await cache.describe()).breaker).toEqual({
      state: 'down',
      since: down?.since,
      consecutiveFailures: 4,
      probeIntervalMs: 200,
      lastError: { message: 'chaos: get failed' },
    });
    store.heal();
    await vi.waitFor(
      async () => {
        await cache.get('k').catch(() => {});
        expect(cache.health().state).toBe('up');
      },
      { timeout: 3000, interval: 20 },
    );
    expect((await cache.describe()).breaker).toMatchObject({
      state: 'up',
      consecutiveFailures: 0,
      probeIntervalMs: 100,
    });
  });

  it('an in-process store never fails fast, even with the option: counted, no breaker in describe()', async () => {
    const store = createChaosStore({ capabilities: { inProcess: true } });
    const cache = new Cache({ store, prefix: 'br-inproc:', breaker: true });
    store.fail({ ops: ['get'] });
    for (let i = 0; i < 4; i++) {
      await expect(cache.get('k')).rejects.toMatchObject({ cause: { message: 'chaos: get failed' } });
    }
    expect(cache.health()).toMatchObject({ state: 'down', failFast: false });
    expect((await cache.describe()).breaker).toBeUndefined();
    store.heal();
    await cache.close();
  });

  it('describe() has no breaker without the option; health() reports the store all the same', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'br-describe-off:' });
    expect((await cache.describe()).breaker).toBeUndefined();
    expect(cache.health()).toEqual({
      state: 'up',
      since: expect.any(Number),
      consecutiveFailures: 0,
      probeIntervalMs: 100,
      failFast: false,
    });
  });
});
