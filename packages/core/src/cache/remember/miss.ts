import { isLarderError } from '../../contract/errors';
import type { Payload } from '../../contract/store';
import type { CacheTier } from '../../util/tracing';
import type { GracedEntry } from '../../values/entry';
import type { Checked } from '../../values/entry-format';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import type { Loader } from '../options';
import type { View } from '../view';
import type { LoaderClock } from './loader-timing';
import type { RememberPolicy } from './policy';

/** One `remember` miss: what to load, how to store it, and what stale entry may stand in. */
export interface Miss<T> {
  binding: Binding;
  full: string;
  key: string;
  loader: Loader<T>;
  /** The call's resolved options (TTL, grace, lock, tags, timeouts). */
  policy: RememberPolicy;
  stale: GracedEntry | undefined;
  /** The store failed: run the loader, do not write. */
  backendDown: boolean;
  /** The loader failed and `stale` was served instead. */
  servedStale?: boolean;
  /** The payload read last before the loader began (`undefined`: absent): the loader's value is stored only if the key still holds it. */
  expected: Payload | undefined;
  /** A traced call's clock: the loader's run is added to it. */
  clock: LoaderClock | undefined;
}

/** How `rememberFromStore` answered, for `rememberWithStatus` and tracing. */
export interface Seen {
  status: 'hit' | 'miss' | 'graced';
  tier: CacheTier | undefined;
  entry: GracedEntry | undefined;
  miss: { servedStale?: boolean; stale: GracedEntry | undefined } | undefined;
  /** When the hit's entry was written (its metadata), when known. */
  writtenAt?: number;
  clock: LoaderClock | undefined;
}

/** A miss of `key` with nothing stale, the store up and nothing expected yet (the caller sets what differs). */
export function newMiss<T>(
  binding: Binding,
  full: string,
  key: string,
  loader: Loader<T>,
  policy: RememberPolicy,
  clock: LoaderClock | undefined,
): Miss<T> {
  return { binding, full, key, loader, policy, stale: undefined, backendDown: false, expected: undefined, clock };
}

/** Records how a `remember` answered. */
export function record(
  seen: Seen,
  status: Seen['status'],
  tier: CacheTier,
  entry: GracedEntry | undefined,
  writtenAt?: number,
): void {
  seen.status = status;
  seen.tier = tier;
  seen.entry = entry;
  seen.writtenAt = writtenAt;
}

/** Decodes for `remember`: a payload that no longer decodes is reported and counts as a miss (the loader's value overwrites it). */
export function decodeOrMiss(engine: Engine, view: View, payload: Checked, key: string): unknown {
  try {
    return engine.values.decode(payload, key);
  } catch (error) {
    if (!isLarderError(error, 'E_SERIALIZATION')) throw error;
    engine.report(view, 'remember', key, error);
    return undefined;
  }
}
