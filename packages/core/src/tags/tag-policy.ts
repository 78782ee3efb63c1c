import { describe, InvalidTagError } from '../contract/errors';
import type { Payload } from '../contract/store';
import { TAGS_MARK, type TagMark, tagSectionOf, tagSectionStart } from '../values/entry-meta';

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

/** An entry's tags and the counter versions it recorded before it was computed. */
export interface TagStamp {
  readonly tags: readonly string[];
  readonly versions: readonly number[];
}

const PAIR = '\u0003';
const NEXT = '\u0004';
const PAIR_CODE = 3;
const NEXT_CODE = 4;
const CLOSE_CODE = TAGS_MARK.charCodeAt(0);

/** The tag section's text of a stamp (see `entry-meta.ts`). */
export function sectionOf(stamp: TagStamp): string {
  let text = '';
  for (let i = 0; i < stamp.tags.length; i++) {
    text += `${i === 0 ? '' : NEXT}${stamp.tags[i]}${PAIR}${stamp.versions[i]}`;
  }
  return text;
}

/** At most how many UTF-8 bytes the tag section of `tags` takes, marks included (a version has at most 16 digits). */
export function sectionBytesBound(tags: readonly string[]): number {
  let bytes = 2;
  for (const tag of tags) bytes += tag.length * 3 + 2 + 16;
  return bytes;
}

/** The stamp a tagged payload carries (and whether a read marked it soft-invalidated), `undefined` when untagged. */
export function stampOf(payload: Payload): (TagStamp & { mark: TagMark | undefined }) | undefined {
  const section = tagSectionOf(payload);
  if (section === undefined) return undefined;
  const tags: string[] = [];
  const versions: number[] = [];
  for (const pair of section.text.split(NEXT)) {
    const at = pair.lastIndexOf(PAIR);
    tags.push(pair.slice(0, at));
    versions.push(Number(pair.slice(at + 1)));
  }
  return { tags, versions, mark: section.mark };
}

/**
 * Whether a text payload's tag section names exactly the counter keys `keys` (`prefix` + tag, in
 * order), each with the version `read[i + 1]` holds (decimal text, as the store answers it): the
 * common read of a tagged entry, decided without parsing numbers or allocating. `false` decides
 * nothing: the caller then judges with `stampOf` and `verdict`.
 */
export function sectionMatches(
  payload: string,
  prefix: string,
  keys: readonly string[],
  read: readonly (Payload | undefined)[],
): boolean {
  let at = tagSectionStart(payload);
  if (at < 0 || keys.length === 0) return false;
  const last = keys.length - 1;
  for (let i = 0; i <= last; i++) {
    const key = keys[i] as string;
    const counter = read[i + 1];
    if (typeof counter !== 'string' || counter.length === 0) return false;
    // The tag (the key past the prefix; tags hold no control characters), the PAIR mark, the version.
    for (let j = prefix.length; j < key.length; j++, at++)
      if (payload.charCodeAt(at) !== key.charCodeAt(j)) return false;
    if (payload.charCodeAt(at) !== PAIR_CODE || !payload.startsWith(counter, at + 1)) return false;
    at += 1 + counter.length;
    if (payload.charCodeAt(at) !== (i === last ? CLOSE_CODE : NEXT_CODE)) return false;
    at++;
  }
  return true;
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
