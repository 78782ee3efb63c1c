import { entryOfMeta, flagsOf, flatText, type JsonMeta, readBinaryHead, readJsonHead } from './entry-parts';
import type { StoredView } from './policy';

/** Where a stored response's body lives apart from its head (see "Layout" below). */
export interface BodyRef {
  /** A random id written into the body value too: a head answers only with the body it names. */
  id: string;
  /** Epoch ms until which the store keeps the body (a 304 that keeps the head longer extends it). */
  until: number;
}

/** A stored response: what a hit replays, and what the rules need to decide whether it may. */
export interface StoredResponse extends StoredView {
  /** Replayable headers (lower-case names). */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Epoch ms when it was stored (`Age` counts from then). */
  storedAt: number;
  /** Seconds of age it had when stored (its own `Age` header). */
  age: number;
  /** The layout mark: `SCOPED` (store.ts) for an entry written through its resource's scope; an earlier layout's generation id (a miss). */
  gen: string;
  /** Reserved for response tags (`Cache-Tag`, `responseCache({ tags })`): kept and read back as is. */
  tags?: string[];
  /** Its body's own value, when it was read from a head (absent: not stored yet). */
  bodyRef?: BodyRef;
}

/** The entry at a varying URI's base key: the header names its responses vary on. */
export interface VaryHead {
  t: 'v';
  /** Lower-case names, sorted. */
  v: string[];
  /** The layout mark, as an entry's `gen`. */
  g: string;
}

// Layout: a response is two values, so that a 304 revalidation rewrites the small head only.
// - The head (at the entry's key), one Buffer (the Redis driver stores it as raw bytes):
//   version 3: [3][u16 status][f64 storedAt][f64 expiresAt][u32 age][u8 flags][f64 body until]
//   [u32 text length][u8 id length][body id][text `gen\nname\nvalue...` (entry-parts.ts)]
//   [u32 tags length, tags JSON (flag 2 only)];
//   version 4, the same as JSON (`[4][u32 length][JSON]`), written when a header value is not
//   latin1 without line breaks (never, through Node's or `Headers`' own checks).
// - The body (at the entry's key + `.b`, key.ts): [0x62][u8 id length][body id][raw bytes]. A
//   head whose id differs from its body's (two writers crossing, a body that expired) is a miss.
// Versions 1 and 2 (one value, body inside; earlier releases) read as nothing: a miss.
const V3 = 3;
const V4 = 4;
const V3_HEAD = 37;
const BODY = 0x62;
const NO_BODY = Buffer.alloc(0);

/** Encodes the head of a stored response (everything but its body) naming the body `ref`. */
export function encodeHead(entry: Omit<StoredResponse, 'body'>, ref: BodyRef): Buffer {
  const text = flatText(entry.gen, entry.headers);
  const id = Buffer.from(ref.id, 'latin1');
  const numeric =
    Number.isInteger(entry.status) && entry.status >= 0 && entry.status <= 0xffff && Number.isInteger(entry.age);
  if (text === undefined || !numeric || entry.age < 0 || entry.age > 0xffffffff || id.length > 0xff) {
    return encodeV4(entry, ref);
  }
  const tags = entry.tags === undefined ? undefined : Buffer.from(JSON.stringify(entry.tags));
  const textLength = Buffer.byteLength(text, 'latin1');
  const at = V3_HEAD + id.length;
  const out = Buffer.allocUnsafe(at + textLength + (tags === undefined ? 0 : 4 + tags.length));
  out[0] = V3;
  out.writeUInt16BE(entry.status, 1);
  out.writeDoubleBE(entry.storedAt, 3);
  out.writeDoubleBE(entry.expiresAt, 11);
  out.writeUInt32BE(entry.age, 19);
  out[23] = flagsOf(entry.shared, tags !== undefined);
  out.writeDoubleBE(ref.until, 24);
  out.writeUInt32BE(textLength, 32);
  out[36] = id.length;
  id.copy(out, V3_HEAD);
  out.write(text, at, 'latin1');
  if (tags !== undefined) {
    out.writeUInt32BE(tags.length, at + textLength);
    tags.copy(out, at + textLength + 4);
  }
  return out;
}

/** Encodes a body value: its id, then its bytes. */
export function encodeBody(id: string, body: Buffer): Buffer {
  const name = Buffer.from(id, 'latin1');
  const out = Buffer.allocUnsafe(2 + name.length + body.length);
  out[0] = BODY;
  out[1] = name.length;
  name.copy(out, 2);
  body.copy(out, 2 + name.length);
  return out;
}

/**
 * The stored response a head and its body value make (the body's bytes are not copied);
 * `undefined` for anything else: another version (the one-value versions 1 and 2 of earlier
 * releases too), garbage, a body that is missing or belongs to another head.
 */
export function decodeEntry(head: unknown, body?: unknown): StoredResponse | undefined {
  const decoded = decodeHead(head);
  return decoded && withBody(decoded, body);
}

/** A head's stored response without its body (`bodyRef` names it); `undefined` for anything but a head. */
export function decodeHead(head: unknown): StoredResponse | undefined {
  const bytes = asBuffer(head);
  if (bytes === undefined || bytes.length < 5) return undefined;
  if (bytes[0] !== V3 && bytes[0] !== V4) return undefined;
  return bytes[0] === V3 ? decodeV3(bytes) : decodeV4(bytes);
}

/** A new stored response: `head` (from `decodeHead`, not changed) with the body value it names; `undefined` when `body` is not its. */
export function withBody(head: StoredResponse, body: unknown): StoredResponse | undefined {
  const own = bodyOf(asBuffer(body), (head.bodyRef as BodyRef).id);
  return own === undefined ? undefined : { ...head, body: own, length: own.length };
}

/** Whether a stored value is a vary head. */
export function isVaryHead(value: unknown): value is VaryHead {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as VaryHead).t === 'v' &&
    Array.isArray((value as VaryHead).v) &&
    typeof (value as VaryHead).g === 'string'
  );
}

function asBuffer(value: unknown): Buffer | undefined {
  if (!(value instanceof Uint8Array)) return undefined;
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

// The bytes of a body value if it carries `id`.
function bodyOf(value: Buffer | undefined, id: string): Buffer | undefined {
  if (value === undefined || value.length < 2 || value[0] !== BODY) return undefined;
  const end = 2 + (value[1] as number);
  if (end > value.length || value.toString('latin1', 2, end) !== id) return undefined;
  return value.subarray(end);
}

function decodeV3(bytes: Buffer): StoredResponse | undefined {
  if (bytes.length < V3_HEAD) return undefined;
  const idEnd = V3_HEAD + (bytes[36] as number);
  const read = readBinaryHead(bytes, idEnd, idEnd + bytes.readUInt32BE(32));
  if (read === undefined || read.end !== bytes.length) return undefined;
  read.entry.bodyRef = { id: bytes.toString('latin1', V3_HEAD, idEnd), until: bytes.readDoubleBE(24) };
  return read.entry;
}

function encodeV4(entry: Omit<StoredResponse, 'body'>, ref: BodyRef): Buffer {
  const meta: JsonMeta = {
    s: entry.status,
    h: entry.headers,
    at: entry.storedAt,
    exp: entry.expiresAt,
    age: entry.age,
    sh: entry.shared ? 1 : 0,
    g: entry.gen,
    id: ref.id,
    bu: ref.until,
  };
  if (entry.tags !== undefined) meta.tags = entry.tags;
  const json = Buffer.from(JSON.stringify(meta));
  const out = Buffer.allocUnsafe(5 + json.length);
  out[0] = V4;
  out.writeUInt32BE(json.length, 1);
  json.copy(out, 5);
  return out;
}

function decodeV4(bytes: Buffer): StoredResponse | undefined {
  const read = readJsonHead(bytes);
  if (read === undefined || read.end !== bytes.length) return undefined;
  const { meta } = read;
  if (typeof meta.id !== 'string' || typeof meta.bu !== 'number') return undefined;
  return { ...entryOfMeta(meta, NO_BODY), bodyRef: { id: meta.id, until: meta.bu } };
}
