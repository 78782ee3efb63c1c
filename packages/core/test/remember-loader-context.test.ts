import { Cache, isLarderError, type LoaderContext } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it, vi } from 'vitest';

// `remember`'s loader context (signal, stale, skip) and its hard timeout (core README "remember").

/** A loader that never settles until its signal aborts; it records every context it was given. */
function hungLoader() {
  const contexts: LoaderContext[] = [];
  const loader = (context: LoaderContext) => {
    contexts.push(context);
    return new Promise<string>(() => {});
  };
  return { contexts, loader };
}

describe('remember: a hard timeout ends the run', () => {
  it('rejects with LoaderTimeoutError at the bound, aborts the signal, and frees the flight for the next caller', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'hard:' });
    const hung = hungLoader();
    const started = performance.now();
    const callers = [0, 1, 2].map(() => cache.remember('k', '1m', hung.loader, { timeout: { hard: 100 } }));
    const errors = await Promise.all(callers.map((call) => call.catch((error: unknown) => error)));
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(95);
    expect(waited).toBeLessThan(1000);
    for (const error of errors) {
      expect(isLarderError(error, 'E_LOADER_TIMEOUT')).toBe(true);
      expect(error).toMatchObject({ key: 'k', timeoutMs: 100 });
    }
    // Three callers, one run: they shared the flight.
    expect(hung.contexts).toHaveLength(1);
    expect(hung.contexts[0]?.signal.aborted).toBe(true);
    // The next caller starts a new run at once.
    expect(await cache.remember('k', '1m', () => 'fresh', { timeout: { hard: 100 } })).toBe('fresh');
    expect(await cache.get('k')).toBe('fresh');
  });

  it('releases the lock: a caller with lock starts its run without waiting for the lock to lapse', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'hard-lock:' });
    const hung = hungLoader();
    const lock = { ttl: '30s', wait: '30s' } as const;
    const first = cache.remember('k', '1m', hung.loader, { lock, timeout: { hard: 50 } });
    await expect(first).rejects.toMatchObject({ code: 'E_LOADER_TIMEOUT' });
    const started = performance.now();
    expect(await cache.remember('k', '1m', () => 'next', { lock })).toBe('next');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('never stores what the timed-out loader settles with later', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'late:' });
    let finish: (value: string) => void = () => {};
    const late = () => new Promise<string>((resolve) => (finish = resolve));
    await expect(cache.remember('k', '1m', late, { timeout: { hard: 30 } })).rejects.toMatchObject({
      code: 'E_LOADER_TIMEOUT',
    });
    finish('too late');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await cache.get('k')).toBeUndefined();
  });

  it('serves the stale value within grace when the refresh times out (a failure of the loader)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const cache = new Cache({ store: createChaosStore(), prefix: 'hard-grace:' });
      await cache.remember('k', '1s', () => 'old', { grace: '1h' });
      vi.setSystemTime(Date.now() + 2000);
      const errors: unknown[] = [];
      cache.on('error', (event) => errors.push(event.error));
      const hung = hungLoader();
      // Past its TTL within grace: answered with the stale value at once, the refresh runs behind.
      expect(await cache.remember('k', '1s', hung.loader, { grace: '1h', timeout: { hard: 30 } })).toBe('old');
      await vi.waitFor(() => expect(hung.contexts[0]?.signal.aborted).toBe(true));
      expect(hung.contexts[0]?.stale).toBe('old');
      await vi.waitFor(() => expect(errors.some((error) => isLarderError(error, 'E_LOADER_TIMEOUT'))).toBe(true));
      // The flight was released: the next refresh is a new run.
      let runs = 0;
      expect(await cache.remember('k', '1s', () => `new${++runs}`, { grace: '1h' })).toBe('old');
      await vi.waitFor(async () => expect(await cache.get('k')).toBe('new1'));
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([0, -5, 'abc', '0s'])(
    'refuses timeout.hard %j with InvalidTtlError before running the loader',
    async (hard) => {
      const cache = new Cache({ store: createChaosStore(), prefix: 'bad:' });
      let runs = 0;
      const loader = () => {
        runs++;
        return 'v';
      };
      await expect(cache.remember('k', '1m', loader, { timeout: { hard: hard as number } })).rejects.toMatchObject({
        code: 'E_INVALID_TTL',
      });
      expect(runs).toBe(0);
      expect(await cache.get('k')).toBeUndefined();
    },
  );
});

describe('remember: the loader context', () => {
  it('skip() returns the value to every caller of the run without caching it', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'skip:' });
    const calls = [0, 1].map(() =>
      cache.remember('k', '1m', (context) => {
        context.skip();
        return 'not cached';
      }),
    );
    expect(await Promise.all(calls)).toEqual(['not cached', 'not cached']);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('gives a run without a stale value an unaborted signal and no stale value', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'ctx:' });
    let seen: LoaderContext | undefined;
    expect(
      await cache.remember('k', '1m', (context) => {
        seen = context;
        return 1;
      }),
    ).toBe(1);
    expect(seen?.signal.aborted).toBe(false);
    expect(seen?.stale).toBeUndefined();
  });
});
