import type { Payload, TtlMs } from '../contract/store';
import type { Codec } from './codec';
import { GRACE, type GracedEntry, isFresh, isGraced, isLivePayload, softStale } from './entry';
import { bodyOf, type Checked, Judged, metaOf, storedOf, withHeader } from './entry-format';

/**
 * The stored entries of a codec other than the JSON codec (msgpack, a custom one): larder's
 * metadata header (`entry-format.ts`: write time, expiry, and a graced entry's logical expiry as
 * its third field), the tag section of a tagged entry, then the codec's payload of the value
 * alone: the codec never sees larder's graced wrapper, and entries carry tags, bound their L1
 * copies and know their age as the JSON codec's do. An entry without the header is the codec's
 * payload of the whole stored entry, as earlier versions wrote every entry of these codecs and
 * as `compareAndSet` and a value too large for the header still write it: it reads as before.
 */

/** The entry stored for `entry` (`storedEntry`'s) written at `now`, kept `storeTtlMs` by the store. */
export function encodeValueEntry(codec: Codec, entry: unknown, key: string, storeTtlMs: TtlMs, now: number): Payload {
  if (!isGraced(entry)) return withHeader(codec.encode(entry, key), storeTtlMs, now, undefined);
  return withHeader(codec.encode(entry.v, key), storeTtlMs, now, entry[GRACE]);
}

/** The stored entry a read holds: a graced one wrapped again, nothing for a read judged `gone`, stale for one judged `soft`. */
export function decodeValueEntry(read: Checked, codec: Codec, key: string): unknown {
  if (read instanceof Judged && read.verdict === 'gone') return undefined;
  const payload = storedOf(read);
  const meta = metaOf(payload);
  let entry: unknown;
  if (meta === undefined) entry = codec.decode(payload, key);
  else {
    const value = codec.decode(bodyOf(payload), key);
    entry = meta.graceAt === undefined ? value : ({ [GRACE]: meta.graceAt, v: value } as GracedEntry);
  }
  return read instanceof Judged ? softStale(entry) : entry;
}

/** For `has`: whether a read finds a value (see `isLivePayload`); a graced entry is judged by its header, undecoded. */
export function isLiveValueEntry(payload: Payload, codec: Codec, key: string): boolean {
  const graceAt = metaOf(payload)?.graceAt;
  if (graceAt !== undefined) return isFresh({ [GRACE]: graceAt, v: undefined });
  return isLivePayload(bodyOf(payload), codec, key);
}

/**
 * What `compareAndSet` compares with the payload it would write without the header: the body; a
 * graced entry keeps its header, so it never equals a plain value (its codec payload is the value
 * alone, which the JSON codec's graced entries never are either).
 */
export function valueEntryBody(payload: Payload): Payload {
  return metaOf(payload)?.graceAt === undefined ? bodyOf(payload) : payload;
}
