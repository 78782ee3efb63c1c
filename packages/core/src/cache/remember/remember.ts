import { describe, InvalidArgumentError } from '../../contract/errors';
import type { TtlMs } from '../../contract/store';
import { type GracedEntry, isFresh, isGraced, isSoftStale } from '../../values/entry';
import type { Ttl } from '../../values/ttl';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import { fromL1 } from '../operations/read-write';
import type { Loader, RememberOptions } from '../options';
import type { View } from '../view';
import { resolveMiss } from './flight';
import { loadAndStore } from './load';
import { backgroundSlot } from './load-limit';
import { timedFlight } from './loader-timing';
import { decodeOrMiss, type Miss, newMiss, record, type Seen } from './miss';
import { rememberPolicy } from './policy';
import { refreshAheadOnHit } from './refresh-ahead';
import { withinSoftTimeout } from './soft-timeout';

export type { Seen } from './miss';

// `Cache.remember`, read like Laravel's `Repository::remember`: the key, a read, a hit or a
// load, the write. Its collaborators own the rest: the policy (options, parsed once), the flight
// (single-flight per key, its re-read, the lock), the load (the loader's run and the never-stale
// write).

/** `Cache.remember`: a fresh L1 hit, or an in-process store's fresh hit, answers synchronously; anything else takes the full path. */
export function remember<T>(
  engine: Engine,
  view: View,
  key: string,
  ttl: Ttl | undefined,
  loader: Loader<T>,
  options: RememberOptions | undefined,
): Promise<T> {
  let ttlMs: TtlMs;
  try {
    ttlMs = engine.ttlMs(ttl);
  } catch (error) {
    return Promise.reject(error);
  }
  const binding = engine.binding;
  if (binding !== undefined && options === undefined && engine.rememberDefaults === undefined) {
    const hit = syncHit(engine, view, binding, key);
    if (hit !== undefined) return Promise.resolve(hit as T);
  }
  return rememberFromStore(engine, view, key, ttlMs, loader, options);
}

/** A fresh value the L1 or an in-process store holds, read synchronously; `undefined` otherwise (the full path reads again and applies the error rules). */
function syncHit(engine: Engine, view: View, binding: Binding, key: string): unknown {
  if (binding.tiered) {
    try {
      const value = fromL1(engine, view, binding, engine.full(view, key), key);
      if (value !== undefined) return value;
    } catch {}
  }
  const getSync = binding.getSync;
  if (getSync === undefined) return undefined;
  try {
    const payload = getSync(engine.full(view, key));
    const value = payload === undefined ? undefined : decodeOrMiss(engine, view, payload, key);
    if (value === undefined || isGraced(value)) return undefined;
    engine.events.counted(view, key, true);
    return value;
  } catch {
    return undefined;
  }
}

/** `remember` past the synchronous fast path (`rememberForever` starts here); `seen` records how it answered. */
export async function rememberFromStore<T>(
  engine: Engine,
  view: View,
  key: string,
  ttlMs: TtlMs,
  loader: Loader<T>,
  options: RememberOptions | undefined,
  seen?: Seen,
): Promise<T> {
  const binding = engine.binding ?? (await engine.ready());
  const full = engine.full(view, key);
  if (typeof loader !== 'function') {
    throw new InvalidArgumentError(`remember needs a loader function, got ${describe(loader)}`, 'loader');
  }
  const defaults = engine.rememberDefaults;
  const given = defaults === undefined ? options : { ...defaults, ...options };
  const policy = rememberPolicy(engine, view, binding, key, ttlMs, given);
  const reads = binding.reads;
  const cached = reads.cached(full, key);
  if (cached !== undefined) {
    engine.events.counted(view, key, true, 'l1');
    if (seen !== undefined)
      record(seen, 'hit', 'l1', isGraced(cached) ? cached : undefined, reads.cachedWrittenAt(full));
    if (policy.refreshAhead) refreshAheadOnHit(engine, view, binding, key, loader, policy, reads.cachedWrittenAt(full));
    return (isGraced(cached) ? cached.v : cached) as T;
  }
  const fetched = await reads.read(full, key, (payload) => decodeOrMiss(engine, view, payload, key));
  const miss = newMiss(binding, full, key, loader, policy, seen?.clock);
  if (fetched.failed) {
    engine.report(view, 'remember', key, fetched.error);
    return whenStoreDown(engine, view, miss, seen);
  }
  const value = fetched.entry;
  const writtenAt = () => written(binding, full, fetched.payload);
  let stale: GracedEntry | undefined;
  if (value !== undefined) {
    if (!isGraced(value)) {
      engine.events.counted(view, key, true, 'l2');
      if (seen !== undefined) record(seen, 'hit', 'l2', undefined, writtenAt());
      if (policy.refreshAhead) refreshAheadOnHit(engine, view, binding, key, loader, policy, writtenAt());
      return value as T;
    }
    if (policy.graceMs > 0 && !isSoftStale(value)) engine.keepGraced(full, value, policy.graceMs);
    if (isFresh(value)) {
      engine.events.counted(view, key, true);
      if (seen !== undefined) record(seen, 'hit', 'l2', value, writtenAt());
      if (policy.refreshAhead) refreshAheadOnHit(engine, view, binding, key, loader, policy, writtenAt());
      return value.v as T;
    }
    // A soft-invalidated entry is served only by a `remember` with grace.
    if (policy.graceMs > 0 || !isSoftStale(value)) stale = value;
  }
  miss.expected = fetched.payload;
  if (stale !== undefined) {
    engine.events.counted(view, key, true);
    if (seen !== undefined) record(seen, 'graced', 'l2', stale, writtenAt());
    return refreshInBackground(engine, view, miss, stale, seen);
  }
  engine.events.counted(view, key, false);
  if (seen !== undefined) seen.miss = miss as Miss<unknown>;
  return timedFlight(engine, full, seen?.clock, () => resolveMiss(engine, view, miss));
}

/** The store failed: the last graced value this process saw while within its grace, else the loader (one run per key in this process, nothing written). */
function whenStoreDown<T>(engine: Engine, view: View, miss: Miss<T>, seen: Seen | undefined): Promise<T> | T {
  const copy = miss.policy.graceMs > 0 ? engine.gracedCopy(miss.full) : undefined;
  if (copy !== undefined) {
    engine.events.counted(view, miss.key, true);
    if (seen !== undefined) record(seen, 'graced', 'l1', copy);
    return copy.v as T;
  }
  miss.backendDown = true;
  if (seen !== undefined) seen.miss = miss as Miss<unknown>;
  return timedFlight(engine, miss.full, seen?.clock, () => loadAndStore(engine, view, miss));
}

/**
 * Within grace: one refresh runs in the background (unless one already does); the caller is
 * answered with the stale value at once, or with `timeout.soft` after waiting that long for it.
 */
function refreshInBackground<T>(
  engine: Engine,
  view: View,
  miss: Miss<T>,
  stale: GracedEntry,
  seen: Seen | undefined,
): T | Promise<T> {
  const softMs = miss.policy.softMs;
  if (softMs === undefined && engine.inFlight(miss.full)) return stale.v as T;
  miss.stale = stale;
  miss.clock = undefined; // the refresh is nobody's wait but the soft timeout's
  let free: (() => void) | undefined;
  if (!engine.inFlight(miss.full)) {
    free = backgroundSlot(engine, miss.policy.maxConcurrentLoads);
    if (free === undefined) return stale.v as T; // every slot busy: the stale value stands
  }
  const flight = engine.flight(miss.full, () => resolveMiss(engine, view, miss));
  if (free !== undefined) flight.then(free, free);
  if (softMs !== undefined) return withinSoftTimeout(engine, view, miss, flight, stale.v as T, softMs, seen);
  flight.catch((error) => engine.report(view, 'remember', miss.key, error));
  return stale.v as T;
}

/** When a hit's entry was written: its metadata, else (raw values carry none) the store's `writtenAt`. */
const written = (binding: Binding, full: string, payload: Parameters<Binding['reads']['writtenAt']>[0] | undefined) =>
  payload === undefined ? undefined : (binding.reads.writtenAt(payload) ?? binding.writtenAt?.(full));
