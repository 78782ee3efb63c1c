import { SerializationError, UnsupportedOperationError, ValueTooLargeError } from '../contract/errors';
import type { Payload, TtlMs } from '../contract/store';
import { type Codec, jsonCodec, payloadBytes } from './codec';
import { isGraced, isLivePayload, softStale, storedEntry } from './entry';
import {
  bodyOf,
  type Checked,
  decodeEntry,
  type EntryMeta,
  headerEnd,
  Judged,
  metaOf,
  withMeta,
  withSection,
} from './entry-format';
import { refusalError } from './json-walk';
import { envelope } from './tagged-envelope';
import { decodeValueEntry, encodeValueEntry, isLiveValueEntry, valueEntryBody } from './value-entry';
import { rawValueSize } from './value-policy';

/** What the entry codec needs to know of the store (the engine's binding, once known). */
export interface ValueLimits {
  readonly driver: string;
  /** The store keeps values as given: no codec. */
  readonly raw: boolean;
  /** The raw-value store checks and sizes values itself. */
  readonly storeChecksValues: boolean;
  readonly maxValueBytes: number;
}

/**
 * How a cache turns values into stored payloads and back: the codec, the entry model
 * (`entry.ts`) and the stored format (`entry-format.ts`; for codecs other than JSON,
 * `value-entry.ts`), under the store's value limits. Every codec's entries carry the metadata
 * header and tags. One per engine; `limits` answers the binding once the store is known
 * (`undefined` before).
 */
export class EntryCodec {
  readonly #codec: Codec;
  readonly #json: boolean;
  readonly #limits: () => ValueLimits | undefined;
  readonly #driver: () => string;

  constructor(codec: Codec, limits: () => ValueLimits | undefined, driver: () => string) {
    this.#codec = codec;
    this.#json = codec === jsonCodec;
    this.#limits = limits;
    this.#driver = driver;
  }

  /**
   * Encodes a value (or checks a raw one) as its stored entry (see `storedEntry`), with the entry's
   * metadata header (written now, kept `storeTtlMs`: see `entry-format.ts`) unless `stamp` is
   * false, and checks its size; throws input errors.
   */
  encode(key: string, value: unknown, storeTtlMs: TtlMs, stamp = true): Payload {
    const limits = this.#limits();
    const max = limits?.maxValueBytes ?? Number.POSITIVE_INFINITY;
    const entry = storedEntry(value);
    if (limits?.raw) {
      if (limits.storeChecksValues) return entry as Payload;
      const size = rawValueSize(entry, key, max);
      if (size > max) throw new ValueTooLargeError(key, size, max, limits.driver);
      return entry as Payload;
    }
    const json = this.#json;
    const other = !json && stamp;
    const encoded = other ? undefined : this.#codec.encode(entry, key);
    const payload = other
      ? encodeValueEntry(this.#codec, entry, key, storeTtlMs, Date.now())
      : stamp
        ? withMeta(encoded as Payload, storeTtlMs, Date.now())
        : (encoded as Payload);
    // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no byte count.
    if (payload.length * 3 > max || typeof payload !== 'string') {
      const size = payloadBytes(payload);
      if (size <= max) return payload;
      // The limit is the value's: a value that fits is stored without its metadata header (another
      // codec's then as earlier versions wrote it: the whole stored entry, a graced one included).
      const whole = encoded ?? (isGraced(entry) ? this.#codec.encode(entry, key) : bodyOf(payload));
      const bare = payloadBytes(whole);
      if (bare > max) throw new ValueTooLargeError(key, bare, max, this.#driver());
      return whole;
    }
    return payload;
  }

  /**
   * `payload` (from `encode`) with a tag section (`tags/tag-policy.ts` `sectionOf`) after its
   * header; a tagged entry is nothing without it, so one too large to carry it fails. On a
   * rawValues store the entry is kept as given in an envelope beside its header and tag section
   * (`tagged-envelope.ts`).
   */
  tagged(key: string, payload: Payload, section: string): Payload {
    const raw = this.#limits()?.raw === true;
    // With the JSON codec only a top-level Buffer/Uint8Array encodes to bytes: its payload has no
    // header to carry the tag section (other codecs' bytes carry one).
    if (raw ? payload instanceof Uint8Array : this.#json && typeof payload !== 'string') {
      throw new UnsupportedOperationError(
        'tags',
        this.#driver(),
        'a binary value (Buffer, Uint8Array) cannot be tagged',
      );
    }
    if (raw) {
      // `encode` checked a raw value as it checks an untagged one (a checking store's copy does the
      // rest), but an envelope's entry may be `undefined` where a value may not.
      if (payload === undefined) throw refusalError(payload, key, () => new SerializationError('', key));
      return envelope(withSection(withMeta('', undefined, Date.now()), section, true) as string, payload);
    }
    const max = this.#limits()?.maxValueBytes ?? Number.POSITIVE_INFINITY;
    // A JSON text payload that starts with the header's mark has `encode`'s header (see `taggedParts`).
    const out = withSection(payload, section, this.#json && typeof payload === 'string');
    if (out === undefined) throw new ValueTooLargeError(key, payloadBytes(payload), max, this.#driver());
    if (out.length * 3 > max || typeof out !== 'string') {
      const size = payloadBytes(out);
      if (size > max) throw new ValueTooLargeError(key, size, max, this.#driver());
    }
    return out;
  }

  /**
   * `payload` (from `encode`) split where `tagged` puts a tag section of at most `sectionBytes`,
   * for a store that adds the section itself (`setTagged`); `undefined` when `tagged` must decide
   * (a rawValues store, bytes, no header, or maybe too large with the section).
   */
  taggedParts(payload: Payload, sectionBytes: number): { head: string; tail: string } | undefined {
    const limits = this.#limits();
    if (limits?.raw || typeof payload !== 'string') return undefined;
    if ((payload.length + sectionBytes) * 3 > (limits?.maxValueBytes ?? Number.POSITIVE_INFINITY)) return undefined;
    // JSON text never starts with the header's mark: a JSON payload that does has `encode`'s header,
    // so finding its end is enough (another codec's output is parsed to be sure).
    const end = headerEnd(payload);
    if (end < 0 || (!this.#json && metaOf(payload) === undefined)) return undefined;
    return { head: payload.slice(0, end + 1), tail: payload.slice(end + 1) };
  }

  /** The owner token of a lock as the store keeps it (encoded like a value, so every driver stores it). */
  encodeOwner(owner: string, key: string): Payload {
    return this.#limits()?.raw ? owner : this.#codec.encode(owner, key);
  }

  /** Decodes a read (a payload, or a `Judged` one) into its stored entry (a graced entry stays wrapped; see `entry.ts`). */
  readonly decode = (read: Checked, key: string): unknown => {
    // A rawValues store's reads come opened (`binding.ts` `open`): never `Judged`.
    if (this.#limits()?.raw) return read;
    // A tagged entry a read judged invalidated: soft, it is stale (see `softStale`); gone, nothing.
    if (this.#json) return decodeEntry(read, this.#codec, key, softStale);
    return decodeValueEntry(read, this.#codec, key);
  };

  /** For `has`: whether a read of this payload would find a value (see `isLivePayload`); a `Judged` read never does. */
  readonly isLive = (read: Checked, key: string): boolean =>
    read instanceof Judged
      ? false
      : this.#limits()?.raw
        ? isLivePayload(read, undefined, key)
        : this.#json
          ? isLivePayload(bodyOf(read), this.#codec, key)
          : isLiveValueEntry(read, this.#codec, key);

  /** A payload without its metadata header: what `encode(key, value, ttl, false)` gives for the value it holds. */
  body(payload: Payload): Payload {
    return this.#limits()?.raw ? payload : this.#json ? bodyOf(payload) : valueEntryBody(payload);
  }

  /** The metadata header of a payload read from the store, else `undefined` (a rawValues store's values have none). */
  readonly meta = (payload: Payload): EntryMeta | undefined => (this.#limits()?.raw ? undefined : metaOf(payload));
}
