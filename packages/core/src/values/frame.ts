import { MissingValueStepError, SerializationError } from '../contract/errors';
import type { Payload } from '../contract/store';
import { algorithmOf, type CompressionAlgorithm } from './compression';

/** The first byte of a msgpack codec payload (`msgpack-codec.ts`, which imports the JSON codec: kept here to avoid a cycle). */
export const MSGPACK_MARKER = 0xc1;

/**
 * The frame of a value-pipeline entry (core README "Values"): the header that says which steps
 * a stored entry went through, so entries with and without each step read back side by side.
 *
 *   0x1E 'L' 'V'  flags  [algorithm id]  [key id length, key id]  body
 *
 * flags: 1 the payload was text, 2 compressed (algorithm id follows), 4 encrypted (key id follows;
 * the body is IV 12 bytes, tag 16 bytes, ciphertext), 8 a chunk index (`chunks.ts`). No entry of
 * an earlier format starts with these three bytes: JSON text never starts with a control
 * character, the metadata header starts with 0x01, binary values with 0x00 or 0xFF, counters
 * with a digit or '-'.
 */
export const MAGIC = Buffer.from([0x1e, 0x4c, 0x56]);
export const TEXT = 1;
export const COMPRESSED = 2;
export const ENCRYPTED = 4;
export const CHUNKS = 8;

/** What a frame header says. */
export interface FrameHeader {
  readonly flags: number;
  readonly algorithm: CompressionAlgorithm | undefined;
  /** The compression algorithm id as stored (an id this version does not know stays visible). */
  readonly algorithmId: number;
  readonly keyId: string | undefined;
  /** Where the body starts. */
  readonly offset: number;
}

/** True when `payload` starts with the frame's magic (text as a driver may hand back valid UTF-8). */
export function isFramed(payload: Payload): boolean {
  if (typeof payload === 'string') return payload.charCodeAt(0) === 0x1e && payload.startsWith('\u001eLV');
  return payload[0] === 0x1e && payload[1] === 0x4c && payload[2] === 0x56;
}

/** The bytes of a framed payload (a string a driver decoded as UTF-8 goes back to its bytes). */
export function frameBytes(payload: Payload): Uint8Array {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

/** The header of framed `bytes`; `SerializationError` when it is cut short. */
export function readHeader(bytes: Uint8Array, key: string): FrameHeader {
  let at = MAGIC.length;
  const flags = bytes[at++] ?? -1;
  let algorithmId = 0;
  if (flags & COMPRESSED) algorithmId = bytes[at++] ?? -1;
  let keyId: string | undefined;
  if (flags & ENCRYPTED) {
    const length = bytes[at++] ?? 0;
    keyId = Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.min(length, bytes.byteLength - at)).toString('utf8');
    at += length;
  }
  if (flags < 0 || algorithmId < 0 || at > bytes.byteLength) {
    throw new SerializationError(`The entry of key '${key}' has a truncated frame header`, key);
  }
  return { flags, algorithm: algorithmOf(algorithmId), algorithmId, keyId, offset: at };
}

/** A frame header with `flags`, the algorithm's id and the key id. */
export function writeHeader(flags: number, algorithmId: number, keyId: string | undefined): Buffer {
  const id = keyId === undefined ? undefined : Buffer.from(keyId, 'utf8');
  const parts: Uint8Array[] = [MAGIC, Uint8Array.of(flags)];
  if (flags & COMPRESSED) parts.push(Uint8Array.of(algorithmId));
  if (id !== undefined) parts.push(Uint8Array.of(id.length), id);
  return Buffer.concat(parts);
}

/**
 * For a reader without the value pipeline (no `compress`, `encrypt` nor `maxValueBytes`): the
 * typed error naming the step a framed payload needs, or `undefined` when `payload` is not framed.
 */
export function missingStepError(payload: Payload, key: string): MissingValueStepError | undefined {
  if (typeof payload !== 'string' && payload[0] === MSGPACK_MARKER) {
    return new MissingValueStepError(
      key,
      'codec',
      "it was written with the msgpack codec and this cache's codec is another",
    );
  }
  if (!isFramed(payload)) return undefined;
  const header = readHeader(frameBytes(payload), key);
  if (header.flags & ENCRYPTED) {
    return new MissingValueStepError(
      key,
      'encrypt',
      `it is encrypted with key id '${header.keyId}' and this cache has no encrypt keys`,
    );
  }
  if (header.flags & CHUNKS) {
    return new MissingValueStepError(
      key,
      'chunk',
      'it is stored in chunks and this cache does not read chunked values (maxValueBytes)',
    );
  }
  return new MissingValueStepError(
    key,
    'compress',
    `it is compressed (${header.algorithm ?? `algorithm id ${header.algorithmId}`}) and this cache does not decompress (compress)`,
  );
}
