import type { Payload } from '../../contract/store';
import type { ExtendedLife } from '../../l1/extension';
import { GRACE, type GracedEntry } from '../../values/entry';
import { headerEnd, metaOf, withExpiry } from '../../values/entry-format';
import type { Engine } from '../engine';
import { storeIfUnchanged } from '../operations/compare-and-set';
import type { View } from '../view';
import type { Miss } from './miss';

// `notModified()`: the stale value's life is extended apart from the value. The stored bytes are
// kept but for the header's expiry and the graced entry's logical expiry, rewritten only if the key
// still holds the bytes read before the loader began (never over another writer's value), and
// every L1 is told the new life instead of dropping its copy (`l1/extension.ts`).

/** How a JSON-codec graced entry's text opens: `{"\u0000grace":` then its logical expiry. */
const GRACE_OPEN = `{${JSON.stringify(GRACE)}:`;

/**
 * `stored` (a JSON-codec graced entry with its metadata header, untagged) with the store expiry
 * `storeTtlMs` from `now` in its header and `freshUntil` as its logical expiry, every other byte
 * kept (bytes are read as UTF-8 text); `undefined` for any other payload (not UTF-8, another codec,
 * a tag section, no header).
 */
export function extendedPayload(
  stored: Payload,
  storeTtlMs: number,
  freshUntil: number,
  now: number,
): string | undefined {
  const text = typeof stored === 'string' ? stored : utf8(stored);
  return text === undefined ? undefined : extendedText(text, storeTtlMs, freshUntil, now);
}

/** `bytes` as text (drivers that answer bytes: memcached), `undefined` when they are not UTF-8 (another codec's). */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function extendedText(stored: string, storeTtlMs: number, freshUntil: number, now: number): string | undefined {
  const end = headerEnd(stored);
  if (end < 0 || metaOf(stored) === undefined || !stored.startsWith(GRACE_OPEN, end + 1)) return undefined;
  const from = end + 1 + GRACE_OPEN.length;
  const comma = stored.indexOf(',', from);
  if (comma < 0 || !/^\d+$/.test(stored.slice(from, comma))) return undefined;
  return withExpiry(`${stored.slice(0, from)}${freshUntil}${stored.slice(comma)}`, storeTtlMs, now) as string;
}

/**
 * Extends the life of the stale entry `miss` read to `ttlMs` (fresh) plus `graceMs` (stale), without
 * rewriting its value: false when its stored form cannot be extended so (the caller stores it
 * again). A store failure is reported (the stale value stands); a compare that fails (another
 * writer's value is there) leaves the store alone.
 */
export async function extendLife<T>(
  engine: Engine,
  view: View,
  miss: Miss<T>,
  stale: GracedEntry,
  ttlMs: number,
  graceMs: number,
): Promise<boolean> {
  const { binding, full, key, expected } = miss;
  const meta = expected === undefined || binding.raw ? undefined : metaOf(expected);
  if (meta === undefined) return false;
  const now = Date.now();
  const freshUntil = now + ttlMs;
  const payload = extendedPayload(expected as Payload, ttlMs + graceMs, freshUntil, now);
  if (payload === undefined) return false;
  const life: ExtendedLife = { writtenAt: meta.writtenAt, expiresAt: now + ttlMs + graceMs, freshUntil };
  const entry: GracedEntry = { [GRACE]: freshUntil, v: stale.v };
  engine.keepGraced(full, entry, graceMs);
  const reads = binding.reads;
  await reads.extending(full, life);
  const token = reads.beginWrite(full);
  try {
    const stored = await storeIfUnchanged(engine, view, binding, key, expected, payload, ttlMs + graceMs, full);
    if (!stored) {
      reads.invalidate(full);
      return true;
    }
    reads.extended(token, full, payload, entry, life);
    engine.events.wrote(view, key);
  } catch (error) {
    // It may have landed: every copy goes.
    reads.changedAll([full]);
    engine.report(view, 'remember', key, error);
  }
  return true;
}
