import { isLarderError, SerializationError } from '../contract/errors';

/**
 * The one walker that decides what JSON would refuse in a value (docs/architecture.md, "Values"):
 * the codec explains its refusals with it, raw-value stores size and check values with it, the
 * memory store's copy explains the values it could not copy with it, and `@larder/express` checks
 * session data with it.
 *
 * Two dialects. `codec`: larder's JSON codec, which keeps Date, bytes, Map, Set, BigInt and nested
 * `undefined`, and refuses functions, symbols and cycles. `json`: plain `JSON.stringify`, which
 * also refuses BigInt and lets an object with `toJSON` say itself how it serializes.
 */
export type JsonDialect = 'codec' | 'json';

/** What JSON would refuse, and where: `path` as `a.b[0]` (`<key>` for a Map key, `[]` for a Set item), `''` at the top. */
export interface JsonRefusal {
  readonly what: 'function' | 'symbol' | 'bigint' | 'cycle';
  readonly path: string;
}

/** The type of a leaf JSON refuses in this dialect, or undefined for a leaf it accepts (objects are walked). */
export function refusedLeaf(value: unknown, dialect: JsonDialect = 'codec'): JsonRefusal['what'] | undefined {
  const type = typeof value;
  if (type === 'function' || type === 'symbol') return type;
  if (type === 'bigint' && dialect === 'json') return type;
  return undefined;
}

/** The key of the value a tagged entry's envelope wraps (`tagged-envelope.ts`): left out of a refusal's path. */
export const ENVELOPE_ENTRY_KEY = '\u0000larder:entry';

// The refusal the last walk met: its kind and its path segments, innermost first (built only on
// the way back up from it, so a walk that meets none builds no path).
let met: { what: JsonRefusal['what']; segments: string[] } | undefined;

/**
 * The size the JSON codec would give `value` (exact for strings and bytes, an estimate for objects:
 * string and key lengths plus a few bytes per item), or -1 when JSON would refuse something in it
 * (`jsonRefusal` says what and where). Throws what reading the value throws (a getter), and a
 * `RangeError` on nesting too deep to walk.
 */
export function jsonSize(value: unknown, dialect: JsonDialect = 'codec'): number {
  met = undefined;
  return child(value, [], dialect);
}

/** What JSON would refuse in `value` and where, or undefined when it accepts it. Throws as `jsonSize`. */
export function jsonRefusal(value: unknown, dialect: JsonDialect = 'codec'): JsonRefusal | undefined {
  if (jsonSize(value, dialect) >= 0 || met === undefined) return undefined;
  const path = met.segments.reverse().join('');
  return { what: met.what, path: path.startsWith('.') ? path.slice(1) : path };
}

/**
 * The `SerializationError` for a value under `key` that cannot be cached: what JSON refuses in it
 * and where, or why walking it failed (`thrown`, or what a new walk throws: a getter, nesting too
 * deep); `fallback` when the walk finds nothing (a refusal it cannot see).
 */
export function refusalError(
  value: unknown,
  key: string,
  fallback: () => SerializationError,
  thrown?: unknown,
): SerializationError {
  if (value === undefined)
    return new SerializationError(`Cannot cache a value of type undefined under key '${key}'`, key);
  let refusal: JsonRefusal | undefined;
  try {
    if (thrown !== undefined) throw thrown;
    refusal = jsonRefusal(value);
  } catch (error) {
    if (isLarderError(error, 'E_SERIALIZATION')) return error;
    const why =
      error instanceof RangeError ? 'it is nested too deeply' : `reading it failed: ${(error as Error)?.message}`;
    return new SerializationError(`Cannot cache the value under key '${key}': ${why}`, key, { cause: error });
  }
  if (refusal === undefined) return fallback();
  const at = refusal.path === '' ? '' : ` at '${refusal.path}'`;
  const what = refusal.what === 'cycle' ? 'a circular structure' : `a value of type ${refusal.what}`;
  return new SerializationError(`Cannot cache ${what}${at} under key '${key}'`, key);
}

function child(value: unknown, ancestors: object[], dialect: JsonDialect): number {
  const type = typeof value;
  if (type === 'string') return (value as string).length + 2;
  if (type === 'object' && value !== null) return walk(value as object, ancestors, dialect);
  const refused = refusedLeaf(value, dialect);
  if (refused !== undefined) {
    met = { what: refused, segments: [] };
    return -1;
  }
  return 8;
}

function walk(value: object, ancestors: object[], dialect: JsonDialect): number {
  if (dialect === 'json') {
    // Dates, Buffers and cookie objects say themselves how they serialize.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return 24;
  } else {
    if (ArrayBuffer.isView(value)) return Math.ceil((value.byteLength * 4) / 3) + 16; // base64 in JSON
    if (value instanceof Date || value instanceof ArrayBuffer || value instanceof RegExp) return 24;
  }
  if (ancestors.includes(value)) {
    met = { what: 'cycle', segments: [] };
    return -1;
  }
  ancestors.push(value);
  let size = 2;
  if (dialect === 'codec' && value instanceof Map) {
    for (const [k, v] of value) {
      const a = child(k, ancestors, dialect);
      if (a < 0) return up('<key>');
      const b = child(v, ancestors, dialect);
      if (b < 0) return up(`.${String(k)}`);
      size += a + b + 4;
    }
  } else if (dialect === 'codec' && value instanceof Set) {
    for (const v of value) {
      const a = child(v, ancestors, dialect);
      if (a < 0) return up('[]');
      size += a + 1;
    }
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const a = child(value[i], ancestors, dialect);
      if (a < 0) return up(`[${i}]`);
      size += a + 1;
    }
  } else {
    for (const name in value) {
      if (!Object.hasOwn(value, name)) continue;
      const a = child((value as Record<string, unknown>)[name], ancestors, dialect);
      if (a < 0) return up(name === ENVELOPE_ENTRY_KEY ? '' : `.${name}`);
      size += name.length + 4 + a;
    }
  }
  ancestors.pop();
  return size;
}

/** Adds one step to the path of the refusal met below, on the way back up. */
function up(segment: string): number {
  met?.segments.push(segment);
  return -1;
}
