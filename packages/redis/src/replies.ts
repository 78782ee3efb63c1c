import { charIs, holds, type Payload } from '@larder/core/driver';

/** A command argument as ioredis takes it. */
export type Value = string | Buffer;

/** A payload as a command argument: ioredis sends Buffers as-is; a plain Uint8Array is wrapped without copying. */
export function arg(payload: Payload): Value {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/** A bytes reply as a payload (`null` = absent). */
export function payloadOf(reply: Buffer | null): Payload | undefined {
  return reply === null ? undefined : reply;
}

/**
 * A text reply as the exact stored payload, or `undefined` when the text cannot be trusted to
 * be: invalid UTF-8 decodes to U+FFFD (the caller then reads the bytes), and a binary payload
 * (marker byte 0x00) that happens to be valid UTF-8 is given back as those bytes. Valid UTF-8
 * without U+FFFD re-encodes to exactly the bytes that were stored. The string reads are core's
 * `holds`/`charIs`: ioredis's `VerbatimString extends String` makes `text.includes` a generic load.
 */
export function exact(text: string): Payload | undefined {
  if (holds(text, '\uFFFD')) return undefined;
  return charIs(text, 0, '\u0000') ? Buffer.from(text) : text;
}
