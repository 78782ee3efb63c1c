import { BackendError, Cache, type CacheErrorEvent, LarderError, TimeoutError, ValueTooLargeError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it, vi } from 'vitest';

describe("onError: 'throw' (default)", () => {
  it('rejects with BackendError wrapping the client error as cause, and emits error', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'p:' });
    const events: CacheErrorEvent[] = [];
    cache.on('error', (event) => events.push(event));
    const clientError = new Error('ECONNREFUSED 127.0.0.1:6379');
    store.fail({ error: clientError });
    const error = (await cache.get('k').catch((e: unknown) => e)) as BackendError;
    expect(error).toBeInstanceOf(BackendError);
    expect(error.code).toBe('E_BACKEND');
    expect(error.cause).toBe(clientError);
    expect(error.driver).toBe('chaos');
    expect(events).toEqual([{ operation: 'get', key: 'k', error }]);
    for (const op of [
      () => cache.set('k', 1),
      () => cache.getMany(['a']),
      () => cache.setMany({ a: 1 }),
      () => cache.add('k', 1),
      () => cache.has('k'),
      () => cache.delete('k'),
      () => cache.deleteMany(['k']),
      () => cache.pull('k'),
      () => cache.increment('k'),
      () => cache.touch('k'),
      () => cache.clear(),
      () => cache.forever('k', 1),
    ]) {
      await expect(op()).rejects.toBeInstanceOf(BackendError);
    }
    expect(cache.stats().errors).toBe(13);
  });

  it('passes a driver LarderError through unchanged', async () => {
    const store = createChaosStore();
    const tooLarge = new ValueTooLargeError('k', 10, 5, 'chaos');
    store.fail({ ops: ['set'], error: tooLarge });
    const cache = new Cache({ store, onError: 'miss' });
    // Input errors reject even in 'miss' mode, also when the driver detects them.
    await expect(cache.set('k', 1)).rejects.toBe(tooLarge);
  });
});

describe("onError: 'miss'", () => {
  it('turns failed reads into misses and drops failed writes, emitting error each time', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, onError: 'miss', prefix: 'p:' });
    await cache.set('k', 'v');
    const events: CacheErrorEvent[] = [];
    cache.on('error', (event) => events.push(event));
    store.fail();
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getMany(['k', 'j'])).toEqual([undefined, undefined]);
    expect(await cache.has('k')).toBe(false);
    expect(await cache.pull('k')).toBeUndefined();
    await expect(cache.set('k', 'new')).resolves.toBeUndefined();
    await expect(cache.setMany({ k: 'new' })).resolves.toBeUndefined();
    await expect(cache.forever('k', 'new')).resolves.toBeUndefined();
    expect(await cache.add('k', 'new')).toBe(false);
    expect(await cache.delete('k')).toBe(false);
    expect(await cache.deleteMany(['k'])).toBe(0);
    expect(await cache.touch('k', '1m')).toBe(false);
    await expect(cache.clear()).resolves.toBeUndefined();
    expect(events.map((e) => e.operation)).toEqual([
      'get',
      'getMany',
      'has',
      'pull',
      'set',
      'setMany',
      'forever',
      'add',
      'delete',
      'deleteMany',
      'touch',
      'clear',
    ]);
    expect(events.every((e) => e.error instanceof BackendError)).toBe(true);
    store.heal();
    expect(await cache.get('k')).toBe('v'); // nothing was lost
  });

  it('increment still rejects: there is no honest counter value to invent', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, onError: 'miss' });
    store.fail();
    await expect(cache.increment('n')).rejects.toBeInstanceOf(BackendError);
    expect(cache.stats().errors).toBe(1);
  });

  it('lock operations fail closed', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, onError: 'miss' });
    store.fail();
    await expect(cache.lock('l', '1s').acquire()).rejects.toBeInstanceOf(BackendError);
  });
});

describe('timeouts', () => {
  it('a hanging store call rejects with TimeoutError promptly', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, timeout: 50 });
    store.hang();
    const started = Date.now();
    const error = (await cache.get('k').catch((e: unknown) => e)) as TimeoutError;
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(LarderError);
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.timeoutMs).toBe(50);
    expect(error.operation).toBe('get');
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(1000);
    await expect(cache.set('k', 1)).rejects.toBeInstanceOf(TimeoutError);
    await expect(cache.getMany(['a', 'b'])).rejects.toBeInstanceOf(TimeoutError);
    expect(store.hanging).toBe(3);
    store.heal();
  });

  it("with onError 'miss' a hanging read is a miss after the timeout", async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, timeout: 30, onError: 'miss' });
    store.hang({ ops: ['get'] });
    expect(await cache.get('k')).toBeUndefined();
    store.heal();
  });

  it('the default timeout is 5s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const store = createChaosStore();
    try {
      const cache = new Cache({ store });
      store.hang();
      let settled = false;
      const pending = cache.get('k').catch((e: unknown) => e);
      void pending.then(() => {
        settled = true;
      });
      // No vi.waitFor here: under fake timers it advances them itself.
      while (store.hanging === 0) await vi.advanceTimersByTimeAsync(0);
      await vi.advanceTimersByTimeAsync(4990);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(10);
      const error = (await pending) as TimeoutError;
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error.timeoutMs).toBe(5000);
    } finally {
      vi.useRealTimers();
      store.heal();
    }
  });

  it('in-process stores get no timer', async () => {
    const store = createChaosStore({ capabilities: { inProcess: true } });
    const cache = new Cache({ store, timeout: 20 });
    store.slow(60, { ops: ['get'] });
    expect(await cache.get('k')).toBeUndefined(); // answered after 60ms, no TimeoutError
  });

  it('one timer per call, cleared when the call settles; none for in-process stores', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const remote = createChaosStore();
      const cache = new Cache({ store: remote });
      remote.hang({ ops: ['get'] });
      const pending = cache.get('k');
      await vi.waitFor(() => expect(remote.hanging).toBe(1));
      expect(vi.getTimerCount()).toBe(1);
      remote.heal();
      await pending;
      expect(vi.getTimerCount()).toBe(0);
      await cache.set('k', 1);
      expect(vi.getTimerCount()).toBe(0);

      const local = createChaosStore({ capabilities: { inProcess: true } });
      const fast = new Cache({ store: local });
      local.hang({ ops: ['get'] });
      const waiting = fast.get('k');
      await vi.waitFor(() => expect(local.hanging).toBe(1));
      expect(vi.getTimerCount()).toBe(0);
      local.heal();
      await waiting;
    } finally {
      vi.useRealTimers();
    }
  });

  it('a late answer after the timeout leaves no unhandled rejection', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, timeout: 20 });
    store.slow(60, { ops: ['get'] }).fail({ ops: ['get'] });
    await expect(cache.get('k')).rejects.toBeInstanceOf(TimeoutError);
  });
});

describe('remember when the backend is down', () => {
  it.each(['throw', 'miss'] as const)('falls back to the loader (onError: %s) and emits error', async (onError) => {
    const store = createChaosStore();
    const cache = new Cache({ store, onError });
    const errors: CacheErrorEvent[] = [];
    cache.on('error', (event) => errors.push(event));
    store.fail();
    let runs = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        cache.remember('k', '1m', async () => {
          runs++;
          return 'loaded';
        }),
      ),
    );
    expect(results.every((r) => r === 'loaded')).toBe(true);
    expect(runs).toBe(1);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.operation).toBe('remember');
  });

  it('falls back to the loader when the backend hangs, after the timeout', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, timeout: 30 });
    store.hang();
    expect(await cache.remember('k', '1m', () => 'loaded')).toBe('loaded');
    store.heal();
  });

  it('returns the loaded value when only the write fails', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store });
    store.fail({ ops: ['set'] });
    expect(await cache.remember('k', '1m', () => 'loaded')).toBe('loaded');
    expect(cache.stats().errors).toBe(1);
  });

  it('a loader error reaches the caller when there is no stale value', async () => {
    const cache = new Cache({ store: createChaosStore() });
    const boom = new Error('db down');
    await expect(
      cache.remember('k', '1m', () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });
});

describe('a store method that throws instead of rejecting', () => {
  it("goes through the failure policy like a rejection: 'miss' resolves the fallback and emits error", async () => {
    const inner = createChaosStore();
    const boom = () => {
      throw new Error('thrown synchronously');
    };
    // Every method throws before returning a promise (a badly behaved custom driver).
    const store = Object.assign(Object.create(inner), {
      get: boom,
      set: boom,
      add: boom,
      delete: boom,
      getMany: boom,
      setMany: boom,
      deleteMany: boom,
      pull: boom,
      touch: boom,
      clear: boom,
    });
    const cache = new Cache({ store, prefix: 'p:', onError: 'miss' });
    const operations: string[] = [];
    cache.on('error', (event) => operations.push(event.operation));
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', 1);
    expect(await cache.add('k', 1)).toBe(false);
    expect(await cache.has('k')).toBe(false);
    expect(await cache.delete('k')).toBe(false);
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined]);
    await cache.setMany({ a: 1 });
    expect(await cache.deleteMany(['a'])).toBe(0);
    expect(await cache.pull('k')).toBeUndefined();
    expect(await cache.touch('k')).toBe(false);
    await cache.clear();
    expect(operations).toEqual([
      'get',
      'set',
      'add',
      'has',
      'delete',
      'getMany',
      'setMany',
      'deleteMany',
      'pull',
      'touch',
      'clear',
    ]);
    expect(cache.stats().errors).toBe(11);
  });
});
