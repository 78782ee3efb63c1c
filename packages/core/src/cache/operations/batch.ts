import type { CacheTier } from '../../util/tracing';
import { freshValue } from '../../values/entry';
import type { Ttl } from '../../values/ttl';
import { type Engine, FAILED } from '../engine';
import type { View } from '../view';
import { type EntryWrite, entryOf, STORED, write } from '../write-path';

// The batch operations of `Cache`: one store call for the batch when the driver has one, else
// parallel single calls; each bounded once by the timeout.

/** `Cache.getMany`: values aligned with `keys`; each distinct key is read once. */
export async function getMany<T>(
  engine: Engine,
  view: View,
  keys: Iterable<string>,
  trace?: { tier?: CacheTier },
): Promise<(T | undefined)[]> {
  const binding = engine.binding ?? (await engine.ready());
  const reads = binding.reads;
  const list = Array.isArray(keys) ? (keys as string[]) : [...keys];
  if (list.length === 0) return [];
  const { unique, fulls, slots } = distinctKeys(engine, view, list);
  // With an L1: what it holds answers here; only the rest goes to the store (read through the L1).
  const fromL1 = binding.tiered ? fulls.map((full, i) => reads.cachedValue(full, unique[i] as string)) : undefined;
  const wanted = fromL1 === undefined ? fulls : fulls.filter((_, i) => fromL1[i] === undefined);
  const wantedKeys = fromL1 === undefined ? unique : unique.filter((_, i) => fromL1[i] === undefined);
  const tokens = binding.tiered ? wanted.map((full) => reads.begin(full)) : undefined;
  const payloads =
    wanted.length === 0 ? [] : await engine.call(view, 'getMany', undefined, () => binding.readManyChecked(wanted));
  if (payloads === FAILED) {
    for (const token of tokens ?? []) reads.abandon(token);
    return list.map(() => undefined);
  }
  const read = wantedKeys.map((key, i) => freshValue(reads.offer(tokens?.[i], payloads[i], key)));
  let next = 0;
  const values = fromL1 === undefined ? read : fromL1.map((value) => (value === undefined ? read[next++] : value));
  // Which tier answered each unique key (the L1 only for what it held).
  const tiers: CacheTier[] = fromL1 === undefined ? [] : fromL1.map((value) => (value === undefined ? 'l2' : 'l1'));
  const aligned = (slots === undefined ? values : slots.map((slot) => values[slot])) as (T | undefined)[];
  const alignedTiers =
    slots === undefined || fromL1 === undefined ? tiers : slots.map((slot) => tiers[slot] as CacheTier);
  let storeHits = 0;
  for (let i = 0; i < aligned.length; i++) {
    const hit = aligned[i] !== undefined;
    const tier = alignedTiers[i] ?? 'l2';
    if (hit && tier === 'l2') storeHits++;
    engine.events.counted(view, list[i] as string, hit, tier);
  }
  // The trace names one tier for the batch: `l1` when the L1 answered every value found.
  if (trace !== undefined && fromL1 !== undefined && storeHits === 0 && aligned.some((v) => v !== undefined)) {
    trace.tier = 'l1';
  }
  return aligned;
}

/** Whether the last batch read (of any cache in the process) had repeated keys: a hint for `distinctKeys`, whose answer is the same either way. */
let repeatedLately = false;

/**
 * The distinct keys of `list` in first-seen order with their full keys (a store's `getMany` takes
 * distinct keys), and where each key of `list` sits among them (`slots`; absent when all are
 * distinct). Keys are compared before the prefix is added: a shorter string, hashed once.
 */
function distinctKeys(
  engine: Engine,
  view: View,
  list: readonly string[],
): { unique: readonly string[]; fulls: string[]; slots: number[] | undefined } {
  // Every key is checked first (an invalid key throws before anything is read).
  const fulls = list.map((key) => engine.full(view, key));
  // Without repeats, one Set built from the array (V8's fast path) tells, and no key is placed
  // (a Map per call cost about 8 µs of a 100-key getMany on Redis, pinned). After a batch with
  // repeats (a small or skewed key set: batches alike), keys are placed at once.
  if (!repeatedLately && new Set(list).size === list.length) return { unique: list, fulls, slots: undefined };
  const at = new Map<string, number>();
  const unique: string[] = [];
  const distinctFulls: string[] = [];
  const slots: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const key = list[i] as string;
    let slot = at.get(key);
    if (slot === undefined) {
      slot = unique.length;
      at.set(key, slot);
      unique.push(key);
      distinctFulls.push(fulls[i] as string);
    }
    slots.push(slot);
  }
  repeatedLately = unique.length < list.length;
  if (!repeatedLately) return { unique: list, fulls, slots: undefined };
  return { unique, fulls: distinctFulls, slots };
}

/** `Cache.setMany`: every value is encoded and checked before anything is sent; the last duplicate wins. */
export async function setMany(
  engine: Engine,
  view: View,
  entries: Record<string, unknown> | Iterable<readonly [string, unknown]>,
  ttl: Ttl | undefined,
): Promise<void> {
  const binding = engine.binding ?? (await engine.ready());
  const pairs =
    entries !== null && typeof entries === 'object' && Symbol.iterator in entries
      ? [...(entries as Iterable<readonly [string, unknown]>)]
      : Object.entries(entries as Record<string, unknown>);
  const ttlMs = engine.ttlMs(ttl);
  const byFull = new Map<string, EntryWrite>();
  for (const [key, value] of pairs) {
    const entry = entryOf(engine, view, key, value, ttlMs);
    byFull.set(entry.full, entry);
  }
  if (byFull.size === 0) return;
  await write(engine, view, binding, {
    operation: 'setMany',
    entries: [...byFull.values()],
    storeTtlMs: ttlMs,
    tags: view.tags,
    send: (store, list) =>
      (store.setMany
        ? store.setMany(
            list.map((entry) => [entry.full, entry.payload] as const),
            ttlMs,
          )
        : Promise.all(list.map((entry) => store.set(entry.full, entry.payload, ttlMs)))
      ).then(STORED),
    failed: (error) => engine.failed(view, 'setMany', undefined, error, undefined),
  });
}

/** `Cache.deleteMany`: how many of the distinct keys existed. */
export async function deleteMany(engine: Engine, view: View, keys: Iterable<string>): Promise<number> {
  const { reads } = engine.binding ?? (await engine.ready());
  const list = Array.isArray(keys) ? (keys as string[]) : [...keys];
  const unique = [...new Set(list.map((key) => engine.full(view, key)))];
  if (unique.length === 0) return 0;
  let each: boolean[] | undefined;
  const count = await engine.call(view, 'deleteMany', undefined, (store) =>
    store.deleteMany
      ? store.deleteMany(unique)
      : Promise.all(unique.map((full) => store.delete(full))).then((done) => {
          each = done;
          return done.filter(Boolean).length;
        }),
  );
  reads.changedAll(unique);
  if (count === FAILED) return 0;
  engine.events.deletedAll(view, unique, count, each);
  return count;
}
