import type { Engine } from '../engine';
import type { Lock } from '../operations/lock';
import type { View } from '../view';

// The lock of `remember(..., { lock })` renews itself while its loader runs, so a loader that
// outlives the lock's TTL stays the fleet's one run (a 25 s loader under a 10 s lock): every third
// of the TTL, the lock's expiry is pushed out by a full TTL. With the driver's atomic
// `compareAndSet`, only while it still holds this owner's token; else by `touch`, which cannot
// check the owner (the lock lapsed and taken by another instance in between is extended too).

/** Starts renewing `lock` every third of its TTL; the returned function stops it. */
export function renewWhileHeld(engine: Engine, view: View, lock: Lock, key: string): () => void {
  const token = engine.values.encodeOwner(lock.owner, lock.key);
  const renew = () =>
    engine.send('remember', (store) => {
      if (store.compareAndSet) return store.compareAndSet(lock.key, token, token, lock.ttlMs);
      if (store.touch) return store.touch(lock.key, lock.ttlMs);
      return Promise.resolve(false);
    });
  const timer = setInterval(
    () => {
      renew().catch((error) => engine.report(view, 'remember', key, error));
    },
    Math.max(1, Math.floor(lock.ttlMs / 3)),
  );
  timer.unref?.();
  return () => clearInterval(timer);
}
