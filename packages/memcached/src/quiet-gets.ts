/**
 * A quiet multi-get (GETKQ… + NOOP) framed straight from the key strings into one buffer, and its
 * answers matched back to request positions. memcached executes one connection's requests in
 * order, so the hits come back in request order: matching walks the keys once, comparing bytes,
 * instead of decoding every answer's key and looking it up (an answer out of order still matches,
 * by a scan from the start). No per-key Buffer or request object is built.
 */
import { type BinaryResponse, HEADER_BYTES, Opcode } from './binary-protocol';
import { Response } from './response-reader';

/** Frames `GETKQ key` for each key (duplicates allowed), then a `NOOP`, all with `opaque`, into one buffer. */
export function encodeQuietGets(keys: readonly string[], opaque: number): Buffer {
  // UTF-16 length × 3 bounds the UTF-8 length.
  let capacity = HEADER_BYTES * (keys.length + 1);
  for (let i = 0; i < keys.length; i++) capacity += keys[i]!.length * 3;
  const out = Buffer.allocUnsafe(capacity);
  let at = 0;
  for (let i = 0; i < keys.length; i++) {
    const length = writeKey(out, at + HEADER_BYTES, keys[i]!);
    writeHeader(out, at, Opcode.GETKQ, length, opaque);
    at += HEADER_BYTES + length;
  }
  writeHeader(out, at, Opcode.NOOP, 0, opaque);
  return out.subarray(0, at + HEADER_BYTES);
}

/**
 * Calls `hit(index, answer)` for each answer whose key is `keys[index]`, matching in request order
 * (with duplicate keys, the n-th answer for a key goes to its n-th position). Answers for no
 * requested key are skipped.
 */
export function matchAnswers(
  keys: readonly string[],
  answers: readonly BinaryResponse[],
  hit: (index: number, answer: BinaryResponse) => void,
): void {
  let next = 0;
  for (let a = 0; a < answers.length; a++) {
    const answer = answers[a]!;
    let index = find(keys, answer, next, keys.length);
    if (index < 0) index = find(keys, answer, 0, next);
    if (index < 0) continue;
    next = index + 1;
    hit(index, answer);
  }
}

/** True when `bytes` is the UTF-8 encoding of `key`. */
export function sameKey(bytes: Uint8Array, key: string): boolean {
  return sameKeyAt(bytes, 0, bytes.length, key);
}

/** True when `bytes[at, at + length)` is the UTF-8 encoding of `key`. */
function sameKeyAt(bytes: Uint8Array, at: number, length: number, key: string): boolean {
  const chars = key.length;
  if (length === chars) {
    // Equal lengths can only match if the key is ASCII (any other char takes 2+ bytes).
    for (let i = 0; i < chars; i++) {
      const code = key.charCodeAt(i);
      if (code !== bytes[at + i] || code > 0x7f) return false;
    }
    return true;
  }
  if (length < chars) return false;
  // Longer bytes: the key must have a non-ASCII char; an ASCII prefix that differs rules it out cheaply.
  for (let i = 0; i < chars; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x7f) return Buffer.from(key).equals(bytes.subarray(at, at + length));
    if (code !== bytes[at + i]) return false;
  }
  return false;
}

function find(keys: readonly string[], answer: BinaryResponse, from: number, to: number): number {
  // Answers from LarderServer's reader are checked in place (no key view); others through `key`.
  if (answer instanceof Response) {
    const at = answer.extrasAt + answer.extrasLength;
    for (let i = from; i < to; i++) if (sameKeyAt(answer.buffer, at, answer.keyLength, keys[i]!)) return i;
    return -1;
  }
  const bytes = answer.key;
  for (let i = from; i < to; i++) if (sameKey(bytes, keys[i]!)) return i;
  return -1;
}

/** Writes the key as UTF-8 at `at`; returns its byte length (ASCII in a JS loop, the rest natively). */
function writeKey(out: Buffer, at: number, key: string): number {
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x7f) return out.write(key, at, 'utf8');
    out[at + i] = code;
  }
  return key.length;
}

/** A request header with no extras and no value: magic, opcode, key length, body = key, opaque, CAS 0. */
function writeHeader(out: Buffer, at: number, opcode: number, keyLength: number, opaque: number): void {
  out[at] = 0x80;
  out[at + 1] = opcode;
  out[at + 2] = keyLength >>> 8;
  out[at + 3] = keyLength & 0xff;
  // Extras length, data type, vbucket, then the body length (= the key length, which fits two bytes).
  for (let i = 4; i < 10; i++) out[at + i] = 0;
  out[at + 10] = keyLength >>> 8;
  out[at + 11] = keyLength & 0xff;
  out[at + 12] = opaque >>> 24;
  out[at + 13] = (opaque >>> 16) & 0xff;
  out[at + 14] = (opaque >>> 8) & 0xff;
  out[at + 15] = opaque & 0xff;
  for (let i = 16; i < 24; i++) out[at + i] = 0;
}
