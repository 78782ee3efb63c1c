import type { Payload } from '../../contract/store';
import { activeTrace, type CacheTier } from '../../util/tracing';
import { freshValue } from '../../values/entry';
import type { Ttl } from '../../values/ttl';
import { FAILED, type OperationPath } from './operation';

// The batch operations of `Cache`: one store call for the batch when the driver has one, else
// parallel single calls; each bounded once by the timeout.

const noop = () => {};

/** `Cache.getMany`: values aligned with `keys`; each distinct key is read once. */
export async function getMany<T>(ops: OperationPath, keys: Iterable<string>): Promise<(T | undefined)[]> {
  // Taken before the first await: the tier is known only once the store has answered.
  const trace = activeTrace();
  const context = ops.context;
  const store = context.store ?? (await context.ready);
  const list = Array.isArray(keys) ? (keys as string[]) : [...keys];
  const fulls = list.map((key) => ops.full(key));
  if (fulls.length === 0) return [];
  const distinct = new Set(fulls);
  const unique = distinct.size === fulls.length ? fulls : [...distinct];
  const l1 = context.l1;
  // With an L1: what it holds answers here; only the rest goes to the store.
  const fromL1 = l1 === undefined ? undefined : unique.map((full) => l1Value(ops, full));
  const wanted = fromL1 === undefined ? unique : unique.filter((_, i) => fromL1[i] === undefined);
  const tokens = l1 === undefined ? undefined : wanted.map((full) => l1.begin(full));
  const payloads =
    wanted.length === 0
      ? []
      : await ops.settle('getMany', undefined, () =>
          store.getMany ? store.getMany(wanted) : Promise.all(wanted.map((full) => store.get(full))),
        );
  if (payloads === FAILED) {
    if (tokens !== undefined) for (const token of tokens) l1?.fill(token, undefined, undefined);
    return list.map(() => undefined);
  }
  const read = wanted.map((full, i) => {
    const key = full.slice(ops.prefix.length);
    if (tokens === undefined) return ops.value(payloads[i], key);
    return freshValue(ops.readThrough(tokens[i], payloads[i], key));
  });
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
    ops.counted(list[i] as string, hit, tier);
  }
  // The trace names one tier for the batch: `l1` when the L1 answered every value found.
  if (trace !== undefined && fromL1 !== undefined && storeHits === 0 && aligned.some((v) => v !== undefined)) {
    trace.tier = 'l1';
  }
  return aligned;
}

/** `Cache.setMany`: every value is encoded and checked before anything is sent; the last duplicate wins. */
export async function setMany(
  ops: OperationPath,
  entries: Record<string, unknown> | Iterable<readonly [string, unknown]>,
  ttl: Ttl | undefined,
): Promise<void> {
  const context = ops.context;
  const store = context.store ?? (await context.ready);
  const pairs =
    entries !== null && typeof entries === 'object' && Symbol.iterator in entries
      ? [...(entries as Iterable<readonly [string, unknown]>)]
      : Object.entries(entries as Record<string, unknown>);
  const ttlMs = ops.ttlMs(ttl);
  const byFull = new Map<string, readonly [string, Payload]>();
  const userKeys = new Map<string, string>();
  for (const [key, value] of pairs) {
    const full = ops.full(key);
    byFull.set(full, [full, ops.encode(key, value)]);
    userKeys.set(full, key);
  }
  if (byFull.size === 0) return;
  const list = [...byFull.values()];
  const stored = await ops.settle('setMany', undefined, () =>
    store.setMany
      ? store.setMany(list, ttlMs)
      : Promise.all(list.map(([full, payload]) => store.set(full, payload, ttlMs))).then(noop),
  );
  ops.changed(...byFull.keys());
  if (stored === FAILED) return;
  ops.wroteAll([...userKeys.values()]);
}

/** `Cache.deleteMany`: how many of the distinct keys existed. */
export async function deleteMany(ops: OperationPath, keys: Iterable<string>): Promise<number> {
  const context = ops.context;
  const store = context.store ?? (await context.ready);
  const list = Array.isArray(keys) ? (keys as string[]) : [...keys];
  const unique = [...new Set(list.map((key) => ops.full(key)))];
  if (unique.length === 0) return 0;
  let each: boolean[] | undefined;
  const count = await ops.settle('deleteMany', undefined, () =>
    store.deleteMany
      ? store.deleteMany(unique)
      : Promise.all(unique.map((full) => store.delete(full))).then((done) => {
          each = done;
          return done.filter(Boolean).length;
        }),
  );
  ops.changed(...unique);
  if (count === FAILED) return 0;
  ops.deletedAll(unique, count, each);
  return count;
}

/** A fresh value of `full` in the L1 (its hit counted with the batch), else `undefined`. */
function l1Value(ops: OperationPath, full: string): unknown {
  const l1 = ops.context.l1;
  const entry = l1?.get(full);
  if (entry === undefined) return undefined;
  const value = freshValue(ops.decodeL1(entry, full, full.slice(ops.prefix.length)));
  if (value !== undefined) l1?.hit();
  return value;
}
