import { LockTimeoutError, UnsupportedOperationError } from '../../contract/errors';
import type { Payload } from '../../contract/store';
import type { Ttl } from '../../values/ttl';
import type { Engine } from '../engine';
import type { View } from '../view';
import type { Lock, LockBackend } from './lock';
import { addsAtomically } from './offers';

// The locks of a `Cache`: the backend every `Lock` of the cache uses, and `withLock`.

/**
 * Locks through the store, on the root view (lock keys are full keys): `add` to acquire;
 * `compareAndDelete` to release, else get-compare-delete. Failures are reported and reject
 * whatever the error policy says: a lock cannot fail open.
 */
export function storeLockBackend(engine: Engine, view: View): LockBackend {
  const reject = (operation: string, key: string) => (error: unknown) => {
    throw engine.report(view, operation, key, error);
  };
  const text = (payload: Payload): string =>
    typeof payload === 'string'
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString();
  return {
    async acquire(key, owner, ttlMs) {
      const { store } = engine.binding ?? (await engine.ready());
      if (!addsAtomically(store)) {
        throw new UnsupportedOperationError('locks', engine.driver, 'locks need an atomic set-if-absent');
      }
      engine.checkKey(key, key);
      const payload = engine.values.encodeOwner(owner, key);
      return engine.send('lock.acquire', () => store.add(key, payload, ttlMs)).catch(reject('lock.acquire', key));
    },
    async release(key, owner) {
      const { store } = engine.binding ?? (await engine.ready());
      const expected = engine.values.encodeOwner(owner, key);
      const compareAndDelete = store.compareAndDelete;
      if (compareAndDelete) {
        return engine
          .send('lock.release', () => compareAndDelete.call(store, key, expected))
          .catch(reject('lock.release', key));
      }
      // Emulated: get, compare, delete. Not atomic: if the lock expires and another owner takes
      // it between our get and our delete, we delete their lock. Drivers with locks avoid this.
      try {
        const current = await engine.send('lock.release', () => store.get(key));
        if (current === undefined || text(current) !== text(expected)) return false;
        return await engine.send('lock.release', () => store.delete(key));
      } catch (error) {
        return reject('lock.release', key)(error);
      }
    },
  };
}

/** Runs `fn` holding `lock` and releases it afterwards (even if `fn` throws); one try without `wait`, else `block(wait)`. */
export async function withHeldLock<T>(
  lock: Lock,
  wait: Ttl | undefined,
  fn: (lock: Lock) => T | Promise<T>,
): Promise<T> {
  if (wait !== undefined) await lock.block(wait);
  else if (!(await lock.acquire())) throw new LockTimeoutError(lock.key);
  try {
    return await fn(lock);
  } finally {
    // The lock expires by its TTL anyway; a failed release must not hide fn's result.
    await lock.release().catch(() => {});
  }
}
