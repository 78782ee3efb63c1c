/**
 * Reads binary-protocol responses out of a connection's received bytes, for `LarderServer` (memjs's
 * own reader copies every received chunk into a fresh zeroed buffer and builds seven objects per
 * response, which dominated a 100-key getMany). Here a response is one object, a header object and
 * a view of the value; key, extras and CAS views are made only when read (a quiet get's answers
 * are matched to keys in place, see quiet-gets.ts).
 */
import { type BinaryResponse, HEADER_BYTES } from './binary-protocol';

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

/** A response read in place: the value is a view; key, extras and CAS views are made only when read. */
export class Response implements BinaryResponse {
  constructor(
    readonly header: ResponseHeader,
    readonly val: Buffer,
    /** The received bytes the response lies in, and where its extras and key are (for in-place key checks). */
    readonly buffer: Buffer,
    readonly extrasAt: number,
    readonly extrasLength: number,
    readonly keyLength: number,
  ) {}

  /** The key, as a view. */
  get key(): Buffer {
    const keyAt = this.extrasAt + this.extrasLength;
    return this.keyLength === 0 ? EMPTY : this.buffer.subarray(keyAt, keyAt + this.keyLength);
  }

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
  const valueAt = extrasAt + extrasLength + keyLength;
  const val = valueAt === end ? EMPTY : buffer.subarray(valueAt, end);
  return new Response(header, val, buffer, extrasAt, extrasLength, keyLength);
}
