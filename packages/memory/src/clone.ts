import { jsonCodec } from '@larder/core';

/**
 * Deep copy for the memory store's default mode: values are copied in on write and out on read,
 * so neither the writer's object nor a reader's copy can change what is cached. It gives the
 * same result as a round trip through the JSON codec (what every other driver returns), at a
 * fraction of the cost: plain objects, arrays, Date, Map, Set and bytes are copied directly;
 * `undefined` object fields are dropped and become `null` in arrays, non-finite nested numbers
 * become `null`, and anything else (class instances, other typed arrays, RegExp) goes through the
 * codec itself. The facade has already rejected functions, symbols and cycles.
 */

// Size estimate of the value being copied in, as the JSON codec would encode it.
let counted = 0;

/**
 * Copies `value` and estimates its size as the JSON codec would encode it (exact for ASCII
 * strings and bytes at the top, close for the rest), so `maxValueBytes` means the same in every mode.
 */
export function copyIn(value: unknown): { value: unknown; size: number } {
  counted = 0;
  const copy = typeof value === 'object' && value !== null ? copyObjectIn(value) : primitiveIn(value);
  return { value: copy, size: counted || 1 };
}

/** Copies a stored value for a reader (stored values are already normalized). */
export function copyOut(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? copyObjectOut(value) : value;
}

function primitiveIn(value: unknown): unknown {
  counted += typeof value === 'string' ? value.length + 2 : 8;
  return value;
}

function elementIn(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) return copyObjectIn(value);
  if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) {
    counted += 4;
    return null;
  }
  return primitiveIn(value);
}

function copyObjectIn(value: object): unknown {
  counted += 2;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    counted += value.length;
    for (let i = 0; i < value.length; i++) out[i] = elementIn(value[i]);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      counted += key.length + 4;
      const copied = elementIn(item);
      if (key === '__proto__') defineProto(out, copied);
      else out[key] = copied;
    }
    return out;
  }
  if (value instanceof Date) {
    counted += 24;
    return new Date(value.getTime());
  }
  if (value instanceof Uint8Array) {
    // 1 marker byte + the bytes (2 already counted).
    counted += value.byteLength - 1;
    return Buffer.from(value);
  }
  if (value instanceof Map) {
    const out = new Map();
    for (const [k, v] of value) out.set(elementIn(k), elementIn(v));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    for (const v of value) out.add(elementIn(v));
    return out;
  }
  // Rare shapes: let the codec decide, exactly as for a remote driver.
  const payload = jsonCodec.encode(value, '');
  counted += typeof payload === 'string' ? payload.length : payload.byteLength;
  return jsonCodec.decode(payload, '');
}

// Stored values hold only what copyObjectIn produced: plain objects, arrays, Date, Buffer, Map, Set, primitives.
function copyObjectOut(value: object): unknown {
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      out[i] = typeof item === 'object' && item !== null ? copyObjectOut(item) : item;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      const copied = typeof item === 'object' && item !== null ? copyObjectOut(item) : item;
      if (key === '__proto__') defineProto(out, copied);
      else out[key] = copied;
    }
    return out;
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (value instanceof Map) {
    const out = new Map();
    for (const [k, v] of value) out.set(copyOut(k), copyOut(v));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    for (const v of value) out.add(copyOut(v));
    return out;
  }
  return value;
}

// JSON.parse makes "__proto__" an own property; plain assignment would set the prototype.
function defineProto(target: Record<string, unknown>, value: unknown): void {
  Object.defineProperty(target, '__proto__', { value, enumerable: true, writable: true, configurable: true });
}
