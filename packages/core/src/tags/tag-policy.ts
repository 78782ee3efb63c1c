import { describe, InvalidTagError } from '../contract/errors';
import type { Payload } from '../contract/store';

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

/** Whether `tag` holds a C0 or C1 control character or DEL (the tag section's marks are control characters). */
function hasControl(tag: string): boolean {
  for (let i = 0; i < tag.length; i++) {
    const code = tag.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Validates tags (`InvalidTagError`) and returns them sorted without duplicates: order and repeats do not matter. */
export function normalizeTags(tags: unknown): readonly string[] {
  if (!Array.isArray(tags)) throw new InvalidTagError(`tags must be an array of strings, got ${describe(tags)}`, tags);
  if (tags.length > MAX_TAGS * 4) throw tooMany(tags.length);
  for (const tag of tags) checkTag(tag);
  const unique = [...new Set(tags as string[])].sort();
  if (unique.length > MAX_TAGS) throw tooMany(unique.length);
  return unique;
}

/** The union of two normalized tag lists, normalized; `undefined` when both are empty (an untagged write). */
export function unionTags(a: readonly string[] | undefined, b: readonly string[]): readonly string[] | undefined {
  if (a === undefined || a.length === 0) return b.length === 0 ? undefined : b;
  return b.length === 0 ? a : normalizeTags([...a, ...b]);
}

function tooMany(count: number): InvalidTagError {
  return new InvalidTagError(`an entry takes at most ${MAX_TAGS} tags, got ${count}`, count);
}

function checkTag(tag: unknown): void {
  if (typeof tag !== 'string') throw new InvalidTagError(`a tag must be a string, got ${describe(tag)}`, tag);
  if (tag.length === 0) throw new InvalidTagError('a tag must not be empty', tag);
  if (tag.length > MAX_TAG_LENGTH) {
    throw new InvalidTagError(`a tag is at most ${MAX_TAG_LENGTH} characters, got ${tag.length}`, tag.slice(0, 32));
  }
  if (hasControl(tag)) throw new InvalidTagError(`a tag must not hold control characters: ${describe(tag)}`, tag);
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
