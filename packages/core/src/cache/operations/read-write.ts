import type { Payload, TtlMs } from '../../contract/store';
import { operationChannel } from '../../util/tracing';
import { freshValue } from '../../values/entry';
import type { Checked } from '../../values/entry-format';
import type { Ttl } from '../../values/ttl';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import { NOT_NOW } from '../read-now';
import type { View } from '../view';
import { type EntryWrite, entryOf, STORED, write as writeEntries } from '../write-path';

// `Cache.get`, `set` and `forever`: the paths every app takes most. In-process stores with a
// synchronous fast path answer without an await (one settled promise); an L1 hit answers without
// a store call; everything else is one read or write through the engine.

// One settled promise for every synchronous write: a resolved promise cannot change, so sharing it is safe.
const RESOLVED: Promise<void> = Promise.resolve();

/** `Cache.get`: the in-process synchronous path when the store has one; an L1 hit answers without a store call. */
export function get(engine: Engine, view: View, key: string): Promise<unknown> {
  const binding = engine.binding;
  const getSync = binding?.getSync;
  if (getSync === undefined) {
    if (binding === undefined || !binding.tiered) return getAsync(engine, view, binding, key);
    try {
      const value = fromL1(engine, view, binding, engine.full(view, key), key);
      return value === undefined ? getAsync(engine, view, binding, key) : Promise.resolve(value);
    } catch (error) {
      return engine.syncFailed(view, 'get', key, error, undefined);
    }
  }
  try {
    return Promise.resolve(found(engine, view, getSync(engine.full(view, key)), key));
  } catch (error) {
    return engine.syncFailed(view, 'get', key, error, undefined);
  }
}

/** `Cache.get` within this call (see read-now.ts): the in-process synchronous read, else `NOT_NOW`. */
export function getNow(engine: Engine, view: View, key: string, shared = false): unknown {
  const binding = engine.binding;
  const getSync = shared ? binding?.getShared : binding?.getSync;
  if (getSync === undefined || operationChannel.hasSubscribers) return NOT_NOW;
  try {
    return found(engine, view, getSync(engine.full(view, key)), key);
  } catch {
    // `get` reads it again and reports the failure as its error policy says.
    return NOT_NOW;
  }
}

async function getAsync(engine: Engine, view: View, known: Binding | undefined, key: string): Promise<unknown> {
  const { reads } = known ?? (await engine.ready());
  const fetched = await reads.read(engine.full(view, key), key);
  if (fetched.failed) return engine.failed(view, 'get', key, fetched.error, undefined);
  const value = freshValue(fetched.entry);
  engine.events.counted(view, key, value !== undefined);
  return value;
}

/** A fresh value of `full` from the L1, counted as an `l1` hit; else `undefined`, nothing counted. */
export function fromL1(engine: Engine, view: View, binding: Binding, full: string, key: string): unknown {
  const value = binding.reads.cachedValue(full, key);
  if (value === undefined) return undefined;
  engine.events.counted(view, key, true, 'l1');
  return value;
}

/** What a read of `payload` (tags checked) returns (decoded, grace unwrapped; `undefined` for a miss), counted as a hit or a miss. */
export function found(engine: Engine, view: View, payload: Checked | undefined, key: string): unknown {
  const value = payload === undefined ? undefined : freshValue(engine.values.decode(payload, key));
  engine.events.counted(view, key, value !== undefined);
  return value;
}

/** `Cache.set` (`ttl`, else the default TTL) and `forever` (no expiry); synchronous for in-process stores that can. */
export function write(
  engine: Engine,
  view: View,
  key: string,
  value: unknown,
  ttl: Ttl | undefined,
  operation: 'set' | 'forever',
): Promise<void> {
  const binding = engine.binding;
  const setSync = view.tags === undefined ? binding?.setSync : undefined;
  if (setSync === undefined) return writeAsync(engine, view, binding, key, value, ttl, operation);
  let full: string;
  let ttlMs: TtlMs;
  let payload: Payload;
  try {
    full = engine.full(view, key);
    ttlMs = operation === 'forever' ? undefined : engine.ttlMs(ttl);
    payload = engine.values.encode(key, value, ttlMs);
  } catch (error) {
    return Promise.reject(error);
  }
  try {
    setSync(full, payload, ttlMs);
  } catch (error) {
    return engine.syncFailed(view, operation, key, error, undefined);
  }
  engine.events.wrote(view, key);
  return RESOLVED;
}

function writeAsync(
  engine: Engine,
  view: View,
  known: Binding | undefined,
  key: string,
  value: unknown,
  ttl: Ttl | undefined,
  operation: 'set' | 'forever',
): Promise<void> {
  if (known === undefined)
    return engine.ready().then((binding) => writeThrough(engine, view, binding, key, value, ttl, operation));
  return writeThrough(engine, view, known, key, value, ttl, operation);
}

/** `writeAsync` once the store is bound: a promise chain, not an async function (one frame less per write). */
function writeThrough(
  engine: Engine,
  view: View,
  binding: Binding,
  key: string,
  value: unknown,
  ttl: Ttl | undefined,
  operation: 'set' | 'forever',
): Promise<void> {
  let storeTtlMs: TtlMs;
  let entry: EntryWrite;
  try {
    storeTtlMs = operation === 'forever' ? undefined : engine.ttlMs(ttl);
    entry = entryOf(engine, view, key, value, storeTtlMs);
  } catch (error) {
    return Promise.reject(error);
  }
  return writeEntries(engine, view, binding, {
    operation: 'set',
    entries: [entry],
    storeTtlMs,
    tags: view.tags,
    plain: true,
    send: (store, [sent]) =>
      store.set((sent as EntryWrite).full, (sent as EntryWrite).payload, storeTtlMs).then(STORED),
    failed: (error) => engine.failed(view, operation, key, error, undefined),
  }).then(NOTHING);
}

const NOTHING = (): void => undefined;
