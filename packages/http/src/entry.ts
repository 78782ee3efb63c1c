import { asBuffer, carriesBody, decodeHead } from './head';
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
// - The head (at the entry's key): a `StoredHead` (head.ts).
// - The body (at the entry's key + `.b`, key.ts): [0x62][u8 id length][body id][raw bytes]. A
//   head whose id differs from its body's (two writers crossing, a body that expired) is a miss.
// On an in-process store that copies what it keeps, a response is one value instead: the head
// carries its body (head.ts `b`, read in the same lookup; store.ts `#oneValue`).
// Earlier layouts read as nothing (a miss): versions 1 and 2 (one value, body inside), and the
// binary heads of version 3 and 4 (raw, or base64 inside `{ t: 'b' }`).
const BODY = 0x62;

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
 * The stored response a head and its body value make (the body's bytes are not copied), or a head
 * that carries its body alone; `undefined` for anything else: another version (the one-value
 * versions 1 and 2 of earlier releases too), garbage, a body that is missing or belongs to another
 * head.
 */
export function decodeEntry(head: unknown, body?: unknown): StoredResponse | undefined {
  const decoded = decodeHead(head);
  return decoded && (carriesBody(head) ? decoded : withBody(decoded, body));
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

// The bytes of a body value if it carries `id` (compared byte by byte: no string made per hit).
function bodyOf(value: Buffer | undefined, id: string): Buffer | undefined {
  if (value === undefined || value.length < 2 || value[0] !== BODY || value[1] !== id.length) return undefined;
  const end = 2 + id.length;
  if (end > value.length) return undefined;
  for (let i = 0; i < id.length; i++) if (value[2 + i] !== id.charCodeAt(i)) return undefined;
  return value.subarray(end);
}
