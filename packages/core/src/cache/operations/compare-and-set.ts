import { isLarderError, UnsupportedOperationError } from '../../contract/errors';
import type { CacheStore, Payload, TtlMs } from '../../contract/store';
import { jsonCodec } from '../../values/codec';
import { Judged, type TagVerdict } from '../../values/entry-format';
import { LOCK_KEY_PREFIX } from '../../values/key-policy';
import type { Ttl } from '../../values/ttl';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import type { View } from '../view';
import { write } from '../write-path';
import { Lock } from './lock';
import { addsAtomically, offers } from './offers';
import { entryValue, sameRaw, taggedSwap } from './raw-tagged';

/** How long the emulation waits for the key's lock, and holds it at most. */
const EMULATION_WAIT_MS = 5_000;
const EMULATION_LOCK_MS = 10_000;

/**
 * The facade's `compareAndSet`: stores `value` for `ttl` only if the stored value still encodes to
 * the same payload as `expected` (`undefined` = absent or expired); true if stored. Values are
 * compared in their encoded form, so a value read with `get` and passed back as `expected` matches
 * exactly when nobody wrote the key since (in the raw memory modes only strings and bytes compare).
 *
 * Drivers with a native `compareAndSet` do it in one atomic step. For the others the facade
 * emulates it under a lock on the key (`__larder:lock:cas:<key>`) when the driver has locks
 * (atomic `add`): get, compare, set. That is atomic against every other `compareAndSet` through
 * larder, not against a plain `set` of the same key. A driver with neither gets
 * `UnsupportedOperationError`. Rejects on backend errors whatever `onError` says: a guessed
 * answer would either lose a write or report a conflict that never happened.
 */
export async function compareAndSet(
  engine: Engine,
  view: View,
  key: string,
  expected: unknown,
  value: unknown,
  ttl: Ttl | undefined,
): Promise<boolean> {
  const binding = engine.binding ?? (await engine.ready());
  const store = binding.store;
  const full = engine.full(view, key);
  const ttlMs = engine.ttlMs(ttl);
  // Written without the metadata header, so that the next compareAndSet (a session's merge) finds
  // the exact bytes it expects in one round trip; compared without it (see `nativeCompareAndSet`).
  const payload = engine.values.encode(key, value, ttlMs, false);
  const want = expected === undefined ? undefined : engine.values.encode(key, expected, undefined, false);
  const same = (current: Payload) => sameBytes(engine.values.body(current), want as Payload);
  const swapsRaw = binding.raw && binding.getSync !== undefined && binding.setSync !== undefined;
  if (!swapsRaw && !offers(store, 'compareAndSet') && !addsAtomically(store)) {
    throw new UnsupportedOperationError(
      'compareAndSet',
      engine.driver,
      'it has neither an atomic compare-and-set nor locks to emulate one',
    );
  }
  return write(engine, view, binding, {
    operation: 'compareAndSet',
    entries: [{ key, full, value, payload }],
    storeTtlMs: ttlMs,
    send: async () => {
      // A tagged entry on a rawValues store (an envelope): a hard-invalidated one is absent.
      const swapped = taggedSwap(
        binding,
        full,
        (entry) =>
          (
            expected === undefined
              ? entry === undefined
              : entry !== undefined && sameRaw(entryValue(entry), expected, key)
          )
            ? payload
            : undefined,
        ttlMs,
      );
      if (swapped !== undefined) return swapped;
      if (offers(store, 'compareAndSet')) return nativeCompareAndSet(engine, store, full, want, same, payload, ttlMs);
      if (addsAtomically(store)) return emulatedCompareAndSet(engine, view, key, want, payload, ttlMs, same);
      throw new UnsupportedOperationError(
        'compareAndSet',
        engine.driver,
        'it keeps values as given, not as this envelope',
      );
    },
    // No guessed answer: it would either lose a write or report a conflict that never happened.
    failed: (error): never => {
      if (isLarderError(error, 'E_UNSUPPORTED_OPERATION')) throw error;
      throw engine.report(view, 'compareAndSet', key, error);
    },
  });
}

/**
 * The driver's atomic compareAndSet: one round trip when the store holds `want` exactly (written by
 * compareAndSet); else, when it holds `want` behind a metadata header (written by `set`), the
 * swap is retried with the exact bytes read, so a write in between still fails it.
 */
async function nativeCompareAndSet(
  engine: Engine,
  store: CacheStore & Required<Pick<CacheStore, 'compareAndSet'>>,
  full: string,
  want: Payload | undefined,
  same: (current: Payload) => boolean,
  payload: Payload,
  ttlMs: TtlMs,
): Promise<boolean> {
  if (await engine.send('compareAndSet', () => store.compareAndSet(full, want, payload, ttlMs))) return true;
  const { tags } = engine.binding ?? (await engine.ready());
  // Only a hard-invalidated tagged entry can stand for "absent" while the store holds it.
  if (want === undefined && !tags.inUse) return false;
  const read = await current(engine, full);
  if (read === undefined) return false;
  if (
    want === undefined
      ? read.verdict !== 'gone'
      : read.verdict === 'gone' || read.payload === want || !same(read.payload)
  ) {
    return false;
  }
  return engine.send('compareAndSet', () => store.compareAndSet(full, read.payload, payload, ttlMs));
}

/** What the store holds for `full` with its tags checked: the stored bytes and the check's verdict. */
async function current(
  engine: Engine,
  full: string,
): Promise<{ readonly payload: Payload; readonly verdict: TagVerdict | undefined } | undefined> {
  const { readChecked } = engine.binding ?? (await engine.ready());
  const checked = await engine.send('compareAndSet', () => readChecked(full));
  if (checked === undefined || checked instanceof Judged) return checked;
  // No verdict (untagged, or its tags are current; a rawValues store's reads come opened, never judged).
  return { payload: checked, verdict: undefined };
}

/** get, compare (`same`, else byte equality with `want`), set under the key's lock (see `compareAndSet`); also `remember`'s conditional write. */
export async function emulatedCompareAndSet(
  engine: Engine,
  view: View,
  key: string,
  want: Payload | undefined,
  payload: Payload,
  ttlMs: number | undefined,
  same: (current: Payload) => boolean = (current) => sameBytes(current, want as Payload),
): Promise<boolean> {
  const full = engine.full(view, key);
  const lockKey = `${engine.basePrefix}${LOCK_KEY_PREFIX}cas:${view.path}${key}`;
  const lock = new Lock(engine.locks, lockKey, EMULATION_LOCK_MS);
  await lock.block(EMULATION_WAIT_MS);
  try {
    const read = await current(engine, full);
    // A hard-invalidated tagged entry is absent (core README "Tags"), unless `want` is exactly it
    // (`remember` replacing the invalidated entry it read).
    const gone = read?.verdict === 'gone' && !sameBytes(read.payload, want as Payload);
    if (
      want === undefined
        ? read !== undefined && read.verdict !== 'gone'
        : read === undefined || gone || !same(read.payload)
    ) {
      return false;
    }
    await engine.send('compareAndSet', (store) => store.set(full, payload, ttlMs));
    return true;
  } finally {
    await lock.release().catch(() => {});
  }
}

/** Byte equality (a string counts as its UTF-8 bytes). */
function sameBytes(a: Payload, b: Payload): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return false;
  // Raw memory values that are neither text nor bytes compare by identity only.
  if (!(typeof a === 'string' || a instanceof Uint8Array) || !(typeof b === 'string' || b instanceof Uint8Array)) {
    return false;
  }
  const bytesA = typeof a === 'string' ? Buffer.from(a) : a;
  const bytesB = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.compare(bytesA, bytesB) === 0;
}

/**
 * `remember`'s write: stores `payload` only if the key still holds `expected` (a key invalidated
 * or rewritten after the loader began is left alone) — the driver's atomic `compareAndSet`, else
 * the lock-based emulation above, or for raw in-process stores (the memory driver's modes that
 * keep values) a synchronous compare of the values' JSON encodings. A driver with none of these
 * gets a plain set. True if stored.
 */
export async function storeIfUnchanged(
  engine: Engine,
  view: View,
  binding: Binding,
  key: string,
  expected: Payload | undefined,
  payload: Payload,
  ttlMs: TtlMs,
  full: string = engine.full(view, key),
): Promise<boolean> {
  const { store, raw, getSync, setSync } = binding;
  if (raw && getSync !== undefined && setSync !== undefined) {
    // An in-process store that keeps values (copies, not payloads): compare their encodings in
    // one synchronous step, which nothing in this process can interleave.
    const current = getSync(full);
    if (expected === undefined ? current !== undefined : current === undefined || !sameValue(current, expected, key)) {
      return false;
    }
    setSync(full, payload, ttlMs);
    return true;
  }
  const comparable = expected === undefined || typeof expected === 'string' || expected instanceof Uint8Array;
  const compareAndSet = store.compareAndSet;
  if (comparable && compareAndSet !== undefined) {
    return engine.send('set', () => compareAndSet.call(store, full, expected, payload, ttlMs));
  }
  if (comparable && addsAtomically(store)) {
    return emulatedCompareAndSet(engine, view, key, expected, payload, ttlMs);
  }
  await engine.send('set', () => store.set(full, payload, ttlMs));
  return true;
}

/** Raw values compared by their JSON encoding (bytes and strings as bytes). */
function sameValue(a: unknown, b: unknown, key: string): boolean {
  if (a === b) return true;
  const textual = (v: unknown) => typeof v === 'string' || v instanceof Uint8Array;
  if (textual(a) && textual(b)) return sameBytes(a as Payload, b as Payload);
  try {
    return jsonCodec.encode(a, key) === jsonCodec.encode(b, key);
  } catch {
    return false;
  }
}
