import type { StoredView } from './response-cache-policy';

/** A stored response: what a hit replays, and what the rules need to decide whether it may. */
export interface StoredResponse extends StoredView {
  /** Replayable headers (lower-case names). */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Epoch ms when it was stored (`Age` counts from then). */
  storedAt: number;
  /** Seconds of age it had when stored (its own `Age` header). */
  age: number;
  /** The resource generation it was stored under; it answers only while the resource still has it. */
  gen: string;
  /** Reserved for response tags (`Cache-Tag`, `responseCache({ tags })`): kept and read back as is. */
  tags?: string[];
}

/** The entry at a varying URI's base key: the header names its responses vary on. */
export interface VaryHead {
  t: 'v';
  /** Lower-case names, sorted. */
  v: string[];
  /** The resource generation it belongs to. */
  g: string;
}

// Layout: [version][u32 BE length of the JSON meta][meta][body]. One Buffer, so the Redis
// driver stores the body as raw bytes (no base64) and a hit decodes only the small meta.
const VERSION = 1;

interface Meta {
  s: number;
  h: Record<string, string | string[]>;
  at: number;
  exp: number;
  age: number;
  sh: 0 | 1;
  g: string;
  tags?: string[];
}

/** Encodes a stored response as one Buffer. */
export function encodeEntry(entry: StoredResponse): Buffer {
  const meta: Meta = {
    s: entry.status,
    h: entry.headers,
    at: entry.storedAt,
    exp: entry.expiresAt,
    age: entry.age,
    sh: entry.shared ? 1 : 0,
    g: entry.gen,
  };
  if (entry.tags !== undefined) meta.tags = entry.tags;
  const json = Buffer.from(JSON.stringify(meta));
  const out = Buffer.allocUnsafe(5 + json.length + entry.body.length);
  out[0] = VERSION;
  out.writeUInt32BE(json.length, 1);
  json.copy(out, 5);
  entry.body.copy(out, 5 + json.length);
  return out;
}

/** Decodes what `encodeEntry` wrote; `undefined` for anything else (another version, or garbage). */
export function decodeEntry(value: unknown): StoredResponse | undefined {
  if (!(value instanceof Uint8Array) || value.length < 5 || value[0] !== VERSION) return undefined;
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const metaLength = bytes.readUInt32BE(1);
  if (5 + metaLength > bytes.length) return undefined;
  let meta: Meta;
  try {
    meta = JSON.parse(bytes.toString('utf8', 5, 5 + metaLength)) as Meta;
  } catch {
    return undefined;
  }
  const body = bytes.subarray(5 + metaLength);
  return {
    status: meta.s,
    headers: meta.h,
    body,
    length: body.length,
    storedAt: meta.at,
    expiresAt: meta.exp,
    age: meta.age,
    shared: meta.sh === 1,
    gen: meta.g,
    ...(meta.tags === undefined ? {} : { tags: meta.tags }),
  };
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
