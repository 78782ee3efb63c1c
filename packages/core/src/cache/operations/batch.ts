import type { CacheTier } from '../../util/tracing';
import { freshValue } from '../../values/entry';
import { cut } from '../../values/string-calls';
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
  const fulls = list.map((key) => engine.full(view, key));
  if (fulls.length === 0) return [];
  const distinct = new Set(fulls);
  const unique = distinct.size === fulls.length ? fulls : [...distinct];
  const keyOf = (full: string) => cut(full, view.prefix.length);
  // With an L1: what it holds answers here; only the rest goes to the store (read through the L1).
  const fromL1 = binding.tiered ? unique.map((full) => reads.cachedValue(full, keyOf(full))) : undefined;
  const wanted = fromL1 === undefined ? unique : unique.filter((_, i) => fromL1[i] === undefined);
  const tokens = wanted.map((full) => reads.begin(full));
  const payloads =
    wanted.length === 0 ? [] : await engine.call(view, 'getMany', undefined, () => binding.readManyChecked(wanted));
  if (payloads === FAILED) {
    for (const token of tokens) reads.abandon(token);
    return list.map(() => undefined);
  }
  const read = wanted.map((full, i) => freshValue(reads.offer(tokens[i], payloads[i], keyOf(full))));
  let next = 0;
  const values = fromL1 === undefined ? read : fromL1.map((value) => (value === undefined ? read[next++] : value));
  // Which tier answered each unique key (the L1 only for what it held).
  const tiers: CacheTier[] = fromL1 === undefined ? [] : fromL1.map((value) => (value === undefined ? 'l2' : 'l1'));
  let aligned = values as (T | undefined)[];
  let alignedTiers = tiers;
  if (unique !== fulls) {
    const index = new Map<string, number>();
    for (let i = 0; i < unique.length; i++) index.set(unique[i] as string, i);
    aligned = fulls.map((full) => values[index.get(full) as number] as T | undefined);
    if (fromL1 !== undefined) alignedTiers = fulls.map((full) => tiers[index.get(full) as number] as CacheTier);
  }
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
