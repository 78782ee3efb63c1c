import { describe, InvalidArgumentError, UnsupportedOperationError } from '../../contract/errors';
import type { Payload, TtlMs } from '../../contract/store';
import { bodyOf, Judged, storedOf, withExpiry } from '../../values/entry-format';
import type { Ttl } from '../../values/ttl';
import type { Binding } from '../binding';
import { type Engine, FAILED } from '../engine';
import type { View } from '../view';
import { type EntryWrite, entryOf, write } from '../write-path';
import { storeIfUnchanged } from './compare-and-set';
import { addsAtomically, offers } from './offers';
import { entryValue, taggedSwap } from './raw-tagged';
import { found, get } from './read-write';

// The single-key operations of `Cache` besides `get`/`set` (read-write.ts): each is one store
// call through `Engine.call` (timeout and failure policy) and its events.

/** `Cache.add`: stores only if absent (atomic on the backend); never emulated. */
export async function addKey(
  engine: Engine,
  view: View,
  key: string,
  value: unknown,
  ttl: Ttl | undefined,
): Promise<boolean> {
  const binding = engine.binding ?? (await engine.ready());
  const ttlMs = engine.ttlMs(ttl);
  const entry = entryOf(engine, view, key, value, ttlMs);
  const store = binding.store;
  if (!addsAtomically(store))
    throw new UnsupportedOperationError('add', engine.driver, 'it has no atomic set-if-absent');
  return write(engine, view, binding, {
    operation: 'add',
    entries: [entry],
    storeTtlMs: ttlMs,
    tags: view.tags,
    send: async () => {
      if (await store.add(entry.full, entry.payload, ttlMs)) return true;
      // The key may hold a tagged entry whose tag was hard-invalidated: absent, so it is replaced.
      return binding.tags.inUse && addOverGone(engine, view, binding, entry, ttlMs);
    },
    failed: (error) => engine.failed(view, 'add', key, error, false),
  });
}

/** `add` over a key that may hold an invalidated tagged entry: stored in its place when it does (only if it still holds it). */
async function addOverGone(engine: Engine, view: View, binding: Binding, entry: EntryWrite, ttlMs: TtlMs) {
  const { key, full, payload } = entry;
  const swapped = taggedSwap(binding, full, (held) => (held === undefined ? payload : undefined), ttlMs);
  // Another rawValues store: its reads give values (a tagged entry opened), never a verdict.
  if (swapped !== undefined || binding.raw) return swapped === true;
  const current = await binding.readChecked(full);
  if (!(current instanceof Judged) || current.verdict !== 'gone') return false;
  return storeIfUnchanged(engine, view, binding, key, current.payload, payload, ttlMs);
}

/** `Cache.has`: a live L1 entry answers (no store call), else one store `get`; no hit or miss counted; a graced entry past its logical expiry is absent. */
export async function hasKey(engine: Engine, view: View, key: string): Promise<boolean> {
  const { reads, readChecked } = engine.binding ?? (await engine.ready());
  const full = engine.full(view, key);
  // The L1 holds what the store holds (it is coherent, or within its documented `none` bound).
  const held = reads.holds(full, key, engine.values.isLive);
  if (held !== undefined) return held;
  const payload = await engine.call(view, 'has', key, () => readChecked(full));
  return payload !== FAILED && payload !== undefined && engine.values.isLive(payload, key);
}

/** `Cache.delete`: true if the key existed. */
export async function deleteKey(engine: Engine, view: View, key: string): Promise<boolean> {
  const { reads } = engine.binding ?? (await engine.ready());
  const full = engine.full(view, key);
  const deleted = await engine.call(view, 'delete', key, (store) => store.delete(full));
  reads.changed(full);
  if (deleted === FAILED) return false;
  engine.events.deleted(view, key, deleted, deleted ? 1 : 0);
  return deleted;
}

/** `Cache.pull`: returns and deletes; atomic when the driver has `pull`, else get then delete. */
export async function pullKey(engine: Engine, view: View, key: string): Promise<unknown> {
  const { store, reads, checked } = engine.binding ?? (await engine.ready());
  const full = engine.full(view, key);
  if (!offers(store, 'pull')) {
    const value = await get(engine, view, key);
    if (value !== undefined) await deleteKey(engine, view, key);
    return value;
  }
  // A tagged entry's tags are checked once it is taken: an invalidated one is gone either way.
  const payload = await engine.call(view, 'pull', key, async () => (await checked([await store.pull(full)]))[0]);
  reads.changed(full);
  if (payload === FAILED) return undefined;
  const value = found(engine, view, payload, key);
  if (payload !== undefined) engine.events.deleted(view, key, true, 1);
  return value;
}

/** The error for a counter step `by` that is not a safe integer, else `undefined`. */
function unsafeStep(operation: 'increment' | 'decrement', by: number): InvalidArgumentError | undefined {
  if (Number.isSafeInteger(by)) return undefined;
  return new InvalidArgumentError(`${operation} needs a safe integer step, got ${describe(by)}`, 'by');
}

/** `Cache.decrement`: `incrementKey` by `0 - by` (a safe integer, checked first). */
export function decrementKey(
  engine: Engine,
  view: View,
  key: string,
  by: number,
  ttl: Ttl | undefined,
): Promise<number> {
  const refused = unsafeStep('decrement', by);
  if (refused !== undefined) return Promise.reject(refused);
  // 0 - by, not -by: decrement(key, 0) must not start a counter at -0 (Object.is(-0, 0) is false).
  return incrementKey(engine, view, key, 0 - by, ttl);
}

/** `Cache.increment`: atomic on the backend; rejects on backend errors whatever the error policy (no honest counter to invent). */
export async function incrementKey(
  engine: Engine,
  view: View,
  key: string,
  by: number,
  ttl: Ttl | undefined,
): Promise<number> {
  const binding = engine.binding ?? (await engine.ready());
  const { store, reads } = binding;
  const full = engine.full(view, key);
  const refused = unsafeStep('increment', by);
  if (refused !== undefined) throw refused;
  const ttlMs = engine.ttlMs(ttl);
  if (!offers(store, 'increment')) throw new UnsupportedOperationError('increment', engine.driver);
  let value: number;
  try {
    value = await engine.send('increment', () => store.increment(full, by, ttlMs));
  } catch (error) {
    try {
      // A number `set` wrote carries its metadata header: made a plain counter once, then counted.
      if (!(await plainCounter(engine, view, binding, key, ttlMs))) throw error;
      value = await engine.send('increment', () => store.increment(full, by, ttlMs));
    } catch (failed) {
      reads.changed(full);
      throw engine.report(view, 'increment', key, failed);
    }
  }
  reads.changed(full);
  engine.events.wrote(view, key);
  return value;
}

/** `Cache.touch`: a new expiry without rewriting the value; never emulated. */
export async function touchKey(engine: Engine, view: View, key: string, ttl: Ttl | undefined): Promise<boolean> {
  const binding = engine.binding ?? (await engine.ready());
  const { store, reads } = binding;
  const full = engine.full(view, key);
  const ttlMs = engine.ttlMs(ttl);
  if (!offers(store, 'touch')) throw new UnsupportedOperationError('touch', engine.driver);
  const touched = await engine.call(view, 'touch', key, () => touchEntry(binding, full, ttlMs));
  // A new expiry may be sooner than the L1 entry's.
  reads.changed(full);
  return touched === FAILED ? false : touched;
}

/** How often `touchEntry` rewrites a header against concurrent writes before it touches in place. */
const TOUCH_TRIES = 3;

/**
 * A new expiry for `full`. An entry whose metadata header names its expiry (see `entry-format.ts`)
 * gets the header rewritten with it, only if nobody wrote the entry since it was read: the L1
 * bounds its copies by that header, and `plainCounter` keeps its expiry, so a stale header would
 * bring back the old expiry. Costs a read and a compare-and-set; an entry without a header (a
 * counter, raw bytes) or a store without `compareAndSet` is touched in place, in one call.
 */
async function touchEntry(binding: Binding, full: string, ttlMs: TtlMs): Promise<boolean> {
  const { store } = binding;
  const touch = store.touch as NonNullable<typeof store.touch>;
  const compareAndSet = store.compareAndSet;
  if (binding.raw || compareAndSet === undefined) return touch.call(store, full, ttlMs);
  for (let tries = 0; tries < TOUCH_TRIES; tries++) {
    const current = await store.get(full);
    if (current === undefined) return false;
    const rewritten = withExpiry(current, ttlMs, Date.now());
    if (rewritten === undefined) return touch.call(store, full, ttlMs);
    if (await compareAndSet.call(store, full, current, rewritten, ttlMs)) return true;
  }
  // Written to all the while (or read from a lagging replica): the expiry at least.
  return touch.call(store, full, ttlMs);
}

const INTEGER = /^-?\d+$/;

/**
 * Before `increment` retries on a number `set` wrote with its metadata header (see
 * `entry-format.ts`): the backends' counters (`INCRBY`, memcached `incr`, DynamoDB `ADD`) need plain
 * decimal text, so the entry is rewritten as its bare number, keeping its expiry, only if it still
 * holds what was read. True when it was rewritten (the increment is worth retrying).
 */
export async function plainCounter(
  engine: Engine,
  view: View,
  binding: Binding,
  key: string,
  ttlMs: TtlMs,
): Promise<boolean> {
  const full = engine.full(view, key);
  // A rawValues store keeps counters as numbers: a tagged one is rewritten as its bare number (a gone one as 0).
  const swapped = taggedSwap(
    binding,
    full,
    (entry) => {
      const value = entry === undefined ? 0 : entryValue(entry);
      return Number.isSafeInteger(value) ? (value as unknown as Payload) : undefined;
    },
    ttlMs,
  );
  if (swapped !== undefined || binding.raw) return swapped === true;
  const checked = await engine.send('increment', () => binding.readChecked(full));
  if (checked === undefined) return false;
  const payload = storedOf(checked);
  // A tagged entry whose tag was hard-invalidated is absent: the counter starts again at 0.
  if (checked instanceof Judged && checked.verdict === 'gone')
    return storeIfUnchanged(engine, view, binding, key, payload, '0', ttlMs);
  const meta = engine.values.meta(payload);
  const body = bodyOf(payload);
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  if (meta === undefined || !INTEGER.test(text)) return false;
  const leftMs = meta.expiresAt === undefined ? undefined : Math.max(1, meta.expiresAt - Date.now());
  return storeIfUnchanged(engine, view, binding, key, payload, text as Payload, leftMs);
}
