import type { CacheStore, Payload, SyncStoreMethods, TtlMs } from '../../contract/store';
import { jsonCodec } from '../../values/codec';
import { isGraced } from '../../values/entry';
import { envelopeText } from '../../values/tagged-envelope';
import type { Binding } from '../binding';

/**
 * `add`, `compareAndSet` and `increment` over a tagged entry on an in-process rawValues store
 * (kept as an envelope, `tagged-envelope.ts`): the store's own operations see an object,
 * so the facade reads, judges and writes in one synchronous step, which nothing in this process
 * can interleave. `undefined` when the key does not hold an envelope (the caller goes on as usual).
 */
export function taggedSwap(
  binding: Binding,
  full: string,
  decide: (entry: unknown) => Payload | undefined,
  ttlMs: TtlMs,
): boolean | undefined {
  const { raw, getSync, setSync } = binding;
  if (!raw || getSync === undefined || setSync === undefined) return undefined;
  if (envelopeText((binding.store as CacheStore & SyncStoreMethods).getSync?.(full)) === undefined) return undefined;
  // The binding's getSync checks the envelope's tags: `undefined` when hard-invalidated (absent).
  const next = decide(getSync(full));
  if (next === undefined) return false;
  setSync(full, next, ttlMs);
  return true;
}

/** A read entry's value (a soft-invalidated one is wrapped as stale, see `softStale`). */
export function entryValue(entry: unknown): unknown {
  return isGraced(entry) ? entry.v : entry;
}

/** Whether two raw values are equal as the JSON codec encodes them. */
export function sameRaw(a: unknown, b: unknown, key: string): boolean {
  try {
    return a === b || jsonCodec.encode(a, key) === jsonCodec.encode(b, key);
  } catch {
    return false;
  }
}
