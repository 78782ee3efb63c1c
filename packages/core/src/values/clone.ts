import { jsonCodec } from './codec';
import { copyWith, extend, Kind, LEAF, ownedBytes, type Plan, planOf } from './copy-plan';
import { refusedLeaf } from './json-walk';

/**
 * Deep copy for the memory store's default mode: values are copied in on write and out on read,
 * so neither the writer's object nor a reader's copy can change what is cached. It gives the
 * same result as a round trip through the JSON codec (what every other driver returns), at a
 * fraction of the cost: plain objects, arrays, Date, Map, Set and bytes (Buffer or Uint8Array,
 * kept as given) are copied directly; nested `undefined`, NaN, ±Infinity and -0 are kept, as the
 * codec keeps them; anything else (class instances, other typed arrays, RegExp) goes through the
 * codec itself. One difference, for speed: enumerable symbol-keyed properties of plain objects
 * are kept as they are (JSON drops them): their values are shared by reference, neither copied nor
 * checked, so they are not isolated. The copy also refuses what the codec refuses (functions, symbols, cycles, throwing
 * getters, nesting too deep to walk; undefined at the top) — one walk checks, sizes and copies a
 * value, so the facade skips its own check (`capabilities.checksRawValues`).
 */

// Size estimate of the value being copied in, as the JSON codec would encode it.
let counted = 0;
// Set by `copyDecoded`: a shape the walk cannot copy exactly is refused, not sent through the JSON codec.
let exact = false;

/** Where `copyInto` puts a copy: the copy and its plan (the store's entry). */
export interface CopyTarget {
  value: unknown;
  plan: Plan | undefined;
}

/**
 * Copies `value` into `target` (the normalized copy, and its plan: where its nested objects are,
 * so a read copies with one spread (`{...o}`, V8's fast object clone) or `slice()` per level
 * instead of walking every key; `undefined` for a primitive). Returns the size the JSON codec
 * would give the value (exact for ASCII strings and bytes at the top, close for the rest), so
 * `maxValueBytes` means the same in every mode. One call, no result object per write.
 */
export function copyInto(target: CopyTarget, value: unknown): number {
  counted = 0;
  try {
    if (typeof value !== 'object' || value === null) {
      target.value = topPrimitiveIn(value);
      target.plan = undefined;
    } else {
      target.value = copyObjectIn(value);
      target.plan = lastPlan;
    }
  } catch {
    // UNCOPYABLE, a throwing getter, or a RangeError: a cycle recurses until the stack overflows
    // (a cycle check per object would cost every write). The store builds the detailed error.
    return UNCOPYABLE_SIZE;
  }
  return counted || 1;
}

/**
 * `copyInto` for a value a codec decoded (the L1's decoded copies): only if the copy is exactly
 * that value again, whatever the codec: plain objects, arrays, Date, bytes, Map, Set and
 * primitives; anything else (a class instance a custom codec revived, another typed array, an
 * object without a prototype) gives `UNCOPYABLE_SIZE`, and the L1 decodes such entries per hit.
 */
export function copyDecoded(target: CopyTarget, value: unknown): number {
  exact = true;
  try {
    return copyInto(target, value);
  } finally {
    exact = false;
  }
}

/** What `copyInto` returns for a value the JSON codec would refuse (function, symbol, cycle, throwing getter, top-level undefined). */
export const UNCOPYABLE_SIZE = -1;
// Thrown (never escapes copyInto) where the walk meets such a value; the store then builds the detailed error.
const UNCOPYABLE = new Error('uncopyable');

// Plan of the object copyObjectIn returned last (set on every return, read right after the call).
let lastPlan: Plan = LEAF[Kind.Plain] as Plan;

export type { Plan } from './copy-plan';

/** Copies a stored value (what `copyInto` put in its target, with its plan) for a reader. */
export function copyOut(stored: unknown, plan: Plan | undefined): unknown {
  return plan === undefined ? stored : copyWith(stored as object, plan);
}

function primitiveIn(value: unknown): unknown {
  const type = typeof value;
  if (type === 'string') counted += (value as string).length + 2;
  else if (refusedLeaf(value) !== undefined) throw UNCOPYABLE;
  else counted += 8;
  return value;
}

// A top-level undefined is refused, as by the codec: `get` answers undefined for a miss.
function topPrimitiveIn(value: unknown): unknown {
  if (value === undefined) throw UNCOPYABLE;
  return primitiveIn(value);
}

function elementIn(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? copyObjectIn(value) : primitiveIn(value);
}

/** True when something (a library, a polyfill) added an enumerable property to Object.prototype: for-in would list it. */
function prototypeEnumerable(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

function copyObjectIn(value: object): unknown {
  counted += 2;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    counted += value.length;
    let plan = LEAF[Kind.Array] as Plan;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) {
        out[i] = copyObjectIn(item);
        plan = extend(plan, i, lastPlan);
      } else {
        out[i] = elementIn(item);
      }
    }
    lastPlan = plan;
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || (proto === null && !exact)) {
    // Spread is V8's fast object clone (and defines "__proto__" as an own key, as JSON.parse does);
    // then copy nested objects and check the rest.
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    // Inherited keys are skipped; they exist only if Object.prototype has enumerable ones (asked
    // once per object, not per key).
    const ownOnly = prototypeEnumerable();
    let plan = LEAF[Kind.Plain] as Plan;
    // for-in over the fresh copy uses its enum cache: no key array per object (about 8% of a write).
    for (const key in out) {
      if (ownOnly && !Object.hasOwn(out, key)) continue;
      const item = out[key];
      counted += key.length + 4;
      if (typeof item === 'object' && item !== null) {
        out[key] = copyObjectIn(item);
        plan = extend(plan, key, lastPlan);
      } else if (typeof item === 'string') counted += item.length + 2;
      else if (refusedLeaf(item) !== undefined) throw UNCOPYABLE;
      else counted += 8;
    }
    // Enumerable symbol-keyed properties survive the spread (JSON would drop them) and keep their
    // values by reference: looking for them (`Object.getOwnPropertySymbols`, ~40 ns per object)
    // cost a quarter of every write, for keys JSON-shaped data never has.
    lastPlan = plan;
    return out;
  }
  if (value instanceof Date) {
    counted += 24;
    lastPlan = LEAF[Kind.Date] as Plan;
    return new Date(value.getTime());
  }
  if (value instanceof Uint8Array && (Buffer.isBuffer(value) || value.constructor === Uint8Array)) {
    // 1 marker byte + the bytes (2 already counted).
    counted += value.byteLength - 1;
    lastPlan = LEAF[Kind.Bytes] as Plan;
    // Kept by the store: in memory of its own, not a slice of Node's pool (see `ownedBytes`).
    return ownedBytes(value);
  }
  if (value instanceof Map) {
    const out = new Map();
    for (const [k, v] of value) out.set(elementIn(k), elementIn(v));
    lastPlan = LEAF[Kind.Other] as Plan;
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    for (const v of value) out.add(elementIn(v));
    lastPlan = LEAF[Kind.Other] as Plan;
    return out;
  }
  if (exact) throw UNCOPYABLE;
  // Rare shapes: let the codec decide, exactly as for a remote driver.
  const payload = jsonCodec.encode(value, '');
  counted += typeof payload === 'string' ? payload.length : payload.byteLength;
  const decoded = jsonCodec.decode(payload, '');
  lastPlan = typeof decoded === 'object' && decoded !== null ? planOf(decoded) : (LEAF[Kind.Other] as Plan);
  return decoded;
}
