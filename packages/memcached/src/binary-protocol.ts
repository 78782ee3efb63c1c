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

const HEADER_BYTES = 24;
const EMPTY = Buffer.alloc(0);
const ZERO_CAS = Buffer.alloc(8);

/** One request to frame. */
export interface Request {
  opcode: number;
  key?: Buffer;
  extras?: Buffer;
  value?: Buffer;
  cas?: Buffer;
}

/** Frames requests back to back into one buffer (one socket write), all with the same opaque. */
export function encodeRequests(requests: readonly Request[], opaque: number): Buffer {
  let size = 0;
  for (const r of requests) size += HEADER_BYTES + bodyLength(r);
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const r of requests) offset = writeRequest(out, offset, r, opaque);
  return out;
}

/** Frames one request. */
export function encodeRequest(request: Request, opaque: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + bodyLength(request));
  writeRequest(out, 0, request, opaque);
  return out;
}

function bodyLength(r: Request): number {
  return (r.key?.length ?? 0) + (r.extras?.length ?? 0) + (r.value?.length ?? 0);
}

function writeRequest(out: Buffer, offset: number, r: Request, opaque: number): number {
  const key = r.key ?? EMPTY;
  const extras = r.extras ?? EMPTY;
  const value = r.value ?? EMPTY;
  out[offset] = 0x80;
  out[offset + 1] = r.opcode;
  out.writeUInt16BE(key.length, offset + 2);
  out[offset + 4] = extras.length;
  out[offset + 5] = 0; // data type
  out.writeUInt16BE(0, offset + 6); // vbucket
  out.writeUInt32BE(key.length + extras.length + value.length, offset + 8);
  out.writeUInt32BE(opaque >>> 0, offset + 12);
  (r.cas ?? ZERO_CAS).copy(out, offset + 16, 0, 8);
  let at = offset + HEADER_BYTES;
  at += extras.copy(out, at);
  at += key.copy(out, at);
  at += value.copy(out, at);
  return at;
}

/** SET/ADD extras: flags (u32) + expiration (u32). */
export function storageExtras(expiration: number, flags = 0): Buffer {
  const extras = Buffer.allocUnsafe(8);
  extras.writeUInt32BE(flags >>> 0, 0);
  extras.writeUInt32BE(expiration >>> 0, 4);
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
