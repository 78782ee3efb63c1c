import { describe, InvalidArgumentError, UnsupportedOperationError } from '../../contract/errors';
import { markTier } from '../../util/tracing';
import { freshValue } from '../../values/entry';
import type { Ttl } from '../../values/ttl';
import { FAILED, type OperationPath, offers } from './operation';

// The single-key operations of `Cache` besides `get`/`set` (those are on `OperationPath`):
// each is one store call through `OperationPath.settle` (timeout and failure policy) and its events.

/** `Cache.add`: stores only if absent (atomic on the backend); never emulated. */
export async function addKey(ops: OperationPath, key: string, value: unknown, ttl: Ttl | undefined): Promise<boolean> {
  const store = ops.context.store ?? (await ops.context.ready);
  const full = ops.full(key);
  const ttlMs = ops.ttlMs(ttl);
  const payload = ops.encode(key, value);
  if (!offers(store, 'add') || !store.capabilities.atomicAdd) {
    throw new UnsupportedOperationError('add', ops.context.driver, 'it has no atomic set-if-absent');
  }
  const added = await ops.settle('add', key, () => store.add(full, payload, ttlMs));
  ops.changed(full);
  if (added === FAILED) return false;
  if (added) ops.wrote(key);
  return added;
}

/** `Cache.has`: a live L1 entry answers (no store call), else one store `get`; no hit or miss counted; a graced entry past its logical expiry is absent. */
export async function hasKey(ops: OperationPath, key: string): Promise<boolean> {
  const store = ops.context.store ?? (await ops.context.ready);
  const full = ops.full(key);
  const entry = ops.context.l1?.get(full);
  if (entry !== undefined) {
    // The L1 holds what the store holds (it is coherent, or within its documented `none` bound).
    markTier('l1');
    // A payload is checked undecoded; a kept copy goes the way of `get` (a graced entry is recognised on its copy).
    if (entry.payload !== undefined) return ops.isLive(entry.payload, key);
    return freshValue(ops.decodeL1(entry, full, key)) !== undefined;
  }
  const payload = await ops.settle('has', key, () => store.get(full));
  return payload !== FAILED && payload !== undefined && ops.isLive(payload, key);
}

/** `Cache.delete`: true if the key existed. */
export async function deleteKey(ops: OperationPath, key: string): Promise<boolean> {
  const store = ops.context.store ?? (await ops.context.ready);
  const full = ops.full(key);
  const deleted = await ops.settle('delete', key, () => store.delete(full));
  ops.changed(full);
  if (deleted === FAILED) return false;
  ops.deleted(key, deleted, deleted ? 1 : 0);
  return deleted;
}

/** `Cache.pull`: returns and deletes; atomic when the driver has `pull`, else get then delete. */
export async function pullKey(ops: OperationPath, key: string): Promise<unknown> {
  const store = ops.context.store ?? (await ops.context.ready);
  const full = ops.full(key);
  if (!offers(store, 'pull')) {
    const value = await ops.get(key);
    if (value !== undefined) await deleteKey(ops, key);
    return value;
  }
  const payload = await ops.settle('pull', key, () => store.pull(full));
  ops.changed(full);
  if (payload === FAILED) return undefined;
  const value = ops.read(payload, key);
  if (payload !== undefined) ops.deleted(key, true, 1);
  return value;
}

/** `Cache.increment`: atomic on the backend; rejects on backend errors whatever the error policy (no honest counter to invent). */
export async function incrementKey(ops: OperationPath, key: string, by: number, ttl: Ttl | undefined): Promise<number> {
  const store = ops.context.store ?? (await ops.context.ready);
  const full = ops.full(key);
  if (!Number.isSafeInteger(by)) {
    throw new InvalidArgumentError(`increment needs a safe integer step, got ${describe(by)}`, 'by');
  }
  const ttlMs = ops.ttlMs(ttl);
  if (!store.increment) throw new UnsupportedOperationError('increment', ops.context.driver);
  let value: number;
  try {
    value = await ops.bound(store.increment(full, by, ttlMs), 'increment');
  } catch (error) {
    ops.changed(full);
    throw ops.report('increment', key, error);
  }
  ops.changed(full);
  ops.wrote(key);
  return value;
}

/** `Cache.touch`: a new expiry without rewriting the value; never emulated. */
export async function touchKey(ops: OperationPath, key: string, ttl: Ttl | undefined): Promise<boolean> {
  const store = ops.context.store ?? (await ops.context.ready);
  const full = ops.full(key);
  const ttlMs = ops.ttlMs(ttl);
  if (!offers(store, 'touch')) throw new UnsupportedOperationError('touch', ops.context.driver);
  const touched = await ops.settle('touch', key, () => store.touch(full, ttlMs));
  // A new expiry may be sooner than the L1 entry's.
  ops.changed(full);
  return touched === FAILED ? false : touched;
}
