import type { Cache } from '@larder/core';
import { UnsupportedOperationError } from '@larder/core';
import { decodeEnvelope, inflate, type SessionData } from './envelope';
import { followExpiry } from './expiry';

/** Rejects with `UnsupportedOperationError` naming the driver when it cannot enumerate its keys. */
export async function requireEnumeration(cache: Cache, operation: string): Promise<void> {
  const store = await cache.getStore();
  if (typeof store.keys !== 'function') {
    throw new UnsupportedOperationError(
      operation,
      store.driver,
      'the session store can only list or clear sessions on a driver that enumerates its keys',
    );
  }
}

/** Every session id under the session namespace. */
export async function listIds(cache: Cache, sessions: Cache): Promise<string[]> {
  await requireEnumeration(cache, 'listing sessions');
  const ids: string[] = [];
  for await (const key of sessions.keys()) ids.push(key);
  return ids;
}

/** The live sessions among `ids`, each with its `id` and the latest expiry known (`knownExpiry(sid, data)`). */
export async function readSessions(
  sessions: Cache,
  ids: readonly string[],
  knownExpiry: (sid: string, data: string) => number | undefined,
): Promise<SessionData[]> {
  const found: SessionData[] = [];
  const now = Date.now();
  for (const sid of ids) {
    const stored = await sessions.get<unknown>(sid);
    if (stored === undefined) continue;
    const envelope = decodeEnvelope(stored, sid);
    const session = inflate(envelope, sid);
    const known = knownExpiry(sid, envelope.data) ?? envelope.writtenExpiry;
    if (followExpiry(session, Math.max(known, envelope.writtenExpiry), now)) {
      found.push(Object.assign(session, { id: sid }));
    }
  }
  return found;
}
