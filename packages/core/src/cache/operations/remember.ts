import { describe, InvalidArgumentError, isLarderError } from '../../contract/errors';
import type { Payload, TtlMs } from '../../contract/store';
import { normalizeTags, unionTags } from '../../tags/tag-policy';
import type { PreparedTags } from '../../tags/tag-state';
import { sleep } from '../../util/timeout';
import type { CacheTier } from '../../util/tracing';
import { type GracedEntry, gracedEntry, isFresh, isGraced, isSoftStale, storeTtl } from '../../values/entry';
import { unmarked } from '../../values/entry-meta';
import { parseTtl, type Ttl } from '../../values/ttl';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import type { Loader, RememberOptions } from '../options';
import type { View } from '../view';
import { type EntryWrite, tagVersions, write } from '../write-path';
import { storeIfUnchanged } from './compare-and-set';
import { runLoader } from './loader-run';
import { type LoaderClock, timedFlight } from './loader-timing';
import { Lock } from './lock';
import { type MissLock, missLock } from './miss-lock';
import { fromL1 } from './read-write';

// `Cache.remember`: single-flight per key in this process, grace (serve stale while one refresh
// runs, or when the loader or the backend fails) and the optional cross-process lock.

/** One `remember` miss: what to load, how to store it, and what stale entry may stand in. */
interface Miss<T> {
  binding: Binding;
  full: string;
  key: string;
  ttlMs: TtlMs;
  graceMs: number;
  loader: Loader<T>;
  lock: MissLock | undefined;
  stale: GracedEntry | undefined;
  /** The store failed: run the loader, do not write. */
  backendDown: boolean;
  /** The loader failed and `stale` was served instead. */
  servedStale?: boolean;
  /** The payload read last before the loader began (`undefined`: absent): the loader's value is stored only if the key still holds it. */
  expected: Payload | undefined;
  /** A traced call's clock: the loader's run is added to it. */
  clock: LoaderClock | undefined;
  /** Tags the stored value carries (the view's and the options'). */
  tags?: readonly string[];
  /** The loader's hard timeout in ms (`timeout.hard`). */
  hardMs?: number;
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

/** A read inside the flight: a fresh value, a stale graced entry, or nothing. */
interface Read {
  fresh: boolean;
  value: unknown;
  stale?: GracedEntry;
  /** The payload read (`undefined`: absent). */
  payload?: Payload;
}

const MISS: Read = { fresh: false, value: undefined };

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
  if (binding !== undefined && options === undefined) {
    if (binding.tiered) {
      try {
        const value = fromL1(engine, view, binding, engine.full(view, key), key);
        if (value !== undefined) return Promise.resolve(value as T);
      } catch {
        // The full path reads again and applies the error rules.
      }
    }
    const getSync = binding.getSync;
    if (getSync !== undefined) {
      try {
        const payload = getSync(engine.full(view, key));
        const value = payload === undefined ? undefined : decodeOrMiss(engine, view, payload, key);
        if (value !== undefined && !isGraced(value)) {
          engine.counted(view, key, true);
          return Promise.resolve(value as T);
        }
      } catch {
        // The full path reads again and applies the error rules.
      }
    }
  }
  return rememberFromStore(engine, view, key, ttlMs, loader, options);
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
  let graceMs = 0;
  let lock: MissLock | undefined;
  let tags = view.tags;
  let hardMs: number | undefined;
  if (options !== undefined) {
    graceMs = options.grace === undefined || ttlMs === undefined ? 0 : parseTtl(options.grace);
    if (options.lock) lock = missLock(engine, view, binding, key, options.lock);
    if (options.tags !== undefined) tags = unionTags(tags, normalizeTags(options.tags));
    if (options.timeout?.hard !== undefined) hardMs = parseTtl(options.timeout.hard);
  }
  if (tags !== undefined) engine.values.checkTaggable();
  const reads = binding.reads;
  const cached = reads.cached(full, key);
  if (cached !== undefined) {
    engine.counted(view, key, true, 'l1');
    if (seen !== undefined)
      record(seen, 'hit', 'l1', isGraced(cached) ? cached : undefined, reads.cachedWrittenAt(full));
    return (isGraced(cached) ? cached.v : cached) as T;
  }
  const fetched = await reads.read(full, key, (payload) => decodeOrMiss(engine, view, payload, key));
  if (fetched.failed) {
    engine.report(view, 'remember', key, fetched.error);
    // Backend down: serve the last graced value this process saw while within its grace...
    const copy = graceMs > 0 ? engine.gracedCopy(full) : undefined;
    if (copy !== undefined) {
      engine.counted(view, key, true);
      if (seen !== undefined) record(seen, 'graced', 'l1', copy);
      return copy.v as T;
    }
    // ...else fall back to the loader (one run per key in this process).
    const miss = newMiss(binding, full, key, ttlMs, graceMs, loader, lock, seen?.clock);
    miss.tags = tags;
    miss.hardMs = hardMs;
    miss.backendDown = true;
    if (seen !== undefined) seen.miss = miss as Miss<unknown>;
    return timedFlight(engine, full, seen?.clock, () => loadAndStore(engine, view, miss));
  }
  const value = fetched.entry;
  let stale: GracedEntry | undefined;
  if (value !== undefined) {
    if (!isGraced(value)) {
      engine.counted(view, key, true, 'l2');
      if (seen !== undefined) record(seen, 'hit', 'l2', undefined, written(binding, full, fetched.payload));
      return value as T;
    }
    if (graceMs > 0 && !isSoftStale(value)) engine.keepGraced(full, value, graceMs);
    if (isFresh(value)) {
      engine.counted(view, key, true);
      if (seen !== undefined) record(seen, 'hit', 'l2', value, written(binding, full, fetched.payload));
      return value.v as T;
    }
    // A soft-invalidated entry is served only by a `remember` with grace.
    if (graceMs > 0 || !isSoftStale(value)) stale = value;
  }
  const miss = newMiss(binding, full, key, ttlMs, graceMs, loader, lock, seen?.clock);
  miss.tags = tags;
  miss.hardMs = hardMs;
  miss.expected = fetched.payload === undefined ? undefined : unmarked(fetched.payload);
  if (stale !== undefined) {
    // Within grace: answer now with the stale value, refresh once in the background.
    engine.counted(view, key, true);
    if (seen !== undefined) record(seen, 'graced', 'l2', stale, written(binding, full, fetched.payload));
    if (!engine.inFlight(full)) {
      miss.stale = stale;
      miss.clock = undefined; // answered already: the background refresh is nobody's wait
      engine
        .flight(full, () => resolveMiss(engine, view, miss))
        .catch((error) => engine.report(view, 'remember', key, error));
    }
    return stale.v as T;
  }
  engine.counted(view, key, false);
  if (seen !== undefined) seen.miss = miss as Miss<unknown>;
  return timedFlight(engine, full, seen?.clock, () => resolveMiss(engine, view, miss));
}

/** A miss of `key` with nothing stale, the store up and nothing expected yet (the caller sets what differs). */
function newMiss<T>(
  binding: Binding,
  full: string,
  key: string,
  ttlMs: TtlMs,
  graceMs: number,
  loader: Loader<T>,
  lock: MissLock | undefined,
  clock: LoaderClock | undefined,
): Miss<T> {
  const stale = undefined;
  return { binding, full, key, ttlMs, graceMs, loader, lock, stale, backendDown: false, expected: undefined, clock };
}

function record(
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

/** When a hit's entry was written: its metadata, else (raw values carry none) the store's `writtenAt`. */
const written = (binding: Binding, full: string, payload: Payload | undefined) =>
  payload === undefined ? undefined : (binding.reads.writtenAt(payload) ?? binding.writtenAt?.(full));

/** Decodes for `remember`: a payload that no longer decodes is reported and counts as a miss (the loader's value overwrites it). */
function decodeOrMiss(engine: Engine, view: View, payload: Payload, key: string): unknown {
  try {
    return engine.values.decode(payload, key);
  } catch (error) {
    if (!isLarderError(error, 'E_SERIALIZATION')) throw error;
    engine.report(view, 'remember', key, error);
    return undefined;
  }
}

/** Reads the key inside the flight, through the L1 read path: a fresh value, a stale graced entry, or nothing; a failed store call rejects. */
async function readEntry<T>(engine: Engine, view: View, miss: Miss<T>): Promise<Read> {
  const fetched = await miss.binding.reads.read(miss.full, miss.key, (payload) =>
    decodeOrMiss(engine, view, payload, miss.key),
  );
  if (fetched.failed) throw fetched.error;
  const { entry: value } = fetched;
  if (fetched.payload === undefined) return MISS;
  // As stored: what the loader's value may replace (a read marks invalidated tagged entries).
  const payload = unmarked(fetched.payload);
  if (value === undefined) return { fresh: false, value: undefined, payload };
  if (!isGraced(value)) return { fresh: true, value };
  if (isFresh(value)) return { fresh: true, value: value.v };
  if (isSoftStale(value) && miss.graceMs === 0) return { fresh: false, value: undefined, payload };
  return { fresh: false, value: undefined, stale: value, payload };
}

/** Runs inside the single-flight: re-reads (a flight that just ended may have stored the value), then loads, under the lock when asked. */
async function resolveMiss<T>(engine: Engine, view: View, miss: Miss<T>): Promise<T> {
  const read = await readInFlight(engine, view, miss);
  if (read.fresh) return read.value as T;
  if (miss.backendDown) return loadAndStore(engine, view, miss);
  miss.expected = read.payload;
  if (read.stale) miss.stale ??= read.stale;
  return miss.lock ? resolveMissLocked(engine, view, miss, miss.lock) : loadAndStore(engine, view, miss);
}

/** `readEntry` for the flight: a failed read is reported and marks the backend down (the loader runs, whatever the error policy, and nothing is written). */
async function readInFlight<T>(engine: Engine, view: View, miss: Miss<T>): Promise<Read> {
  try {
    return await readEntry(engine, view, miss);
  } catch (error) {
    backendDown(engine, view, miss, error);
    return MISS;
  }
}

function backendDown<T>(engine: Engine, view: View, miss: Miss<T>, error: unknown): void {
  engine.report(view, 'remember', miss.key, error);
  miss.backendDown = true;
}

/** Cross-process: only the holder of the key's lock loads; others poll for its value with back-off, then load themselves when the wait ends. */
async function resolveMissLocked<T>(engine: Engine, view: View, miss: Miss<T>, options: MissLock): Promise<T> {
  const lock = new Lock(engine.locks, options.key, options.ttlMs);
  const deadline = Date.now() + options.waitMs;
  let backoff = 5;
  for (;;) {
    let acquired: boolean;
    try {
      acquired = await lock.acquire();
    } catch (error) {
      backendDown(engine, view, miss, error);
      return loadAndStore(engine, view, miss);
    }
    if (acquired) {
      try {
        // The previous holder may have stored the value just before releasing.
        const read = await readEntry(engine, view, miss).catch(() => undefined);
        if (read?.fresh) return read.value as T;
        if (read !== undefined) miss.expected = read.payload;
        return await loadAndStore(engine, view, miss);
      } finally {
        await lock.release().catch((error) => engine.report(view, 'remember', miss.key, error));
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) return loadAndStore(engine, view, miss);
    await sleep(Math.min(left, backoff * (0.5 + Math.random() / 2)));
    backoff = Math.min(backoff * 2, 200);
    const read = await readInFlight(engine, view, miss);
    if (read.fresh) return read.value as T;
    if (miss.backendDown) return loadAndStore(engine, view, miss);
    miss.expected = read.payload;
  }
}

/** Runs the loader and stores its result; serves the stale value when the loader fails. */
async function loadAndStore<T>(engine: Engine, view: View, miss: Miss<T>): Promise<T> {
  const tagged = miss.tags === undefined || miss.backendDown ? undefined : await tagsBefore(engine, view, miss);
  let value: T;
  try {
    const run = await runLoader(miss.loader, miss.key, miss.stale?.v, miss.hardMs, miss.clock);
    if (run.skipped) return run.value;
    value = run.value;
  } catch (error) {
    if (miss.stale === undefined) throw error;
    engine.report(view, 'remember.loader', miss.key, error, false);
    miss.servedStale = true;
    return miss.stale.v as T;
  }
  if (value === undefined) return value;
  const { ttlMs, graceMs } = miss;
  const entry = graceMs > 0 ? gracedEntry(value, ttlMs as number) : value;
  const kept = storeTtl(ttlMs, graceMs);
  const payload = engine.values.encode(miss.key, entry, kept);
  if (graceMs > 0) engine.keepGraced(miss.full, entry as GracedEntry, graceMs);
  if (miss.backendDown || (miss.tags !== undefined && tagged === undefined)) return value;
  const { binding, key, full } = miss;
  // Never over a newer value: stored only if the key still holds what was read before the loader began.
  await write(engine, view, binding, {
    operation: 'remember',
    entries: [{ key, full, value: entry, payload }],
    storeTtlMs: kept,
    tagged,
    send: (_, [stored]) =>
      storeIfUnchanged(engine, view, binding, key, miss.expected, (stored as EntryWrite).payload, kept, full),
    // The value is good; the cache is not. Serve it anyway.
    failed: (error) => engine.report(view, 'remember', key, error),
  });
  return value;
}

/**
 * The tags' versions, read before the loader runs: a load that overlaps an invalidation of one of
 * them records the version before it, so its value reads as invalidated. A failed read of the tag
 * state is reported and the loader's value is returned unstored.
 */
async function tagsBefore<T>(engine: Engine, view: View, miss: Miss<T>): Promise<PreparedTags | undefined> {
  try {
    return await tagVersions(miss.binding, miss.tags as readonly string[], storeTtl(miss.ttlMs, miss.graceMs), [
      miss.full,
    ]);
  } catch (error) {
    engine.report(view, 'remember', miss.key, error);
    return undefined;
  }
}
