import { describe, InvalidTagError } from '../contract/errors';
import type { Payload } from '../contract/store';
import { type Checked, Judged, type TagStamp } from '../values/entry-format';
import { RESERVED_KEY_PREFIX } from '../values/key-policy';

/** Longest tag, in characters. */
export const MAX_TAG_LENGTH = 256;
/** Most tags on one entry (or in one `invalidateTags` call). */
export const MAX_TAGS = 64;
/**
 * One counter per tag holds both kinds of invalidation: a soft one adds 1, a hard one adds
 * `HARD_STEP`. An entry whose recorded version is in another `HARD_STEP` epoch than the counter's
 * was hard-invalidated (a miss); one in the same epoch but lower was soft-invalidated (stale).
 * 2^20 soft invalidations in a row spill into the next epoch: more invalidation, never less.
 */
export const HARD_STEP = 2 ** 20;

// A pattern, not a `charCodeAt` loop: once a class in the process extends String (ioredis's does),
// V8 compiles `tag.charCodeAt` as a generic property load, once per character.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether `tag` holds a C0 or C1 control character or DEL (the tag section's marks are control characters). */
function hasControl(tag: string): boolean {
  return CONTROL.test(tag);
}

/**
 * The tag a scope's entries carry (`Cache.scope`): user tags may not start with the reserved
 * `__larder:` (`InvalidTagError`), so a scope never shares a counter with a user tag. Printable,
 * like the reserved key namespace: memcached would hash a counter key holding control bytes.
 */
export const SCOPE_TAG_PREFIX = `${RESERVED_KEY_PREFIX}scope:`;
/** Longest scope name: its tag (`SCOPE_TAG_PREFIX` + name) stays within `MAX_TAG_LENGTH`. */
export const MAX_SCOPE_NAME_LENGTH = MAX_TAG_LENGTH - SCOPE_TAG_PREFIX.length;

/** Validates tags (`InvalidTagError`) and returns them sorted without duplicates: order and repeats do not matter. */
export function normalizeTags(tags: unknown): readonly string[] {
  if (!Array.isArray(tags)) throw new InvalidTagError(`tags must be an array of strings, got ${describe(tags)}`, tags);
  if (tags.length > MAX_TAGS * 4) throw tooMany(tags.length);
  for (const tag of tags) checkUserTag(tag);
  return sortedUnique(tags as string[]);
}

/** The tag of the scope `name` (see `SCOPE_TAG_PREFIX`); `InvalidTagError` for a name that is not a valid tag or too long. */
export function scopeTag(name: unknown): string {
  checkTag(name, 'a scope name', MAX_SCOPE_NAME_LENGTH);
  return SCOPE_TAG_PREFIX + (name as string);
}

/** The union of two normalized tag lists, normalized; `undefined` when both are empty (an untagged write). */
export function unionTags(a: readonly string[] | undefined, b: readonly string[]): readonly string[] | undefined {
  if (a === undefined || a.length === 0) return b.length === 0 ? undefined : b;
  // Both lists were checked already (and may hold scope tags, which user input may not).
  return b.length === 0 ? a : sortedUnique([...a, ...b]);
}

/** Lists up to this long are sorted in place by insertion (a tagged call's usual 1–5 tags): no Set, no generic sort. */
const SHORT_LIST = 8;

function sortedUnique(tags: readonly string[]): readonly string[] {
  if (tags.length > SHORT_LIST) {
    const unique = [...new Set(tags)].sort();
    if (unique.length > MAX_TAGS) throw tooMany(unique.length);
    return unique;
  }
  // The same order as `sort()`'s (UTF-16 code units), repeats dropped as they meet.
  const out: string[] = [];
  for (const tag of tags) {
    let at = out.length;
    while (at > 0 && (out[at - 1] as string) > tag) at--;
    if (at > 0 && out[at - 1] === tag) continue;
    // Moved up by hand: `splice` would build an array of the removed items on every call.
    out.push(tag);
    for (let i = out.length - 1; i > at; i--) out[i] = out[i - 1] as string;
    out[at] = tag;
  }
  return out;
}

function tooMany(count: number): InvalidTagError {
  return new InvalidTagError(`an entry takes at most ${MAX_TAGS} tags, got ${count}`, count);
}

function checkUserTag(tag: unknown): void {
  checkTag(tag, 'a tag', MAX_TAG_LENGTH);
  if ((tag as string).startsWith(RESERVED_KEY_PREFIX)) {
    throw new InvalidTagError(
      `a tag must not start with the reserved '${RESERVED_KEY_PREFIX}' (scopes live there): ${describe(tag)}`,
      tag,
    );
  }
}

function checkTag(tag: unknown, what: string, max: number): void {
  if (typeof tag !== 'string') throw new InvalidTagError(`${what} must be a string, got ${describe(tag)}`, tag);
  if (tag.length === 0) throw new InvalidTagError(`${what} must not be empty`, tag);
  if (tag.length > max) {
    throw new InvalidTagError(`${what} is at most ${max} characters, got ${tag.length}`, tag.slice(0, 32));
  }
  if (hasControl(tag)) throw new InvalidTagError(`${what} must not hold control characters: ${describe(tag)}`, tag);
}

/** A tagged write's tags as the L1 keeps them: their counter keys, and the L1's tag epoch read before their versions were. */
export interface TaggedWrite {
  readonly keys: readonly string[];
  readonly epoch: number;
}

/** How a recorded version compares with the counter now: `ok`, `soft` (stale), `gone` (a miss: invalidated, or the counter is missing). */
export function verdict(recorded: number, current: number | undefined): 'ok' | 'soft' | 'gone' {
  if (current === undefined || !Number.isFinite(recorded) || current < recorded) return 'gone';
  if (Math.floor(current / HARD_STEP) !== Math.floor(recorded / HARD_STEP)) return 'gone';
  return current === recorded ? 'ok' : 'soft';
}

/** A counter's value read from the store (decimal text, as text or bytes), `undefined` when absent or not a counter. */
export function counterOf(payload: Payload | undefined): number | undefined {
  if (payload === undefined) return undefined;
  // A rawValues store may keep a counter it incremented as a number.
  if (typeof payload === 'number') return Number.isSafeInteger(payload) ? payload : undefined;
  const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('latin1');
  const value = Number(text);
  return text.length > 0 && Number.isSafeInteger(value) ? value : undefined;
}

/** A new counter's first version: a random epoch, so a counter lost and made again never matches what entries recorded from the lost one. */
export function randomStart(): number {
  return HARD_STEP * (1 + Math.floor(Math.random() * 2 ** 32));
}

/** The payload as a read returns it given the counters now: as is (tags current), or `Judged` `soft` or `gone` (a miss). */
export function judged(payload: Payload, stamp: TagStamp, counters: readonly (number | undefined)[]): Checked {
  let soft = false;
  for (let i = 0; i < stamp.tags.length; i++) {
    const state = verdict(stamp.versions[i] as number, counters[i]);
    if (state === 'gone') return new Judged(payload, 'gone');
    if (state === 'soft') soft = true;
  }
  return soft ? new Judged(payload, 'soft') : payload;
}
