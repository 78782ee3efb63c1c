import { jsonCodec } from '@larder/core';

/**
 * Deep copy for the memory store's default mode: values are copied in on write and out on read,
 * so neither the writer's object nor a reader's copy can change what is cached. It gives the
 * same result as a round trip through the JSON codec (what every other driver returns), at a
 * fraction of the cost: plain objects, arrays, Date, Map, Set and bytes are copied directly;
 * `undefined` object fields are dropped and become `null` in arrays, non-finite nested numbers
 * become `null`, and anything else (class instances, other typed arrays, objects with `toJSON`)
 * goes through the codec itself. The facade has already rejected functions, symbols and cycles.
 */

let counted = 0;

/**
 * Copies `value` and estimates its size as the JSON codec would encode it (exact for ASCII
 * strings and bytes at the top, close for the rest), so `maxValueBytes` means the same in every mode.
 */
export function copyIn(value: unknown): { value: unknown; size: number } {
  counted = 0;
  const copy = copy_(value, true);
  return { value: copy, size: counted || 1 };
}

/** Copies a stored value for a reader. */
export function copyOut(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? copy_(value, false) : value;
}

function copy_(value: unknown, count: boolean): unknown {
  switch (typeof value) {
    case 'string':
      if (count) counted += value.length + 2;
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      if (count) counted += 8;
      return value;
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) {
    if (count) counted += 4;
    return null;
  }
  if (count) counted += 2;
  if (Array.isArray(value)) {
    if (count) counted += value.length;
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = element(value[i], count);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if ((proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      if (count) counted += key.length + 4;
      const copied = element(item, count);
      // JSON.parse makes "__proto__" an own property; plain assignment would set the prototype.
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: copied, enumerable: true, writable: true, configurable: true });
      else out[key] = copied;
    }
    return out;
  }
  if (value instanceof Date) {
    if (count) counted += 24;
    return new Date(value.getTime());
  }
  if (value instanceof Uint8Array) {
    // 1 marker byte + the bytes (2 already counted).
    if (count) counted += value.byteLength - 1;
    return Buffer.from(value);
  }
  if (value instanceof Map) {
    const out = new Map();
    for (const [k, v] of value) out.set(element(k, count), element(v, count));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    for (const v of value) out.add(element(v, count));
    return out;
  }
  // Rare shapes: let the codec decide, exactly as for a remote driver.
  const payload = jsonCodec.encode(value, '');
  if (count) counted += typeof payload === 'string' ? payload.length : payload.byteLength;
  return jsonCodec.decode(payload, '');
}

function element(value: unknown, count: boolean): unknown {
  if (value === undefined) return null;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return copy_(value, count);
}
