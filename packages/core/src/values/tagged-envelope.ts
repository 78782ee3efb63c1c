import type { Payload } from '../contract/store';
import { softStale } from './entry';
import { type Checked, Judged, META_MARK } from './entry-format';
import { ENVELOPE_ENTRY_KEY } from './json-walk';

/**
 * A rawValues store (the memory driver's copies and references) keeps values as given: there is
 * no payload to carry a tag section. A tagged entry is kept there as this envelope instead: an
 * object whose two reserved own keys (`TAGGED_KEY`, `ENVELOPE_ENTRY_KEY`) hold the entry's metadata header and tag section as the JSON
 * codec writes them (without a body) and the stored entry itself, as given. The store copies the
 * envelope like any value (or keeps its references with `clone: false`), so a tagged value reads
 * back as an untagged one does, without a JSON round trip at each read. Like the grace envelope
 * (`entry.ts`) the keys start with NUL; an object is read as an envelope only when its text key
 * holds text opening with the header mark, so a user object is never mistaken for one in practice.
 */
export const TAGGED_KEY = '\u0000larder:tagged';

/** The envelope a rawValues store keeps for a tagged entry: its header and tag section (`text`) and the entry. */
export function envelope(text: string, entry: unknown): Payload {
  return { [TAGGED_KEY]: text, [ENVELOPE_ENTRY_KEY]: entry } as unknown as Payload;
}

/** The header and tag section of a tagged entry's envelope, `undefined` for any other value. */
export function envelopeText(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const text = (value as Record<string, unknown>)[TAGGED_KEY];
  return typeof text === 'string' && text.startsWith(META_MARK) ? text : undefined;
}

/** The stored entry of an envelope once its text's tags were checked (`TagState.check`): `undefined` when judged gone, stale when soft. */
export function openedEntry(checked: Checked | undefined, read: Payload): Payload | undefined {
  if (checked === undefined) return undefined;
  const entry = (read as unknown as Record<string, unknown>)[ENVELOPE_ENTRY_KEY];
  if (!(checked instanceof Judged)) return entry as Payload;
  return checked.verdict === 'gone' ? undefined : (softStale(entry) as unknown as Payload);
}
