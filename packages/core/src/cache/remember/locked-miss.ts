import { LoaderTimeoutError } from '../../contract/errors';
import { sleep } from '../../util/timeout';
import type { Engine } from '../engine';
import { Lock } from '../operations/lock';
import type { View } from '../view';
import { backendDown, readEntry, readInFlight } from './entry-read';
import { loadAndStore } from './load';
import { renewWhileHeld } from './lock-renewal';
import type { Miss } from './miss';
import type { MissLock } from './miss-lock';

/**
 * Cross-process: only the holder of the key's lock loads; others answer with the stale value when
 * there is one, else poll for the holder's value with back-off, then load themselves when the wait
 * ends. With `timeout.hard` below the wait, a waiter only polls for the run it found and rejects
 * with `LoaderTimeoutError` at the bound: the next caller, not a waiter, starts the next run.
 */
export async function resolveMissLocked<T>(engine: Engine, view: View, miss: Miss<T>, options: MissLock): Promise<T> {
  const lock = new Lock(engine.locks, options.key, options.ttlMs);
  const hardMs = miss.policy.hardMs;
  // A waiter never waits on another instance's run past the hard timeout either.
  const bounded = hardMs !== undefined && hardMs < options.waitMs;
  const deadline = Date.now() + (bounded ? hardMs : options.waitMs);
  let backoff = 5;
  let tries = 0;
  for (;;) {
    let acquired = false;
    // Bounded by `hard`, a waiter waits for the run it found, and never starts one of its own.
    if (tries++ === 0 || !bounded) {
      try {
        acquired = await lock.acquire();
      } catch (error) {
        backendDown(engine, view, miss, error);
        return loadAndStore(engine, view, miss);
      }
    }
    if (acquired) {
      const stopRenewing = renewWhileHeld(engine, view, lock, miss.key);
      try {
        // The previous holder may have stored the value just before releasing.
        const read = await readEntry(engine, view, miss).catch(() => undefined);
        if (read?.fresh) return read.value as T;
        if (read !== undefined) miss.expected = read.payload;
        return await loadAndStore(engine, view, miss);
      } finally {
        stopRenewing();
        await lock.release().catch((error) => engine.report(view, 'remember', miss.key, error));
      }
    }
    // Another instance holds the lock: it refreshes, so a stale value stands meanwhile (no wait).
    if (miss.stale !== undefined) return miss.stale.v as T;
    const left = deadline - Date.now();
    if (left <= 0) {
      if (bounded) throw new LoaderTimeoutError(miss.key, hardMs);
      return loadAndStore(engine, view, miss);
    }
    await sleep(Math.min(left, backoff * (0.5 + Math.random() / 2)));
    backoff = Math.min(backoff * 2, 200);
    const read = await readInFlight(engine, view, miss);
    if (read.fresh) return read.value as T;
    if (miss.backendDown) return loadAndStore(engine, view, miss);
    miss.expected = read.payload;
  }
}
