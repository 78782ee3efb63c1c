import { UnsupportedOperationError } from '../../contract/errors';
import { REMEMBER_LOCK_KEY_PREFIX } from '../../values/key-policy';
import { parseTtl, type Ttl } from '../../values/ttl';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import { addsAtomically } from '../operations/offers';
import type { View } from '../view';

// The cross-process lock of `remember(..., { lock })` (remember.ts): its key and its times.

const DEFAULT_LOCK_MS = 10_000;

/** Cross-process lock of a miss: its TTL, how long to wait, and its key (in the reserved namespace). */
export interface MissLock {
  ttlMs: number;
  waitMs: number;
  key: string;
}

/** The lock of a `remember` with `lock` (both times default 10 s); its key is in the reserved namespace, so a user key can never be it. */
export function missLock(
  engine: Engine,
  view: View,
  binding: Binding,
  key: string,
  lock: true | { ttl?: Ttl; wait?: Ttl },
): MissLock {
  if (!addsAtomically(binding.store)) {
    throw new UnsupportedOperationError('remember with lock', engine.driver, 'locks need an atomic set-if-absent');
  }
  const lockKey = `${engine.basePrefix}${REMEMBER_LOCK_KEY_PREFIX}${view.path}${key}`;
  engine.checkKey(lockKey, key);
  const given = lock === true ? {} : lock;
  return {
    ttlMs: given.ttl === undefined ? DEFAULT_LOCK_MS : parseTtl(given.ttl),
    waitMs: given.wait === undefined ? DEFAULT_LOCK_MS : parseTtl(given.wait),
    key: lockKey,
  };
}
