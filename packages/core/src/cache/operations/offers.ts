import type { CacheStore } from '../../contract/store';

/** True when the store has the optional method `name` (and types it as present, also inside closures). */
export function offers<K extends keyof CacheStore>(
  store: CacheStore,
  name: K,
): store is CacheStore & Required<Pick<CacheStore, K>> {
  return typeof store[name] === 'function';
}

/** True when the store has an atomic set-if-absent: `add`, and `capabilities.atomicAdd` (a non-atomic `add` cannot hold a lock). */
export function addsAtomically(store: CacheStore): store is CacheStore & Required<Pick<CacheStore, 'add'>> {
  return typeof store.add === 'function' && store.capabilities.atomicAdd;
}
