import { GRACE, type GraceEnvelope, isEnvelope, type Shared } from './cache-state';
import type { CacheStore, Payload, TtlMs } from './contract';
import { type LarderError, SerializationError } from './errors';
import { Lock } from './lock';
import { sleep, withTimeout } from './timeout';
import { parseTtl, type Ttl } from './ttl';

// The miss and refresh side of `Cache.remember` (the hit path stays inline in cache.ts).

/** Most graced values kept in process for `remember` to serve when the backend is down. */
const MAX_GRACE_COPIES = 1000;
const DEFAULT_LOCK_MS = 10_000;

/** What `remember` needs from its cache (bound to the cache's namespace). */
export interface RememberHost {
  readonly shared: Shared;
  /** Counts and emits an error; returns it (wrapped as a LarderError unless `wrap` is false). */
  report(operation: string, key: string | undefined, error: unknown, wrap?: boolean): LarderError;
  /** Encodes and size-checks a value (throws input errors). */
  encode(key: string, value: unknown): Payload;
  /** Counts and emits a write. */
  wrote(key: string): void;
}

function bound<T>(shared: Shared, promise: Promise<T>, operation: string): Promise<T> {
  return shared.timeoutMs === 0 ? promise : withTimeout(promise, shared.timeoutMs, operation, shared.driver);
}

/** One `remember` call on a miss: what to load, how to store it, and what stale value may stand in. */
export interface Plan<T> {
  store: CacheStore;
  full: string;
  key: string;
  ttlMs: TtlMs;
  graceMs: number;
  loader: () => T | Promise<T>;
  /** Cross-process lock: its TTL, how long to wait, and its key (in the reserved namespace). */
  lock: { ttlMs: number; waitMs: number; key: string } | undefined;
  stale: GraceEnvelope | undefined;
  backendDown?: boolean;
}

interface Read {
  fresh: boolean;
  value: unknown;
  stale?: GraceEnvelope;
}

const MISS: Read = { fresh: false, value: undefined };

/** Lock options of `remember` in ms (both default 10 s). */
export function parseLockOptions(lock: true | { ttl?: Ttl; wait?: Ttl }): { ttlMs: number; waitMs: number } {
  const options = lock === true ? {} : lock;
  return {
    ttlMs: options.ttl === undefined ? DEFAULT_LOCK_MS : parseTtl(options.ttl),
    waitMs: options.wait === undefined ? DEFAULT_LOCK_MS : parseTtl(options.wait),
  };
}

/** Remembers the latest graced value of `full` in process (bounded; the oldest entry goes first). */
export function keepGraceCopy(shared: Shared, full: string, envelope: GraceEnvelope, graceMs: number): void {
  const copies = shared.graceCopies;
  copies.delete(full);
  copies.set(full, { envelope, until: envelope[GRACE] + graceMs });
  if (copies.size > MAX_GRACE_COPIES) copies.delete(copies.keys().next().value as string);
}

/** Decodes for `remember`: a payload that no longer decodes is reported and counts as a miss (the loader's value overwrites it). */
export function decodeForRemember(host: RememberHost, payload: Payload, key: string): unknown {
  const s = host.shared;
  if (s.raw) return payload;
  try {
    return s.codec.decode(payload, key);
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
    host.report('remember', key, error);
    return undefined;
  }
}

/** Reads `full`: a fresh value, a stale grace envelope, or nothing. A payload that no longer decodes counts as a miss (it will be overwritten). */
async function readKey(host: RememberHost, store: CacheStore, full: string, key: string): Promise<Read> {
  const payload = await bound(host.shared, store.get(full), 'get');
  if (payload === undefined) return MISS;
  const value = decodeForRemember(host, payload, key);
  if (value === undefined) return MISS;
  if (!isEnvelope(value)) return { fresh: true, value };
  if (value[GRACE] > Date.now()) return { fresh: true, value: value.v };
  return { fresh: false, value: undefined, stale: value };
}

/** Runs inside the single-flight: re-reads (a flight that just ended may have stored the value), then loads, under the lock when asked. */
export async function fill<T>(host: RememberHost, plan: Plan<T>): Promise<T> {
  let read: Read;
  try {
    read = await readKey(host, plan.store, plan.full, plan.key);
  } catch (error) {
    return loadWithBackendDown(host, plan, error);
  }
  if (read.fresh) return read.value as T;
  if (read.stale) plan.stale ??= read.stale;
  return plan.lock ? fillLocked(host, plan, plan.lock) : load(host, plan);
}

/** The backend failed: report it and run the loader (remember falls back to it whatever the error policy). */
function loadWithBackendDown<T>(host: RememberHost, plan: Plan<T>, error: unknown): Promise<T> {
  host.report('remember', plan.key, error);
  plan.backendDown = true;
  return load(host, plan);
}

/** Cross-process: only the holder of the key's lock (`<prefix>__larder:remember:<key>`) loads; others poll for its value with back-off, then load themselves when the wait ends. */
async function fillLocked<T>(
  host: RememberHost,
  plan: Plan<T>,
  options: { ttlMs: number; waitMs: number; key: string },
): Promise<T> {
  const lock = new Lock(host.shared.locks, options.key, options.ttlMs);
  const deadline = Date.now() + options.waitMs;
  let backoff = 5;
  for (;;) {
    let acquired: boolean;
    try {
      acquired = await lock.acquire();
    } catch (error) {
      return loadWithBackendDown(host, plan, error);
    }
    if (acquired) {
      try {
        // The previous holder may have stored the value just before releasing.
        const read = await readKey(host, plan.store, plan.full, plan.key).catch(() => MISS);
        if (read.fresh) return read.value as T;
        return await load(host, plan);
      } finally {
        await lock.release().catch((error) => host.report('remember', plan.key, error));
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) return load(host, plan);
    await sleep(Math.min(left, backoff * (0.5 + Math.random() / 2)));
    backoff = Math.min(backoff * 2, 200);
    let read: Read;
    try {
      read = await readKey(host, plan.store, plan.full, plan.key);
    } catch (error) {
      return loadWithBackendDown(host, plan, error);
    }
    if (read.fresh) return read.value as T;
  }
}

/** Runs the loader and stores its result; serves the stale value when the loader fails. */
export async function load<T>(host: RememberHost, plan: Plan<T>): Promise<T> {
  let value: T;
  try {
    value = await plan.loader();
  } catch (error) {
    if (plan.stale === undefined) throw error;
    host.report('remember.loader', plan.key, error, false);
    return plan.stale.v as T;
  }
  if (value === undefined) return value;
  const { ttlMs, graceMs } = plan;
  const stored = graceMs > 0 ? { [GRACE]: Date.now() + (ttlMs as number), v: value } : value;
  const payload = host.encode(plan.key, stored);
  if (graceMs > 0) keepGraceCopy(host.shared, plan.full, stored as GraceEnvelope, graceMs);
  if (plan.backendDown) return value;
  try {
    await bound(
      host.shared,
      plan.store.set(plan.full, payload, graceMs > 0 ? (ttlMs as number) + graceMs : ttlMs),
      'set',
    );
    host.wrote(plan.key);
  } catch (error) {
    // The value is good; the cache is not. Serve it anyway.
    host.report('remember', plan.key, error);
  }
  return value;
}
