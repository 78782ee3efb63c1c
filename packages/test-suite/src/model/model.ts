import { inspect, isDeepStrictEqual } from 'node:util';

/**
 * The reference model of the facade: what `Cache` must answer, per the documented semantics
 * (core's README "API" and `contract/store.ts`), given real-time expiry measured to a precision.
 *
 * Time is the real clock (`performance.now()`): a call is known only to have run somewhere in
 * `[start, end]`, and an expiry only to fall in `[lo, hi]` (its TTL ± the driver's precision).
 * So the model keeps, per key, every state the backend could be in ("worlds"). A call's answer
 * must match one of them, and keeps only the worlds that agree with it: a read inside the
 * uncertainty window around an expiry matches either side, and what it saw decides the rest.
 */

/** A value the model stores (JSON-like: what every codec round-trips). */
export type ModelValue = null | boolean | number | string | ModelValue[] | { [key: string]: ModelValue };

/** When a call ran: somewhere between `start` and `end` (`performance.now()` ms). */
export interface Window {
  start: number;
  end: number;
}

/** Expiry of a present entry: some instant in `[lo, hi]`, or never (`undefined`). */
type Expiry = { lo: number; hi: number } | undefined;

/**
 * One state a key can be in. A tagged entry whose tag was invalidated is a tombstone (`tomb`):
 * absent for reads, `add` and `increment`, still held by the store for `delete`, `deleteMany`
 * and `touch` until it expires (core README "Tags").
 */
type World =
  | { present: false; tomb?: undefined }
  | { present: false; tomb: true; expiry: Expiry }
  | {
      present: true;
      value: ModelValue;
      expiry: Expiry;
      tags?: readonly string[];
      /** Written by `increment`: plain text, no metadata header. */
      counter?: true;
      /** The expiry its header still names after an in-place `touch` (the `touchKeepsHeaderExpiry` limit). */
      header?: { expiry: Expiry };
    };

/** The state a key is in when a call runs: expiry resolved to live or gone. */
type Live = World;

/** What a call answered: a value, or a rejection with a `LarderError`. */
export type Answer = { value: unknown } | { rejected: string };

/** One possible answer of a call on one key, and the key's state after it. */
interface Branch {
  answer: Answer;
  next: World;
}

const ABSENT: World = { present: false };

/** Expiry uncertainty: the driver's precision, plus slack for clock reads around the call. */
export interface Precision {
  /** The driver's expiry precision in ms (`capabilities.ttlPrecisionMs` or the suite's override). */
  precisionMs: number;
  /** Extra ms on both sides for measuring the call from outside. */
  slackMs: number;
}

/** Thrown when the store's answer matches no state of the model. */
export class ModelMismatch extends Error {
  override name = 'ModelMismatch';
}

/** Documented driver limits the model allows (see the suite's `limits` option). */
export interface ModelLimits {
  /** An `increment` of a present counter may give it the call's TTL instead of keeping its expiry. */
  counterTakesCallTtl?: boolean;
  /** `touch` leaves the header's expiry as written, and `increment` of a number `set` wrote keeps that one. */
  touchKeepsHeaderExpiry?: boolean;
}

/** Per-key sets of possible states, checked and narrowed by each answer. */
export class ReferenceModel {
  readonly #worlds = new Map<string, World[]>();

  constructor(
    readonly precision: Precision,
    readonly limits: ModelLimits = {},
  ) {}

  /** The expiry a write with `ttlMs` made during `window` gets (`undefined` = never). */
  expiryOf(ttlMs: number | undefined, window: Window): Expiry {
    if (ttlMs === undefined) return undefined;
    const margin = this.precision.precisionMs + this.precision.slackMs;
    return { lo: window.start + ttlMs - margin, hi: window.end + ttlMs + margin };
  }

  /** A write that does not depend on the previous state (`set`, `forever`, `setMany`). */
  write(key: string, value: ModelValue, ttlMs: number | undefined, window: Window, tags?: readonly string[]): void {
    const expiry = this.expiryOf(ttlMs, window);
    this.#worlds.set(key, [
      tags === undefined ? { present: true, value, expiry } : { present: true, value, expiry, tags },
    ]);
  }

  /** `invalidateTags` (hard): every entry carrying one of `tags` becomes a tombstone. */
  invalidateTags(tags: readonly string[]): void {
    for (const [key, worlds] of this.#worlds) {
      const next: World[] = worlds.map((world) =>
        world.present && world.tags?.some((tag) => tags.includes(tag))
          ? { present: false, tomb: true, expiry: world.expiry }
          : world,
      );
      this.#worlds.set(key, next);
    }
  }

  /** `get`: the value when present. */
  get(key: string, window: Window, actual: Answer): void {
    this.#step(key, window, actual, (live) => ({
      answer: { value: live.present ? live.value : undefined },
      next: live,
    }));
  }

  /** `has`: true when present (a stored `null` is present). */
  has(key: string, window: Window, actual: Answer): void {
    this.#step(key, window, actual, (live) => ({ answer: { value: live.present }, next: live }));
  }

  /** `delete`: true if it was present; absent after. */
  delete(key: string, window: Window, actual: Answer): void {
    this.#step(key, window, actual, (live) => ({ answer: { value: held(live) }, next: ABSENT }));
  }

  /** `pull`: the value when present; absent after. */
  pull(key: string, window: Window, actual: Answer): void {
    this.#step(key, window, actual, (live) => ({
      answer: { value: live.present ? live.value : undefined },
      next: ABSENT,
    }));
  }

  /** `add`: stores (true) only when absent; a present key is left as it was (false). */
  add(key: string, value: ModelValue, ttlMs: number | undefined, window: Window, actual: Answer): void {
    this.#step(key, window, actual, (live) =>
      live.present
        ? { answer: { value: false }, next: live }
        : { answer: { value: true }, next: { present: true, value, expiry: this.expiryOf(ttlMs, window) } },
    );
  }

  /**
   * `increment` (and `decrement` as a negative `by`): a missing key starts at 0 and gets the TTL;
   * a present integer keeps its expiry (or, with the `counterTakesCallTtl` limit, may get the
   * call's TTL); any other stored value rejects and stays as it was.
   */
  increment(key: string, by: number, ttlMs: number | undefined, window: Window, actual: Answer): void {
    this.#step(key, window, actual, (live) => {
      if (!live.present) {
        const next: World = { present: true, value: by, expiry: this.expiryOf(ttlMs, window), counter: true };
        return { answer: { value: by }, next };
      }
      if (typeof live.value === 'number' && Number.isSafeInteger(live.value)) {
        const value = live.value + by;
        // A counter carries no tags (the first increment rewrites a tagged number as plain text,
        // with the expiry its header names).
        const expiry = live.header ? live.header.expiry : live.expiry;
        const kept: Branch = { answer: { value }, next: { present: true, value, expiry, counter: true } };
        if (!this.limits.counterTakesCallTtl) return kept;
        const next: World = { present: true, value, expiry: this.expiryOf(ttlMs, window), counter: true };
        return [kept, { answer: { value }, next }];
      }
      return { answer: { rejected: 'LarderError' }, next: live };
    });
  }

  /** `touch`: a present key gets the new expiry (true); an absent one stays absent (false). */
  touch(key: string, ttlMs: number | undefined, window: Window, actual: Answer): void {
    this.#step(key, window, actual, (live) => {
      if (!held(live)) return { answer: { value: false }, next: ABSENT };
      const expiry = this.expiryOf(ttlMs, window);
      // Touched in place: an entry with a header (not a counter) keeps the expiry it names.
      if (live.present && this.limits.touchKeepsHeaderExpiry && !live.counter) {
        return { answer: { value: true }, next: { ...live, expiry, header: live.header ?? { expiry: live.expiry } } };
      }
      return { answer: { value: true }, next: { ...live, expiry } as World };
    });
  }

  /**
   * `deleteMany`: the count of distinct keys that were present, within what the model allows;
   * every key is absent after.
   */
  deleteMany(keys: readonly string[], window: Window, count: number): void {
    const distinct = [...new Set(keys)];
    let least = 0;
    let most = 0;
    for (const key of distinct) {
      const states = this.#states(key, window);
      if (states.every(held)) least += 1;
      if (states.some(held)) most += 1;
    }
    if (!(Number.isInteger(count) && count >= least && count <= most)) {
      throw new ModelMismatch(
        `deleteMany(${JSON.stringify(distinct)}) answered ${String(count)}; the model allows ${least}..${most}`,
      );
    }
    for (const key of distinct) this.#worlds.set(key, [ABSENT]);
  }

  /** What the model allows for `key` now, for failure messages. */
  describe(key: string, window: Window): string {
    return this.#states(key, window)
      .map((live) => (live.present ? `present ${showAnswer({ value: live.value })}` : 'absent'))
      .join(' | ');
  }

  /** Applies `branch` to every state the key can be in; keeps those whose answer matches `actual`. */
  #step(key: string, window: Window, actual: Answer, branch: (live: Live) => Branch | Branch[]): void {
    const branches = this.#states(key, window).flatMap(branch);
    const kept: World[] = [];
    for (const { answer, next } of branches) {
      if (sameAnswer(answer, actual) && !kept.some((world) => isDeepStrictEqual(world, next))) kept.push(next);
    }
    if (kept.length === 0) {
      const allowed = branches.map(({ answer }) => showAnswer(answer)).join(' or ');
      throw new ModelMismatch(`key '${key}': store answered ${showAnswer(actual)}; the model allows ${allowed}`);
    }
    this.#worlds.set(key, kept);
  }

  /** Every state `key` can be in during `window`: each world, live or (if its expiry may have passed) gone. */
  #states(key: string, window: Window): Live[] {
    const states: Live[] = [];
    for (const world of this.#worlds.get(key) ?? [ABSENT]) {
      if ((!world.present && !world.tomb) || world.expiry === undefined) {
        states.push(world);
        continue;
      }
      // Live if the call may have run before the expiry; gone if it may have run after it.
      if (window.start < world.expiry.hi) states.push(world);
      if (window.end >= world.expiry.lo && !states.some((state) => !state.present && !state.tomb)) states.push(ABSENT);
    }
    return states;
  }
}

/** Whether the store holds the key: an entry, or a tombstone (see `World`). */
function held(live: Live): boolean {
  return live.present || live.tomb === true;
}

function sameAnswer(expected: Answer, actual: Answer): boolean {
  if ('rejected' in expected) return 'rejected' in actual;
  return 'value' in actual && isDeepStrictEqual(expected.value, actual.value);
}

/** An answer as text for failure messages. */
export function showAnswer(answer: Answer): string {
  if ('rejected' in answer) return `a rejection (${answer.rejected})`;
  // inspect, not JSON: it shows -0, undefined inside arrays and strings apart from numbers.
  return inspect(answer.value, { depth: 4, breakLength: Number.POSITIVE_INFINITY });
}
