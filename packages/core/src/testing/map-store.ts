import { BackendError } from '../contract/errors';
import type { CacheStore, Payload, TtlMs } from '../contract/store';

/** The in-process fast path of the map store (see `SyncStoreMethods`). */
export interface SyncMethods {
  getSync(key: string): Payload | undefined;
  setSync(key: string, payload: Payload, ttlMs: TtlMs): void;
  /** When the live entry of `key` was written (epoch ms): raw values carry no metadata, so `rememberWithStatus` asks. */
  writtenAt(key: string): number | undefined;
}

interface Entry {
  payload: Payload;
  expiresAt: number | undefined;
  writtenAt: number;
}

const utf8 = new TextDecoder();
const text = (payload: Payload) => (typeof payload === 'string' ? payload : utf8.decode(payload));
// Raw-value stores (`rawValues`) hand over user values as they are: keep those as given.
// `new Uint8Array(bytes)` and `Buffer.from(buffer)` copy (`Buffer#slice` would not), each keeping the class.
const copy = (payload: Payload): Payload =>
  payload instanceof Uint8Array ? (Buffer.isBuffer(payload) ? Buffer.from(payload) : new Uint8Array(payload)) : payload;

/**
 * A complete in-memory `CacheStore` over a `Map`, with millisecond TTLs (the chaos store's
 * default backend). With `raw`, values are kept as given and counters are numbers.
 */
export function createMapStore(driver: string, raw: boolean): CacheStore & SyncMethods {
  const map = new Map<string, Entry>();
  const live = (key: string): Entry | undefined => {
    const entry = map.get(key);
    if (entry && entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  };
  const expiry = (ttlMs: TtlMs) => (ttlMs === undefined ? undefined : Date.now() + ttlMs);
  const fresh = (payload: Payload, ttlMs: TtlMs): Entry => ({
    payload: copy(payload),
    expiresAt: expiry(ttlMs),
    writtenAt: Date.now(),
  });
  return {
    driver,
    capabilities: {
      atomicAdd: true,
      ttlPrecisionMs: 1,
      maxKeyBytes: 250,
      maxValueBytes: 1024 * 1024,
      inProcess: false,
    },
    getSync(key) {
      const entry = live(key);
      return entry && copy(entry.payload);
    },
    setSync(key, payload, ttlMs) {
      map.set(key, fresh(payload, ttlMs));
    },
    writtenAt(key) {
      return live(key)?.writtenAt;
    },
    async get(key) {
      const entry = live(key);
      return entry && copy(entry.payload);
    },
    async set(key, payload, ttlMs) {
      map.set(key, fresh(payload, ttlMs));
    },
    async delete(key) {
      return live(key) !== undefined && map.delete(key);
    },
    async getMany(keys) {
      return keys.map((key) => {
        const entry = live(key);
        return entry && copy(entry.payload);
      });
    },
    async setMany(entries, ttlMs) {
      for (const [key, payload] of entries) map.set(key, fresh(payload, ttlMs));
    },
    async deleteMany(keys) {
      let count = 0;
      for (const key of keys) if (live(key) !== undefined && map.delete(key)) count++;
      return count;
    },
    async add(key, payload, ttlMs) {
      if (live(key) !== undefined) return false;
      map.set(key, fresh(payload, ttlMs));
      return true;
    },
    async increment(key, delta, ttlMs) {
      const entry = live(key);
      const stored: unknown = entry ? entry.payload : 0;
      const current =
        typeof stored === 'number'
          ? stored
          : !raw && (typeof stored === 'string' || stored instanceof Uint8Array) // raw: a string is the user's string
            ? text(stored)
            : undefined;
      if (current === undefined || !Number.isSafeInteger(Number(current)) || !/^-?\d+$/.test(String(current))) {
        throw new BackendError(`${driver} increment: the value of '${key}' is not an integer`, driver);
      }
      const next = Number(current) + delta;
      const payload = (raw ? next : String(next)) as Payload;
      map.set(key, { payload, expiresAt: entry ? entry.expiresAt : expiry(ttlMs), writtenAt: Date.now() });
      return next;
    },
    async pull(key) {
      const entry = live(key);
      if (entry) map.delete(key);
      return entry?.payload;
    },
    async touch(key, ttlMs) {
      const entry = live(key);
      if (!entry) return false;
      entry.expiresAt = expiry(ttlMs);
      return true;
    },
    async compareAndDelete(key, expected) {
      const entry = live(key);
      if (!entry || text(entry.payload) !== text(expected)) return false;
      return map.delete(key);
    },
    async *keys(prefix) {
      for (const key of [...map.keys()]) if (key.startsWith(prefix) && live(key)) yield key;
    },
    async clear(prefix) {
      for (const key of [...map.keys()]) if (key.startsWith(prefix)) map.delete(key);
    },
    async close() {
      map.clear();
    },
  };
}
