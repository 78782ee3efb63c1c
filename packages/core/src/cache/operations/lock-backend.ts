import { LockTimeoutError, UnsupportedOperationError } from '../../contract/errors';
import type { Payload } from '../../contract/store';
import { checkKeyBytes } from '../../values/key-policy';
import type { Ttl } from '../../values/ttl';
import type { Lock, LockBackend } from './lock';
import type { OperationPath } from './operation';

// The locks of a `Cache`: the backend every `Lock` of the cache uses, and `withLock`.

/**
 * Locks through the store, on the root operation path (lock keys are full keys): `add` to
 * acquire; `compareAndDelete` to release, else get-compare-delete. Failures are reported and
 * reject whatever the error policy says: a lock cannot fail open.
 */
export function storeLockBackend(ops: OperationPath): LockBackend {
  const context = ops.context;
  const reject = (operation: string, key: string) => (error: unknown) => {
    throw ops.report(operation, key, error);
  };
  const ownerPayload = (owner: string, key: string): Payload =>
    context.raw ? owner : context.codec.encode(owner, key);
  const text = (payload: Payload): string =>
    typeof payload === 'string'
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString();
  return {
    async acquire(key, owner, ttlMs) {
      const store = context.store ?? (await context.ready);
      if (!store.add || !store.capabilities.atomicAdd) {
        throw new UnsupportedOperationError('locks', context.driver, 'locks need an atomic set-if-absent');
      }
      checkKeyBytes(key, key, context.maxKeyBytes, context.driver);
      const call = store.add(key, ownerPayload(owner, key), ttlMs);
      return ops.bound(call, 'lock.acquire').catch(reject('lock.acquire', key));
    },
    async release(key, owner) {
      const store = context.store ?? (await context.ready);
      const expected = ownerPayload(owner, key);
      if (store.compareAndDelete) {
        return ops.bound(store.compareAndDelete(key, expected), 'lock.release').catch(reject('lock.release', key));
      }
      // Emulated: get, compare, delete. Not atomic: if the lock expires and another owner takes
      // it between our get and our delete, we delete their lock. Drivers with locks avoid this.
      try {
        const current = await ops.bound(store.get(key), 'lock.release');
        if (current === undefined || text(current) !== text(expected)) return false;
        return await ops.bound(store.delete(key), 'lock.release');
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
