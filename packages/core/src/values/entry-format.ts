import type { Payload, TtlMs } from '../contract/store';
import type { Codec } from './codec';
import { charIs, cut, find } from './string-calls';

/**
 * The stored entry format, owned here (docs/architecture.md "The stored entry"; core README
 * "Entry metadata" and "Tags"): every module of core and every driver (`@larder/core/driver`
 * exports `ENTRY_FORMAT`; the Redis scripts are built from it) takes the marks and the layout from
 * this file. With the JSON codec a stored entry is text:
 *
 *   `\u0001<written>,<expires>\u0001` the metadata header: epoch ms in base 36 (the writer's
 *   clock), the expiry empty for none; its closing mark at most `MAX_HEADER` characters in; with
 *   another codec (msgpack, a custom one) a graced entry's logical expiry is a third field
 *   (`\u0001<written>,<expires>,<grace>\u0001`) and the codec encodes the value alone (`value-entry.ts`);
 *   `\u0002<tag>\u0003<version>\u0004<tag>\u0003<version>\u0002` the tag section of a tagged entry
 *   (tags hold no control characters, so the marks are unambiguous), right after the header;
 *   then the JSON text of the stored entry (a graced entry is `{"\u0000grace":<expiry>,"v":...}`),
 *   or the other codec's payload (text, or bytes: the header and section are then their UTF-8 bytes).
 *
 * JSON text never starts with (nor contains) a raw U+0001, so a payload without the header (written
 * by an earlier version, a counter `increment` made, raw bytes) reads as before. A number written
 * by `set` carries the header too; the first `increment` of it rewrites it as plain decimal text
 * (the backends' counters need that; see `plainCounter` in key-operations.ts), and counters carry
 * no metadata. A read checking a tag section hands its verdict on beside the payload (`Judged`),
 * never inside it: what a read hands on is always the stored bytes.
 */
export const ENTRY_FORMAT = Object.freeze({
  /** Opens and closes the metadata header. */
  HEADER_MARK: '\u0001',
  /** Opens and closes the tag section. */
  TAGS_MARK: '\u0002',
  /** Between a tag and the version it recorded. */
  PAIR_MARK: '\u0003',
  /** Between two tag/version pairs. */
  NEXT_MARK: '\u0004',
  /** Separates the write time and the expiry inside the header. */
  HEADER_SEPARATOR: ',',
  /** Radix of the header's epoch ms. */
  HEADER_RADIX: 36,
  /** Greatest index (from 0) of the header's closing mark: a mark further away is not one. */
  MAX_HEADER: 32,
  /** The graced entry's logical-expiry field (see `entry.ts`). */
  GRACE_FIELD: '\u0000grace',
} as const);

/** Opens and closes the metadata header. */
export const META_MARK = ENTRY_FORMAT.HEADER_MARK;
const MARK_CODE = META_MARK.charCodeAt(0);
/** Opens and closes the tag section. */
export const TAGS_MARK = ENTRY_FORMAT.TAGS_MARK;
const TAGS_CODE = TAGS_MARK.charCodeAt(0);
const PAIR = ENTRY_FORMAT.PAIR_MARK;
const NEXT = ENTRY_FORMAT.NEXT_MARK;
const PAIR_CODE = PAIR.charCodeAt(0);
const NEXT_CODE = NEXT.charCodeAt(0);
const RADIX = ENTRY_FORMAT.HEADER_RADIX;
const SEPARATOR = ENTRY_FORMAT.HEADER_SEPARATOR;
// Headers are short: a closing mark further away is not one.
const MAX_HEADER = ENTRY_FORMAT.MAX_HEADER;

/** What an entry's header says. */
export interface EntryMeta {
  /** When the entry was written (the writer's clock), epoch ms. */
  readonly writtenAt: number;
  /** When the store drops it (the writer's clock), epoch ms; `undefined`: no expiry. */
  readonly expiresAt: number | undefined;
  /** A graced entry's logical expiry, epoch ms, when the header carries it (codecs other than JSON). */
  readonly graceAt?: number;
}

/** The payload stored for `payload` written at `now` with the store TTL `ttlMs`: with the header, except bytes. */
export function withMeta(payload: Payload, ttlMs: TtlMs, now: number): Payload {
  if (typeof payload !== 'string') return payload;
  return `${header(now, ttlMs === undefined ? undefined : now + ttlMs, undefined)}${payload}`;
}

/** `withMeta` for bytes too (their header as bytes), with a graced entry's logical expiry `graceAt`: what codecs other than JSON store. */
export function withHeader(payload: Payload, ttlMs: TtlMs, now: number, graceAt: number | undefined): Payload {
  const text = header(now, ttlMs === undefined ? undefined : now + ttlMs, graceAt);
  return typeof payload === 'string' ? text + payload : Buffer.concat([Buffer.from(text, 'latin1'), payload]);
}

/** The metadata header's text. */
function header(writtenAt: number, expiresAt: number | undefined, graceAt: number | undefined): string {
  const expiry = expiresAt === undefined ? '' : expiresAt.toString(RADIX);
  const grace = graceAt === undefined ? '' : `${SEPARATOR}${graceAt.toString(RADIX)}`;
  return `${META_MARK}${writtenAt.toString(RADIX)}${SEPARATOR}${expiry}${grace}${META_MARK}`;
}

/**
 * `payload` with its header's expiry made `ttlMs` from `now` (its write time and everything after
 * the header kept byte for byte), or `undefined` when it has no header: what `touch` stores, so
 * the header never names an expiry the store no longer has.
 */
export function withExpiry(payload: Payload, ttlMs: TtlMs, now: number): Payload | undefined {
  const meta = metaOf(payload);
  if (meta === undefined) return undefined;
  const end = headerEnd(payload);
  const text = header(meta.writtenAt, ttlMs === undefined ? undefined : now + ttlMs, meta.graceAt);
  if (typeof payload === 'string') return text + payload.slice(end + 1);
  return Buffer.concat([Buffer.from(text, 'latin1'), payload.subarray(end + 1)]);
}

/** Where a text payload's tag section opens (the index of its first tag), or -1 when it has none. */
export function tagSectionStart(payload: string): number {
  const header = headerEnd(payload);
  return header < 0 || !opensTags(payload, header + 1) ? -1 : header + 2;
}

/** The tag section of a payload (its text between the marks), `undefined` when untagged. */
export function tagSectionOf(payload: Payload): string | undefined {
  const header = headerEnd(payload);
  if (header < 0 || !opensTags(payload, header + 1)) return undefined;
  const start = header + 1;
  const end = typeof payload === 'string' ? find(payload, TAGS_MARK, start + 1) : payload.indexOf(TAGS_CODE, start + 1);
  if (end < 0) return undefined;
  return typeof payload === 'string'
    ? cut(payload, start + 1, end)
    : Buffer.from(payload.buffer, payload.byteOffset + start + 1, end - start - 1).toString('utf8');
}

/** What a read found of a tagged entry's tags: `soft` (soft-invalidated: stale), `gone` (hard-invalidated or its state is missing: a miss). */
export type TagVerdict = 'soft' | 'gone';

/**
 * A read of a tagged entry whose tags were invalidated: the payload as stored, and the verdict
 * beside it (data, never bytes in the payload). Only such a read makes one: a read of an untagged
 * entry, or of a tagged one whose tags are current, hands on the bare payload (no allocation).
 */
export class Judged {
  constructor(
    readonly payload: Payload,
    readonly verdict: TagVerdict,
  ) {}
}

/** What a read with tags checked hands on for a present entry: the payload (no verdict), or a `Judged` one. */
export type Checked = Payload | Judged;

/** The payload as stored of a checked read. */
export function storedOf(read: Checked): Payload {
  return read instanceof Judged ? read.payload : read;
}

/** The verdict of a checked read, `undefined` when it has none (untagged, or its tags are current). */
export function verdictOf(read: Checked): TagVerdict | undefined {
  return read instanceof Judged ? read.verdict : undefined;
}

/** The header of `payload` (text, or its UTF-8 bytes as some drivers return it), or `undefined` when it has none (or a malformed one). */
export function metaOf(payload: Payload): EntryMeta | undefined {
  const end = headerEnd(payload);
  if (end < 0) return undefined;
  const header =
    typeof payload === 'string'
      ? payload.slice(1, end)
      : Buffer.from(payload.buffer, payload.byteOffset + 1, end - 1).toString('latin1');
  const comma = header.indexOf(SEPARATOR);
  if (comma < 0) return undefined;
  const writtenAt = Number.parseInt(header.slice(0, comma), RADIX);
  const second = header.indexOf(SEPARATOR, comma + 1);
  const expiry = second < 0 ? header.slice(comma + 1) : header.slice(comma + 1, second);
  const expiresAt = expiry === '' ? undefined : Number.parseInt(expiry, RADIX);
  if (!Number.isFinite(writtenAt) || (expiresAt !== undefined && !Number.isFinite(expiresAt))) return undefined;
  if (second < 0) return { writtenAt, expiresAt };
  const graceAt = Number.parseInt(header.slice(second + 1), RADIX);
  return Number.isFinite(graceAt) ? { writtenAt, expiresAt, graceAt } : undefined;
}

/**
 * Decodes a checked read with `codec` in one pass over its header: the body (as given without a
 * header), nothing for a read judged `gone`, `soft(decoded)` for one judged `soft`.
 */
export function decodeEntry(read: Checked, codec: Codec, key: string, soft: (decoded: unknown) => unknown): unknown {
  if (read instanceof Judged)
    return read.verdict === 'gone' ? undefined : soft(codec.decode(bodyOf(read.payload), key));
  const end = headerEnd(read);
  if (end < 0) return codec.decode(read, key);
  if (!opensTags(read, end + 1)) {
    return codec.decode(typeof read === 'string' ? cut(read, end + 1) : read.subarray(end + 1), key);
  }
  return codec.decode(bodyOf(read), key);
}

/** `payload` without its header (as given when it has none). */
export function bodyOf(payload: Payload): Payload {
  let end = headerEnd(payload);
  if (end < 0) return payload;
  if (opensTags(payload, end + 1)) {
    const close = typeof payload === 'string' ? find(payload, TAGS_MARK, end + 2) : payload.indexOf(TAGS_CODE, end + 2);
    if (close > 0) end = close;
  }
  return typeof payload === 'string' ? cut(payload, end + 1) : payload.subarray(end + 1);
}

/** Whether a tag section opens at `at` (its first mark), in text or in bytes. */
function opensTags(payload: Payload, at: number): boolean {
  return typeof payload === 'string' ? charIs(payload, at, TAGS_MARK) : payload[at] === TAGS_CODE;
}

/** Index of the header's closing mark, or -1 when the payload has no header. */
export function headerEnd(payload: Payload): number {
  if (typeof payload === 'string') {
    if (!charIs(payload, 0, META_MARK)) return -1;
    const end = find(payload, META_MARK, 1);
    return end > MAX_HEADER ? -1 : end;
  }
  if (payload[0] !== MARK_CODE) return -1;
  const end = payload.indexOf(MARK_CODE, 1);
  return end > MAX_HEADER ? -1 : end;
}

/**
 * `payload` (with its header: text, or bytes from a codec other than JSON) with the tag section
 * `section` (`sectionOf`) after its header, or `undefined` when it has no header (nowhere to carry
 * the section). `headerChecked`: a header there is known to be well formed (it is not parsed again).
 */
export function withSection(payload: Payload, section: string, headerChecked = false): Payload | undefined {
  const end = headerChecked || metaOf(payload) !== undefined ? headerEnd(payload) : -1;
  if (end < 0) return undefined;
  const marked = `${TAGS_MARK}${section}${TAGS_MARK}`;
  if (typeof payload === 'string') return `${payload.slice(0, end + 1)}${marked}${payload.slice(end + 1)}`;
  return Buffer.concat([payload.subarray(0, end + 1), Buffer.from(marked, 'utf8'), payload.subarray(end + 1)]);
}

/** An entry's tags and the counter versions it recorded before it was computed. */
export interface TagStamp {
  readonly tags: readonly string[];
  readonly versions: readonly number[];
}

/** The tag section's text of a stamp (between its marks). */
export function sectionOf(stamp: TagStamp): string {
  let text = '';
  for (let i = 0; i < stamp.tags.length; i++) {
    text += `${i === 0 ? '' : NEXT}${stamp.tags[i]}${PAIR}${stamp.versions[i]}`;
  }
  return text;
}

/** At most how many UTF-8 bytes the tag section of `tags` takes, marks included (a version has at most 16 digits). */
export function sectionBytesBound(tags: readonly string[]): number {
  let bytes = 2;
  for (const tag of tags) bytes += tag.length * 3 + 2 + 16;
  return bytes;
}

/** The stamp a tagged payload carries, `undefined` when untagged. */
export function stampOf(payload: Payload): TagStamp | undefined {
  const section = tagSectionOf(payload);
  if (section === undefined) return undefined;
  const tags: string[] = [];
  const versions: number[] = [];
  for (const pair of section.split(NEXT)) {
    const at = pair.lastIndexOf(PAIR);
    tags.push(pair.slice(0, at));
    versions.push(Number(pair.slice(at + 1)));
  }
  return { tags, versions };
}

/**
 * Whether a text payload's tag section names exactly the counter keys `keys` (`prefix` + tag, in
 * order), each with the version `read[i + 1]` holds (decimal text, as the store answers it): the
 * common read of a tagged entry, decided without parsing numbers or allocating. `false` decides
 * nothing: the caller then judges with `stampOf` and `verdict`.
 */
export function sectionMatches(
  payload: string,
  prefix: string,
  keys: readonly string[],
  read: readonly (Payload | undefined)[],
): boolean {
  let at = tagSectionStart(payload);
  if (at < 0 || keys.length === 0) return false;
  const last = keys.length - 1;
  for (let i = 0; i <= last; i++) {
    const key = keys[i] as string;
    const counter = read[i + 1];
    if (typeof counter !== 'string' || counter.length === 0) return false;
    // The tag (the key past the prefix; tags hold no control characters), the PAIR mark, the version.
    for (let j = prefix.length; j < key.length; j++, at++)
      if (payload.charCodeAt(at) !== key.charCodeAt(j)) return false;
    if (payload.charCodeAt(at) !== PAIR_CODE || !payload.startsWith(counter, at + 1)) return false;
    at += 1 + counter.length;
    if (payload.charCodeAt(at) !== (i === last ? TAGS_CODE : NEXT_CODE)) return false;
    at++;
  }
  return true;
}
