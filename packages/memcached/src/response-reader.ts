/**
 * Reads binary-protocol responses out of a connection's received bytes, for `LarderServer` (memjs's
 * own reader copies every received chunk into a fresh zeroed buffer and builds seven objects per
 * response, which dominated a 100-key getMany). Here a response is one object, a header object and
 * views of the key and value; the CAS and extras views are made only when read.
 */
import type { BinaryResponse } from './binary-protocol';

const HEADER_BYTES = 24;
const RESPONSE_MAGIC = 0x81;
const EMPTY = Buffer.alloc(0);

/** The received bytes are not a binary-protocol response stream. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

class ResponseHeader {
  constructor(
    private readonly buffer: Buffer,
    private readonly at: number,
    readonly opcode: number,
    readonly status: number,
    readonly opaque: number,
    readonly totalBodyLength: number,
  ) {}

  /** The 8-byte CAS, as a view. */
  get cas(): Buffer {
    return this.buffer.subarray(this.at + 16, this.at + HEADER_BYTES);
  }
}

class Response implements BinaryResponse {
  constructor(
    readonly header: ResponseHeader,
    readonly key: Buffer,
    readonly val: Buffer,
    private readonly buffer: Buffer,
    private readonly extrasAt: number,
    private readonly extrasLength: number,
  ) {}

  /** The extras, as a view. */
  get extras(): Buffer {
    return this.extrasLength === 0 ? EMPTY : this.buffer.subarray(this.extrasAt, this.extrasAt + this.extrasLength);
  }
}

/**
 * The response starting at `at`, or `undefined` while its bytes have not all arrived. Key, value,
 * extras and CAS are views of `buffer`. Throws a `ProtocolError` on a wrong magic byte or a body
 * shorter than its key and extras (the stream is out of step; the caller drops the connection).
 */
export function readResponse(buffer: Buffer, at: number): BinaryResponse | undefined {
  if (buffer.length - at < HEADER_BYTES) return undefined;
  if (buffer[at] !== RESPONSE_MAGIC) {
    throw new ProtocolError(`bad magic byte 0x${buffer[at]!.toString(16)} at the start of a response`);
  }
  const bodyLength = buffer.readUInt32BE(at + 8);
  const end = at + HEADER_BYTES + bodyLength;
  if (buffer.length < end) return undefined;
  const keyLength = (buffer[at + 2]! << 8) | buffer[at + 3]!;
  const extrasLength = buffer[at + 4]!;
  if (bodyLength < keyLength + extrasLength) {
    throw new ProtocolError(`response body of ${bodyLength} bytes is shorter than its key and extras`);
  }
  const header = new ResponseHeader(
    buffer,
    at,
    buffer[at + 1]!,
    (buffer[at + 6]! << 8) | buffer[at + 7]!,
    buffer.readUInt32BE(at + 12),
    bodyLength,
  );
  const extrasAt = at + HEADER_BYTES;
  const keyAt = extrasAt + extrasLength;
  const valueAt = keyAt + keyLength;
  const key = keyLength === 0 ? EMPTY : buffer.subarray(keyAt, valueAt);
  const val = valueAt === end ? EMPTY : buffer.subarray(valueAt, end);
  return new Response(header, key, val, buffer, extrasAt, extrasLength);
}
