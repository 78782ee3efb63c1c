import { BackendError } from '@larder/core';

/**
 * The pieces of the memcached binary protocol memjs does not give us: quiet operations
 * (GETKQ/SETQ/DELETEQ + NOOP) so a batch is one request per node, CAS on GET/DELETE, TOUCH,
 * and 64-bit INCR/DECR with an initial value (memjs writes 32-bit halves and decodes the
 * 64-bit answer with `(hi << 8) + lo`, wrong above 2^32). Requests are framed here and written
 * over memjs's per-node connection.
 */

/** Binary protocol opcodes used by the driver. */
export const Opcode = {
  GET: 0x00,
  SET: 0x01,
  ADD: 0x02,
  DELETE: 0x04,
  INCREMENT: 0x05,
  DECREMENT: 0x06,
  NOOP: 0x0a,
  GETK: 0x0c,
  GETKQ: 0x0d,
  SETQ: 0x11,
  DELETEQ: 0x14,
  TOUCH: 0x1c,
  SASL_LIST_MECHS: 0x20,
  SASL_AUTH: 0x21,
} as const;

/** Response status codes. */
export const Status = {
  OK: 0x00,
  KEY_NOT_FOUND: 0x01,
  KEY_EXISTS: 0x02,
  VALUE_TOO_LARGE: 0x03,
  INVALID_ARGUMENTS: 0x04,
  NOT_STORED: 0x05,
  NON_NUMERIC: 0x06,
  AUTH_ERROR: 0x20,
  UNKNOWN_COMMAND: 0x81,
  OUT_OF_MEMORY: 0x82,
} as const;

const STATUS_TEXT: Record<number, string> = {
  1: 'key not found',
  2: 'key exists',
  3: 'value too large',
  4: 'invalid arguments',
  5: 'item not stored',
  6: 'incr/decr on a non-numeric value',
  32: 'authentication error',
  129: 'unknown command',
  130: 'out of memory',
  131: 'not supported',
  132: 'internal error',
  133: 'busy',
  134: 'temporary failure',
};

/** Human text of a status code. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? `status 0x${status.toString(16)}`;
}

/** A parsed response, as memjs's `parseMessage` produces it. */
export interface BinaryResponse {
  header: { opcode: number; status: number; opaque: number; totalBodyLength: number; cas: Buffer };
  key: Buffer;
  extras: Buffer;
  val: Buffer;
}

/** Size of every binary-protocol request and response header. */
export const HEADER_BYTES = 24;

/** One request to frame. A string key or value is written as UTF-8 straight into the frame. */
export interface Request {
  opcode: number;
  key?: Buffer | string;
  extras?: Buffer;
  value?: Buffer | string;
  cas?: Buffer;
}

/** Frames requests back to back into one buffer (one socket write), all with the same opaque. */
export function encodeRequests(requests: readonly Request[], opaque: number): Buffer {
  const sizes: number[] = [];
  let size = 0;
  for (const r of requests) {
    const keyBytes = byteSize(r.key);
    const valueBytes = byteSize(r.value);
    sizes.push(keyBytes, valueBytes);
    size += HEADER_BYTES + keyBytes + (r.extras?.length ?? 0) + valueBytes;
  }
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (let i = 0; i < requests.length; i++) {
    offset = writeRequest(out, offset, requests[i]!, sizes[2 * i]!, sizes[2 * i + 1]!, opaque);
  }
  return out;
}

/** Frames one request. */
export function encodeRequest(request: Request, opaque: number): Buffer {
  const keyBytes = byteSize(request.key);
  const valueBytes = byteSize(request.value);
  const out = Buffer.allocUnsafe(HEADER_BYTES + keyBytes + (request.extras?.length ?? 0) + valueBytes);
  writeRequest(out, 0, request, keyBytes, valueBytes, opaque);
  return out;
}

/** Bytes of a key or value: UTF-8 length of a string. */
export function byteSize(part: Buffer | string | undefined): number {
  if (part === undefined) return 0;
  return typeof part === 'string' ? Buffer.byteLength(part) : part.length;
}

function writeRequest(
  out: Buffer,
  offset: number,
  r: Request,
  keyBytes: number,
  valueBytes: number,
  opaque: number,
): number {
  const extrasBytes = r.extras?.length ?? 0;
  out[offset] = 0x80;
  out[offset + 1] = r.opcode;
  out.writeUInt16BE(keyBytes, offset + 2);
  out[offset + 4] = extrasBytes;
  out[offset + 5] = 0; // data type
  out.writeUInt16BE(0, offset + 6); // vbucket
  out.writeUInt32BE(keyBytes + extrasBytes + valueBytes, offset + 8);
  out.writeUInt32BE(opaque >>> 0, offset + 12);
  if (r.cas) r.cas.copy(out, offset + 16, 0, 8);
  else for (let i = offset + 16; i < offset + HEADER_BYTES; i++) out[i] = 0;
  let at = offset + HEADER_BYTES;
  if (r.extras) at += r.extras.copy(out, at);
  at += writePart(out, at, r.key);
  at += writePart(out, at, r.value);
  return at;
}

function writePart(out: Buffer, at: number, part: Buffer | string | undefined): number {
  if (part === undefined || part.length === 0) return 0;
  return typeof part === 'string' ? out.write(part, at, 'utf8') : part.copy(out, at);
}

let lastStorageExtras: { expiration: number; flags: number; extras: Buffer } | undefined;

/**
 * SET/ADD extras: flags (u32) + expiration (u32). The last one is reused (writes with one TTL
 * repeat it); frames only copy from it, so sharing it is safe.
 */
export function storageExtras(expiration: number, flags = 0): Buffer {
  const last = lastStorageExtras;
  if (last && last.expiration === expiration && last.flags === flags) return last.extras;
  const extras = Buffer.allocUnsafe(8);
  extras.writeUInt32BE(flags >>> 0, 0);
  extras.writeUInt32BE(expiration >>> 0, 4);
  lastStorageExtras = { expiration, flags, extras };
  return extras;
}

/** TOUCH extras: expiration (u32). */
export function touchExtras(expiration: number): Buffer {
  const extras = Buffer.allocUnsafe(4);
  extras.writeUInt32BE(expiration >>> 0, 0);
  return extras;
}

/** Largest value a memcached counter holds. */
export const MAX_COUNTER = 0xffff_ffff_ffff_ffffn;

/**
 * INCR/DECR extras: delta (u64), initial value (u64), expiration (u32). A missing key is
 * created with `initial` (the delta is not applied to it) unless expiration is 0xffffffff.
 */
export function counterExtras(delta: bigint, initial: bigint, expiration: number): Buffer {
  const extras = Buffer.allocUnsafe(20);
  extras.writeBigUInt64BE(delta, 0);
  extras.writeBigUInt64BE(initial, 8);
  extras.writeUInt32BE(expiration >>> 0, 16);
  return extras;
}

/** Decodes an INCR/DECR answer: the new value as an unsigned 64-bit integer. */
export function decodeCounter(value: Buffer): bigint {
  if (value.length !== 8) throw new RangeError(`counter answer has ${value.length} bytes, expected 8`);
  return value.readBigUInt64BE(0);
}

/** Whether `cas` is CAS 0: no token (a server run with `-C` answers it to every GET). */
export function isNoCas(cas: Buffer): boolean {
  return cas.readBigUInt64BE(0) === 0n;
}

/**
 * The CAS token a GET answered, for a write that must be conditional on it (`what`: the operation
 * and key, for the error). A server run with `-C` (CAS disabled) answers 0, and a SET or DELETE
 * carrying 0 is unconditional: rather than silently lose its atomicity, the operation fails.
 */
export function casOf(response: { header: { cas: Buffer } }, what: string): Buffer {
  if (!isNoCas(response.header.cas)) return response.header.cas;
  throw new BackendError(
    `memcached ${what}: the server answered no CAS token (it runs with CAS disabled, -C), so the write cannot be made conditional`,
    'memcached',
  );
}
