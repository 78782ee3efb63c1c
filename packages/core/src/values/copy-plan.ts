/*
 * Copy plans of the memory store's clone mode (see clone.ts): where a stored value's nested
 * objects are, so a read copies it with one spread (`{...o}`, V8's fast object clone) or
 * `slice()` per level instead of walking every key. Plans are shared: values of the same shape
 * get the same plan object (interned along the way of the copy-in walk, a step per nested object,
 * like V8's own hidden-class transitions), and a plan read often is compiled into a function of
 * its own. That function's property accesses and spreads each see one shape, so they run on
 * V8's monomorphic fast paths; one shared interpreter sees every shape of the app and falls to
 * its slow paths (a megamorphic object spread goes through the runtime).
 */

/** What kind of object a plan copies. */
export enum Kind {
  Plain,
  Array,
  Date,
  Bytes,
  Other,
}

type Copier = (value: unknown) => unknown;

/**
 * How to copy one stored object: its kind and, for objects and arrays, the key and plan of each
 * nested object. Built as a chain (`parent` + one more nested object), flattened on first use.
 */
export class Plan {
  /** Keys of the nested objects, and their plans (filled by `flatten`). */
  keys: (string | number)[] | undefined = undefined;
  kids: Plan[] | undefined = undefined;
  /** This plan as a function, once compiled (see `copyWith`). */
  copy: Copier | undefined = undefined;
  /** Reads served by the interpreter so far. */
  reads = 0;
  // Last transition taken from this plan: most values of one shape follow it.
  nextKey: string | number | undefined = undefined;
  nextKid: Plan | undefined = undefined;
  next: Plan | undefined = undefined;

  constructor(
    readonly kind: Kind,
    readonly parent: Plan | undefined,
    readonly key: string | number,
    readonly kid: Plan | undefined,
    /** Nested objects in the whole value (all levels). */
    readonly weight: number,
  ) {}
}

/** The plan of each kind with no nested object. */
export const LEAF: readonly Plan[] = [
  new Plan(Kind.Plain, undefined, '', undefined, 1),
  new Plan(Kind.Array, undefined, '', undefined, 1),
  new Plan(Kind.Date, undefined, '', undefined, 1),
  new Plan(Kind.Bytes, undefined, '', undefined, 1),
  new Plan(Kind.Other, undefined, '', undefined, 1),
];

/** Interned plans at most (then the table starts over: plans in use stay valid, only sharing is lost). */
const MAX_PLANS = 4096;
/** Reads by the interpreter before a plan is compiled, and compilations per table generation. */
const COMPILE_AFTER = 4;
const MAX_COMPILED = 512;
/** Larger values are not compiled (their code would be large; the interpreter is fine there). */
const MAX_COMPILED_WEIGHT = 256;
/** Nor are plans whose code would be longer than this (characters; long keys). */
const MAX_COMPILED_SOURCE = 16 * 1024;

let transitions = new Map<Plan, Map<string | number, Map<Plan, Plan>>>();
let interned = 0;
let compiled = 0;
/** False once the platform refused to compile (`--disallow-code-generation-from-strings`, a CSP). */
let canCompile = true;

/** `plan` with one more nested object (`key`, of plan `kid`): the shared plan of that shape. */
export function extend(plan: Plan, key: string | number, kid: Plan): Plan {
  if (plan.nextKey === key && plan.nextKid === kid) return plan.next as Plan;
  let byKey = transitions.get(plan);
  let byKid = byKey?.get(key);
  let next = byKid?.get(kid);
  if (next === undefined) {
    if (++interned > MAX_PLANS) {
      transitions = new Map();
      interned = 1;
      compiled = 0;
      byKey = undefined;
      byKid = undefined;
    }
    next = new Plan(plan.kind, plan, key, kid, plan.weight + kid.weight);
    if (byKey === undefined) {
      byKey = new Map();
      transitions.set(plan, byKey);
    }
    if (byKid === undefined) {
      byKid = new Map();
      byKey.set(key, byKid);
    }
    byKid.set(kid, next);
  }
  plan.nextKey = key;
  plan.nextKid = kid;
  plan.next = next;
  return next;
}

/** Copies `value` by `plan`: compiled once the plan is read often, else interpreted. */
export function copyWith(value: object, plan: Plan): unknown {
  const copy = plan.copy;
  if (copy !== undefined) return copy(value);
  if (++plan.reads === COMPILE_AFTER && canCompile && compiled < MAX_COMPILED && plan.weight <= MAX_COMPILED_WEIGHT) {
    compiled++;
    plan.copy = compile(plan);
    if (plan.copy !== undefined) return plan.copy(value);
  }
  return run(value, plan);
}

/** Fills `keys` and `kids` from the chain. */
function flatten(plan: Plan): void {
  const keys: (string | number)[] = [];
  const kids: Plan[] = [];
  for (let p: Plan | undefined = plan; p?.kid !== undefined; p = p.parent) {
    keys.push(p.key);
    kids.push(p.kid);
  }
  plan.keys = keys.reverse();
  plan.kids = kids.reverse();
}

function run(value: object, plan: Plan): unknown {
  let out: Record<string | number, unknown>;
  switch (plan.kind) {
    case Kind.Plain:
      // Spread defines "__proto__" as an own property, as JSON.parse does.
      out = { ...(value as Record<string, unknown>) };
      break;
    case Kind.Array:
      out = (value as unknown[]).slice() as unknown as Record<number, unknown>;
      break;
    case Kind.Date:
      return new Date((value as Date).getTime());
    case Kind.Bytes:
      return copyBytes(value as Uint8Array);
    default:
      return copyOther(value);
  }
  if (plan.kid === undefined) return out;
  if (plan.keys === undefined) flatten(plan);
  const keys = plan.keys as (string | number)[];
  const kids = plan.kids as Plan[];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string | number;
    out[key] = copyWith(out[key] as object, kids[i] as Plan);
  }
  return out;
}

/**
 * The plan as one function: the same steps as `run`, each property named by a literal
 * (`JSON.stringify` of the key: always a valid, inert string literal). `undefined` when the
 * platform forbids code generation.
 */
function compile(plan: Plan): Copier | undefined {
  const lines: string[] = [];
  let vars = 0;
  const emit = (source: string, p: Plan): string => {
    const out = `o${vars++}`;
    if (p.kind === Kind.Plain) lines.push(`const ${out}={...${source}};`);
    else if (p.kind === Kind.Array) lines.push(`const ${out}=${source}.slice();`);
    else if (p.kind === Kind.Date) lines.push(`const ${out}=new Date(${source}.getTime());`);
    else if (p.kind === Kind.Bytes) lines.push(`const ${out}=copyBytes(${source});`);
    else lines.push(`const ${out}=copyOther(${source});`);
    if ((p.kind !== Kind.Plain && p.kind !== Kind.Array) || p.kid === undefined) return out;
    if (p.keys === undefined) flatten(p);
    const keys = p.keys as (string | number)[];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string | number;
      const at = `${out}[${typeof key === 'number' ? String(key) : JSON.stringify(key)}]`;
      lines.push(`${at}=${emit(at, (p.kids as Plan[])[i] as Plan)};`);
    }
    return out;
  };
  const result = emit('v', plan);
  const body = `${lines.join('')}return ${result};`;
  // Long keys make long code: such a plan stays with the interpreter.
  if (body.length > MAX_COMPILED_SOURCE) return undefined;
  try {
    const factory = new Function('copyBytes', 'copyOther', `return function copy(v){${body}}`);
    return factory(copyBytes, copyOther) as Copier;
  } catch (error) {
    // An EvalError is the platform refusing code generation: stop trying. Anything else concerns this plan only.
    if (error instanceof EvalError) canCompile = false;
    return undefined;
  }
}

/** A copy of the same class: a Buffer stays a Buffer, a Uint8Array a Uint8Array. */
export function copyBytes(value: Uint8Array): Uint8Array {
  return Buffer.isBuffer(value) ? Buffer.from(value) : Uint8Array.prototype.slice.call(value);
}

/**
 * `copyBytes` for bytes kept for an unknown time (a store's or an L1's copy): in memory of their
 * own. `Buffer.from` takes a copy under 4 KB from Node's shared 8 KB pool, and one kept copy
 * keeps its whole slab alive (a 2 KB value held 8 KB); Node's docs advise `allocUnsafeSlow` for
 * bytes retained indefinitely. A Uint8Array's `slice` already allocates exactly.
 */
export function ownedBytes(value: Uint8Array): Uint8Array {
  if (!Buffer.isBuffer(value)) return Uint8Array.prototype.slice.call(value);
  const owned = Buffer.allocUnsafeSlow(value.byteLength);
  owned.set(value);
  return owned;
}

// Map and Set: rare enough to walk.
function copyOther(value: object): unknown {
  if (value instanceof Map) {
    const out = new Map();
    for (const [k, v] of value) out.set(copyAny(k), copyAny(v));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    for (const v of value) out.add(copyAny(v));
    return out;
  }
  return value;
}

function copyAny(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? run(value, planOf(value)) : value;
}

/** The plan of a stored value (one the copy-in made: plain objects, arrays, Date, bytes, Map, Set). */
export function planOf(value: object): Plan {
  if (Array.isArray(value)) {
    let plan = LEAF[Kind.Array] as Plan;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) plan = extend(plan, i, planOf(item));
    }
    return plan;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    let plan = LEAF[Kind.Plain] as Plan;
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) plan = extend(plan, key, planOf(item));
    }
    return plan;
  }
  if (value instanceof Date) return LEAF[Kind.Date] as Plan;
  if (value instanceof Uint8Array) return LEAF[Kind.Bytes] as Plan;
  return LEAF[Kind.Other] as Plan;
}
