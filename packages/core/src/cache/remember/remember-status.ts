import type { CacheTier } from '../../util/tracing';
import { GRACE } from '../../values/entry';
import type { Ttl } from '../../values/ttl';
import type { Engine } from '../engine';
import type { Loader, RememberOptions } from '../options';
import type { View } from '../view';
import type { LoaderClock } from './loader-timing';
import { rememberFromStore, type Seen } from './remember';

/** What `rememberWithStatus` resolves to. */
export interface RememberResult<T> {
  value: T;
  /** `hit`: a fresh cached value; `miss`: the loader's value; `graced`: a stale value within its grace. */
  status: 'hit' | 'miss' | 'graced';
  /**
   * Age of the value in ms: 0 for a miss; for a hit or a graced value, from when its entry was
   * written (the entry's metadata, else the store's `writtenAt`: the memory store's raw values;
   * for a graced entry without either, from its logical expiry and this call's TTL); `undefined`
   * only for entries without either (counters, raw bytes, a custom codec's or a custom raw store's
   * values, entries written by an earlier version).
   */
  ageMs: number | undefined;
  /** Where a hit or a graced value came from: `l2` the store, `l1` this process's memory (the last graced copy, while the store is down). */
  tier: CacheTier | undefined;
}

/** `remember`, resolving how it answered: `hit`, `miss` or `graced`, the value's age when known, and the tier. */
export async function rememberWithStatus<T>(
  engine: Engine,
  view: View,
  key: string,
  ttl: Ttl | undefined,
  loader: Loader<T>,
  options: RememberOptions | undefined,
  clock?: LoaderClock,
): Promise<RememberResult<T>> {
  const ttlMs = engine.ttlMs(ttl);
  const seen: Seen = { status: 'miss', tier: undefined, entry: undefined, miss: undefined, clock };
  const value = await rememberFromStore(engine, view, key, ttlMs, loader, options, seen);
  if (seen.miss?.servedStale) {
    seen.status = 'graced';
    seen.tier = 'l2';
    seen.entry = seen.miss.stale;
    seen.writtenAt = undefined;
  }
  let ageMs: number | undefined;
  if (seen.status === 'miss') ageMs = 0;
  else if (seen.writtenAt !== undefined) ageMs = Math.max(0, Date.now() - seen.writtenAt);
  else if (seen.entry !== undefined && ttlMs !== undefined)
    ageMs = Math.max(0, Date.now() - (seen.entry[GRACE] - ttlMs));
  return { value, status: seen.status, ageMs, tier: seen.tier };
}
