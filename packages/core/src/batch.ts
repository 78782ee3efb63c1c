import type { Payload } from './contract';
import { FAILED, type OperationPath } from './operation';
import type { Ttl } from './ttl';

// The batch operations of `Cache`: one store call for the batch when the driver has one, else
// parallel single calls; each bounded once by the timeout.

const noop = () => {};

/** `Cache.getMany`: values aligned with `keys`; each distinct key is read once. */
export async function getMany<T>(ops: OperationPath, keys: Iterable<string>): Promise<(T | undefined)[]> {
  const context = ops.context;
  const store = context.store ?? (await context.ready);
  const list = Array.isArray(keys) ? (keys as string[]) : [...keys];
  const fulls = list.map((key) => ops.full(key));
  if (fulls.length === 0) return [];
  const distinct = new Set(fulls);
  const unique = distinct.size === fulls.length ? fulls : [...distinct];
  const payloads = await ops.settle('getMany', undefined, () =>
    store.getMany ? store.getMany(unique) : Promise.all(unique.map((full) => store.get(full))),
  );
  if (payloads === FAILED) return list.map(() => undefined);
  const values = unique.map((full, i) => ops.value(payloads[i], full.slice(ops.prefix.length)));
  let aligned = values as (T | undefined)[];
  if (unique !== fulls) {
    const byFull = new Map<string, unknown>();
    for (let i = 0; i < unique.length; i++) byFull.set(unique[i] as string, values[i]);
    aligned = fulls.map((full) => byFull.get(full) as T | undefined);
  }
  for (let i = 0; i < aligned.length; i++) ops.counted(list[i] as string, aligned[i] !== undefined);
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
  if (count === FAILED) return 0;
  ops.deletedAll(unique, count, each);
  return count;
}
