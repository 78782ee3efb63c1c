import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ConfigError, SerializationError } from '../contract/errors';
import type { Payload } from '../contract/store';
import { type Codec, jsonCodec } from './codec';
import { bodyOf } from './entry-format';
import { MSGPACK_MARKER } from './frame';
import { rawValueSize } from './value-policy';

const INTEGER = /^-?\d+$/;

interface Packr {
  pack(value: unknown): Uint8Array;
  unpack(bytes: Uint8Array): unknown;
}

let codec: Codec | undefined;

/**
 * The msgpack codec (`codec: 'msgpack'`, optional peer dependency `msgpackr`): binary, smaller and
 * faster to decode than JSON for large records. A payload is the byte 0xC1 (a byte msgpack never
 * uses, and never the first byte of UTF-8 or JSON text) then the msgpack bytes; integers stay plain
 * decimal text, as every codec must for the backends' counters. It reads the JSON codec's entries
 * too (decimal text, JSON text with or without the metadata header), so a store can switch codecs
 * with its data in place. Keeps Date, Set, BigInt, Buffer and typed arrays, undefined and NaN;
 * a Map comes back as a plain object and -0 as 0 (use the JSON codec for those).
 * `ConfigError` when `msgpackr` is not installed.
 */
export function msgpackCodec(): Codec {
  codec ??= build(load());
  return codec;
}

/** `msgpackr` from core's own dependencies (a peer), else from the app's folder. */
function load(): { Packr: new (options: object) => Packr } {
  for (const base of [import.meta.url, join(process.cwd(), 'package.json')]) {
    try {
      return createRequire(base)('msgpackr');
    } catch {
      // Not found from there: the next base.
    }
  }
  throw new ConfigError("codec 'msgpack' needs the optional peer dependency msgpackr: npm install msgpackr", 'codec');
}

function build(module: { Packr: new (options: object) => Packr }): Codec {
  const packr = new module.Packr({ useRecords: false, moreTypes: true });
  return {
    encode(value, key) {
      if (typeof value === 'number' && Number.isSafeInteger(value) && !Object.is(value, -0)) return String(value);
      // What the JSON codec refuses (undefined at the top, functions, symbols, cycles) is refused here too.
      rawValueSize(value, key, Number.POSITIVE_INFINITY);
      let packed: Uint8Array;
      try {
        packed = packr.pack(value);
      } catch (error) {
        throw new SerializationError(`Cannot encode the value for key '${key}' with msgpack`, key, { cause: error });
      }
      const out = Buffer.allocUnsafe(packed.byteLength + 1);
      out[0] = MSGPACK_MARKER;
      out.set(packed, 1);
      return out;
    },
    decode(payload: Payload, key) {
      if (typeof payload !== 'string' && payload[0] === MSGPACK_MARKER) {
        try {
          return packr.unpack(payload.subarray(1));
        } catch (error) {
          throw new SerializationError(`Cannot decode the cached value for key '${key}' (msgpack)`, key, {
            cause: error,
          });
        }
      }
      const text = typeof payload === 'string' ? payload : undefined;
      if (text !== undefined && INTEGER.test(text)) return Number(text);
      // An entry the JSON codec wrote (an earlier codec of this store), its metadata header dropped.
      return jsonCodec.decode(bodyOf(payload), key);
    },
  };
}
