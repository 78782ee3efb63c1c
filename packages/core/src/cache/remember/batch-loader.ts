import { describe, InvalidArgumentError, isLarderError } from '../../contract/errors';
import type { Payload, TtlMs } from '../../contract/store';
import type { PreparedTags } from '../../tags/prepared-tags';
import { normalizeTags, unionTags } from '../../tags/tag-policy';
import { operationChannel } from '../../util/tracing';
import { isFresh, isGraced } from '../../values/entry';
import { type Checked, storedOf } from '../../values/entry-format';
import type { Ttl } from '../../values/ttl';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import { storeIfUnchanged } from '../operations/compare-and-set';
import { tracedBatch } from '../traced-calls';
import type { View } from '../view';
import { type EntryWrite, tagVersions, write } from '../write-path';

// `Cache.rememberMany`: `remember` for a batch of keys. One read of every key (through the L1
// when there is one, like `getMany`), one call of the loader with the distinct missing keys, and
// each loaded value stored only if its key still holds what the read found (never stale, like
// `remember`). Each missing key is its own single-flight in this process, so concurrent
// `remember`/`rememberMany` callers of the same keys share the loads.

/**
 * `rememberMany`'s loader: given the distinct missing keys, their values as an array aligned with
 * them, or a `Map` or record keyed by key (a key left out is `undefined`); `undefined` values are
 * returned but not cached.
 */
export type LoadMany<T> = (
  keys: string[],
) =>
  | readonly (T | undefined)[]
  | ReadonlyMap<string, T | undefined>
  | Readonly<Record<string, T | undefined>>
  | Promise<readonly (T | undefined)[] | ReadonlyMap<string, T | undefined> | Readonly<Record<string, T | undefined>>>;

/** Options of `rememberMany`. */
export interface RememberManyOptions {
  /** Tags every stored value carries (with the view's; see `RememberOptions.tags`). */
  tags?: readonly string[];
}

/** One missing key of a batch and what the read found there (`expected`: the payload as stored, `undefined` when absent). */
interface Missing {
  readonly key: string;
  readonly full: string;
  readonly expected: Payload | undefined;
}

/** `Cache.rememberMany`: traced as one batch (`larder.operation`) when someone subscribes. */
export function tracedRememberMany<T>(
  engine: Engine,
  view: View,
  keys: Iterable<string>,
  ttl: Ttl | undefined,
  loadMany: LoadMany<T>,
  options?: RememberManyOptions,
): Promise<(T | undefined)[]> {
  const run = (list: Iterable<string>) => rememberMany<T>(engine, view, list, ttl, loadMany, options);
  return operationChannel.hasSubscribers ? tracedBatch(engine, 'rememberMany', keys, undefined, run) : run(keys);
}

/** `rememberMany` untraced: values aligned with `keys`, cached ones read in one batch, missing ones loaded by one `loadMany` call. */
export async function rememberMany<T>(
  engine: Engine,
  view: View,
  keys: Iterable<string>,
  ttl: Ttl | undefined,
  loadMany: LoadMany<T>,
  options?: RememberManyOptions,
): Promise<(T | undefined)[]> {
  const list = listKeys(keys);
  if (typeof loadMany !== 'function') {
    throw new InvalidArgumentError(`rememberMany needs a loadMany function, got ${describe(loadMany)}`, 'loadMany');
  }
  const ttlMs = engine.ttlMs(ttl);
  let tags = view.tags;
  if (options?.tags !== undefined) tags = unionTags(tags, normalizeTags(options.tags));
  const binding = engine.binding ?? (await engine.ready());
  const fulls = list.map((key) => engine.full(view, key));
  const byFull = new Map<string, number>();
  const keyOf: string[] = [];
  for (let i = 0; i < fulls.length; i++) {
    const full = fulls[i] as string;
    if (!byFull.has(full)) {
      byFull.set(full, keyOf.length);
      keyOf.push(list[i] as string);
    }
  }
  const unique = [...byFull.keys()];
  const { values, missing, backendDown } = await readAll(engine, view, binding, unique, keyOf);
  // Each missing key: join the flight of a `remember`/`rememberMany` already loading it, or run
  // it as part of this batch's one load.
  const owned: Missing[] = [];
  const flights = missing.map((miss) => {
    if (engine.inFlight(miss.full)) return engine.flight(miss.full, () => Promise.resolve(undefined as T | undefined));
    owned.push(miss);
    return engine.flight(miss.full, () => batch.then((loaded) => loaded.get(miss.full)));
  });
  // Started after the flights are registered: a caller arriving meanwhile joins them.
  const batch: Promise<Map<string, T | undefined>> = Promise.resolve().then(() =>
    loadAndStore(engine, view, binding, owned, ttlMs, loadMany, backendDown ? undefined : tags, backendDown),
  );
  const loaded = await Promise.all(flights);
  for (let i = 0; i < missing.length; i++) values[byFull.get((missing[i] as Missing).full) as number] = loaded[i];
  return fulls.map((full) => values[byFull.get(full) as number] as T | undefined);
}

/** The keys as a list of strings; anything else is an `InvalidArgumentError`. */
function listKeys(keys: Iterable<string>): string[] {
  if (keys === null || typeof keys !== 'object' || typeof (keys as Iterable<string>)[Symbol.iterator] !== 'function') {
    throw new InvalidArgumentError(`rememberMany needs an array (or iterable) of keys, got ${describe(keys)}`, 'keys');
  }
  const list = Array.isArray(keys) ? (keys as string[]) : [...keys];
  for (const key of list) {
    if (typeof key !== 'string') {
      throw new InvalidArgumentError(`rememberMany keys must be strings, got ${describe(key)}`, 'keys');
    }
  }
  return list;
}

/**
 * Reads the distinct full keys: the L1 answers what it holds fresh, the rest is one batched store
 * read (each read registered with the L1 and offered to it, as `getMany` does). A fresh value is a
 * hit; anything else is missing, with the payload found (as stored) for the compare-and-set. A
 * failed store read is reported: every key not in the L1 is missing and nothing will be stored.
 */
async function readAll(
  engine: Engine,
  view: View,
  binding: Binding,
  unique: readonly string[],
  keyOf: readonly string[],
): Promise<{ values: unknown[]; missing: Missing[]; backendDown: boolean }> {
  const reads = binding.reads;
  const values: unknown[] = new Array(unique.length).fill(undefined);
  const wanted: number[] = [];
  for (let i = 0; i < unique.length; i++) {
    const value = binding.tiered ? reads.cachedValue(unique[i] as string, keyOf[i] as string) : undefined;
    if (value === undefined) wanted.push(i);
    else {
      values[i] = value;
      engine.events.counted(view, keyOf[i] as string, true, 'l1');
    }
  }
  const missing: Missing[] = [];
  if (wanted.length === 0) return { values, missing, backendDown: false };
  const fulls = wanted.map((i) => unique[i] as string);
  const tokens = fulls.map((full) => reads.begin(full));
  let payloads: (Checked | undefined)[];
  try {
    payloads = await engine.send('getMany', () => binding.readManyChecked(fulls));
  } catch (error) {
    for (const token of tokens) reads.abandon(token);
    engine.report(view, 'rememberMany', undefined, error);
    for (const i of wanted) missing.push({ key: keyOf[i] as string, full: unique[i] as string, expected: undefined });
    return { values, missing, backendDown: true };
  }
  for (let n = 0; n < wanted.length; n++) {
    const i = wanted[n] as number;
    const key = keyOf[i] as string;
    const full = unique[i] as string;
    const payload = payloads[n];
    const entry = reads.offer(tokens[n], payload, key, (p) => decodeOrMiss(engine, view, p, key));
    const value = isGraced(entry) ? (isFresh(entry) ? entry.v : undefined) : entry;
    engine.events.counted(view, key, value !== undefined, 'l2');
    if (value !== undefined) values[i] = value;
    else missing.push({ key, full, expected: payload === undefined ? undefined : storedOf(payload) });
  }
  return { values, missing, backendDown: false };
}

/** Decodes a payload read for `rememberMany`: one that no longer decodes is reported and counts as a miss (overwritten). */
function decodeOrMiss(engine: Engine, view: View, payload: Checked, key: string): unknown {
  try {
    return engine.values.decode(payload, key);
  } catch (error) {
    if (!isLarderError(error, 'E_SERIALIZATION')) throw error;
    engine.report(view, 'rememberMany', key, error);
    return undefined;
  }
}

/**
 * The batch's one load: `loadMany` with the distinct missing keys (the tags' versions read before
 * it runs), its result checked and every value encoded before anything is stored, then each
 * defined value stored only if its key still holds what the read found. A failed store is
 * reported; the loaded values are returned all the same.
 */
async function loadAndStore<T>(
  engine: Engine,
  view: View,
  binding: Binding,
  owned: readonly Missing[],
  ttlMs: TtlMs,
  loadMany: LoadMany<T>,
  tags: readonly string[] | undefined,
  backendDown: boolean,
): Promise<Map<string, T | undefined>> {
  const loaded = new Map<string, T | undefined>();
  if (owned.length === 0) return loaded;
  let tagged: PreparedTags | undefined;
  if (tags !== undefined) {
    try {
      tagged = await tagVersions(
        binding,
        tags,
        ttlMs,
        owned.map((miss) => miss.full),
      );
    } catch (error) {
      engine.report(view, 'rememberMany', undefined, error);
    }
  }
  const keys = owned.map((miss) => miss.key);
  const result = await loadMany(keys);
  const values = aligned<T>(result, keys);
  const writes = [];
  for (let i = 0; i < owned.length; i++) {
    const miss = owned[i] as Missing;
    const value = values[i];
    loaded.set(miss.full, value);
    // Encoded before anything is stored: a value the codec refuses rejects the whole batch.
    if (value !== undefined) writes.push({ miss, value, payload: engine.values.encode(miss.key, value, ttlMs) });
  }
  if (backendDown || (tags !== undefined && tagged === undefined)) return loaded;
  await Promise.all(
    writes.map(({ miss, value, payload }) =>
      write(engine, view, binding, {
        operation: 'rememberMany',
        entries: [{ key: miss.key, full: miss.full, value, payload }],
        storeTtlMs: ttlMs,
        tagged,
        // Never over a newer value: stored only if the key still holds what the read found.
        send: (_, [entry]) =>
          storeIfUnchanged(
            engine,
            view,
            binding,
            miss.key,
            miss.expected,
            (entry as EntryWrite).payload,
            ttlMs,
            miss.full,
          ),
        failed: (error) => engine.report(view, 'rememberMany', miss.key, error),
      }),
    ),
  );
  return loaded;
}

/** `loadMany`'s result as values aligned with `keys`: an array of the same length, or a `Map` or record keyed by key. */
function aligned<T>(result: unknown, keys: readonly string[]): (T | undefined)[] {
  if (Array.isArray(result)) {
    if (result.length !== keys.length) {
      throw new InvalidArgumentError(
        `rememberMany: loadMany returned ${result.length} values for ${keys.length} keys`,
        'loadMany',
      );
    }
    return result as (T | undefined)[];
  }
  if (result instanceof Map) return keys.map((key) => result.get(key) as T | undefined);
  if (result !== null && typeof result === 'object' && !ArrayBuffer.isView(result)) {
    const record = result as Record<string, T | undefined>;
    return keys.map((key) => (Object.hasOwn(record, key) ? record[key] : undefined));
  }
  throw new InvalidArgumentError(
    `rememberMany: loadMany must return an array aligned with its keys, a Map or a record, got ${describe(result)}`,
    'loadMany',
  );
}
