import type { Payload } from '../contract/store';
import { jsonCodec } from './codec';
import { softStale } from './entry';
import { type Checked, decodeEntry, META_MARK } from './entry-format';

/**
 * A rawValues store (the memory driver's copies and references) keeps values as given: there is
 * no payload to carry a tag section. A tagged entry is kept there as this envelope instead: an
 * object whose one reserved own key holds the entry as the JSON codec writes it (metadata header,
 * tag section, JSON). Like the grace envelope (`entry.ts`) the key starts with NUL; an object is
 * read as an envelope only when that key holds text opening with the header mark, so a user
 * object is never mistaken for one in practice.
 */
export const TAGGED_KEY = '\u0000larder:tagged';

/** The envelope a rawValues store keeps for a tagged entry's encoded text. */
export function envelope(text: string): Payload {
  return { [TAGGED_KEY]: text } as unknown as Payload;
}

/** The encoded text of a tagged entry's envelope, `undefined` for any other value. */
export function envelopeText(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const text = (value as Record<string, unknown>)[TAGGED_KEY];
  return typeof text === 'string' && text.startsWith(META_MARK) ? text : undefined;
}

/** The stored entry of an envelope's text once its tags were checked (`TagState.check`): `undefined` when judged gone, stale when soft. */
export function openedEntry(checked: Checked, key: string): Payload | undefined {
  return decodeEntry(checked, jsonCodec, key, softStale) as Payload | undefined;
}
