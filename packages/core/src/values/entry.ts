import type { Payload, TtlMs } from '../contract/store';
import { RecentMap } from '../util/recent-map';
import { type Codec, jsonCodec } from './codec';
import { ENTRY_FORMAT } from './entry-format';

/**
 * The entry model: what a cached value looks like in the store and when a read may return it.
 *
 * A plain entry is the value itself: fresh until the store drops it. A `remember` value with
 * `grace` is stored as a graced entry `{ '\u0000grace': logical expiry (epoch ms), v: value }`
 * that the store keeps for ttl + grace: fresh until its logical expiry (every read returns it),
 * then stale until the store drops it (only `remember` serves it, while it refreshes). The field
 * name is part of the stored format: entries written by earlier versions must still read.
 */
export const GRACE = ENTRY_FORMAT.GRACE_FIELD;

/** A value stored by `remember` with `grace`: the logical expiry travels with the value. */
export interface GracedEntry {
  /** Logical expiry, epoch ms. */
  '\u0000grace': number;
  /** The value. */
  v: unknown;
}

/**
 * The logical expiry of a tagged entry a read found soft-invalidated: stale (`remember` with
 * `grace` serves it while it refreshes; every other read is a miss). Never stored.
 */
export const SOFT_STALE = -1;

/** The entry a soft-invalidated read returns for a decoded entry: stale, whatever its own expiry. */
export function softStale(decoded: unknown): GracedEntry {
  return { [GRACE]: SOFT_STALE, v: isGraced(decoded) ? decoded.v : decoded };
}

/** True for an entry a read found soft-invalidated (see `SOFT_STALE`). */
export function isSoftStale(entry: GracedEntry): boolean {
  return entry[GRACE] === SOFT_STALE;
}

/** True for a graced entry (a decoded value as stored by `remember` with `grace`). */
export function isGraced(value: unknown): value is GracedEntry {
  return typeof value === 'object' && value !== null && GRACE in value;
}

/** True while a graced entry is before its logical expiry. */
export function isFresh(entry: GracedEntry): boolean {
  return entry[GRACE] > Date.now();
}

/** What a read returns for a decoded entry: a plain value as is, a graced one's value while fresh, else `undefined`. */
export function freshValue(value: unknown): unknown {
  if (!isGraced(value)) return value;
  return isFresh(value) ? value.v : undefined;
}

// Graced entries made by `gracedEntry`: any other value with the `GRACE` field is user data.
const madeHere = new WeakSet<object>();
// The logical expiry of a wrapped user value: never reached, so the wrapper is always fresh.
const NEVER_STALE = Number.MAX_SAFE_INTEGER;

/** The graced entry of `value` for `ttlMs` (a graced entry always has a TTL). */
export function gracedEntry(value: unknown, ttlMs: number): GracedEntry {
  const entry = { [GRACE]: Date.now() + ttlMs, v: value };
  madeHere.add(entry);
  return entry;
}

/**
 * The entry stored for `value`: the value itself, except a user value shaped like a graced entry
 * (an object with the `GRACE` field), which is stored inside a graced entry that never goes stale.
 * Reads unwrap it, so user data can never pass for a graced entry (be served as a miss or as stale).
 */
export function storedEntry(value: unknown): unknown {
  return isGraced(value) && !madeHere.has(value) ? { [GRACE]: NEVER_STALE, v: value } : value;
}

/** How long the store keeps an entry: its TTL, plus the grace when there is one. */
export function storeTtl(ttlMs: TtlMs, graceMs: number): TtlMs {
  return graceMs > 0 ? (ttlMs as number) + graceMs : ttlMs;
}

/** How a graced entry's JSON text starts with `jsonCodec` (`{"\u0000grace":`...). */
const GRACED_JSON_START = `{${JSON.stringify(GRACE)}`;
const OPEN_BRACE = 0x7b;

/**
 * For `has`: true unless the payload is a graced entry past its logical expiry (a miss for
 * `get`). `codec` is `undefined` for raw-value stores. Plain values are not decoded: with
 * `jsonCodec` a string payload is recognised by its first characters; bytes starting with '{'
 * and other codecs' payloads are decoded. A payload that does not decode is present (`get`
 * reports the decoding error).
 */
export function isLivePayload(payload: Payload, codec: Codec | undefined, key: string): boolean {
  let value: unknown = payload;
  if (codec !== undefined) {
    if (codec === jsonCodec) {
      if (typeof payload === 'string' ? !payload.startsWith(GRACED_JSON_START) : payload[0] !== OPEN_BRACE) {
        return true;
      }
    }
    try {
      value = codec.decode(payload, key);
    } catch {
      return true;
    }
  }
  return !isGraced(value) || isFresh(value);
}

/** Most graced entries kept in process for `remember` to serve when the backend is down. */
const MAX_GRACE_COPIES = 1000;

/**
 * The last graced entry this process saw per full key (the 1,000 kept last at least, `RecentMap`), so that
 * `remember` can serve it within its grace when the backend read fails.
 */
export class GraceCopies {
  readonly #copies = new RecentMap<string, { entry: GracedEntry; until: number }>(MAX_GRACE_COPIES);

  /** Keeps `entry` for `full` until the end of its grace. */
  keep(full: string, entry: GracedEntry, graceMs: number): void {
    this.#copies.set(full, { entry, until: entry[GRACE] + graceMs });
  }

  /** The kept entry of `full` while within its grace, else `undefined`. */
  within(full: string): GracedEntry | undefined {
    const copy = this.#copies.get(full);
    return copy !== undefined && copy.until > Date.now() ? copy.entry : undefined;
  }
}
