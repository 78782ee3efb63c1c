import { randomUUID } from 'node:crypto';
import { RESERVED_KEY_PREFIX } from '../../values/key-policy';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import type { Loader } from '../options';
import type { View } from '../view';
import { loadAndStore } from './load';
import { backgroundSlot } from './load-limit';
import { decodeOrMiss, newMiss } from './miss';
import type { RememberPolicy } from './policy';

// `remember`'s `refreshAhead: { at, jitter }`: a hit older than `at` of its TTL (minus a random
// share up to `jitter`) starts one background refresh before the value expires, so a hot key
// never reaches its TTL boundary. One instance of the fleet refreshes: the one whose atomic `add`
// of a claim (`__larder:refresh:<key>`) lands, without waiting; it re-reads the store first and
// adopts an entry another instance wrote after the one its hit saw. Its value goes through the
// never-stale write, like every background completion.

/** On a fresh hit written at `writtenAt`: starts the key's refresh-ahead when the hit is old enough and none runs in this process. */
export function refreshAheadOnHit<T>(
  engine: Engine,
  view: View,
  binding: Binding,
  key: string,
  loader: Loader<T>,
  policy: RememberPolicy,
  writtenAt: number | undefined,
): void {
  const ahead = policy.refreshAhead;
  const ttlMs = policy.ttlMs;
  if (ahead === undefined || ttlMs === undefined || writtenAt === undefined) return;
  if (Date.now() - writtenAt < ttlMs * (ahead.at - Math.random() * ahead.jitter)) return;
  const full = engine.full(view, key);
  // Its own flight: a miss of the key never joins a refresh that returns nothing.
  const flight = `${full}\u0000ahead`;
  if (engine.inFlight(flight)) return;
  const free = backgroundSlot(engine, policy.maxConcurrentLoads);
  if (free === undefined) return;
  engine
    .flight(flight, () => refresh(engine, view, binding, key, full, loader, policy, writtenAt))
    .catch((error) => engine.report(view, 'remember', key, error))
    .finally(free);
}

/** The refresh, once claimed: re-read, adopt a newer entry, else load and store it only over what was read. */
async function refresh<T>(
  engine: Engine,
  view: View,
  binding: Binding,
  key: string,
  full: string,
  loader: Loader<T>,
  policy: RememberPolicy,
  seenWrittenAt: number,
): Promise<void> {
  const claim = `${engine.basePrefix}${RESERVED_KEY_PREFIX}refresh:${view.path}${key}`;
  const owner = engine.values.encodeOwner(randomUUID(), claim);
  const claimMs = Math.max(1, seenWrittenAt + (policy.ttlMs as number) - Date.now());
  const claimed = await engine.send('remember', (store) =>
    store.add ? store.add(claim, owner, claimMs) : Promise.resolve(true),
  );
  if (!claimed) return;
  try {
    const fetched = await binding.reads.read(full, key, (payload) => decodeOrMiss(engine, view, payload, key));
    if (fetched.failed) throw fetched.error;
    const stored =
      fetched.payload === undefined
        ? undefined
        : (binding.reads.writtenAt(fetched.payload) ?? binding.writtenAt?.(full));
    // Another instance refreshed already: the read adopted its entry (the L1 keeps it).
    if (stored !== undefined && stored > seenWrittenAt) return;
    const miss = newMiss(binding, full, key, loader, policy, undefined);
    miss.expected = fetched.payload;
    await loadAndStore(engine, view, miss);
  } finally {
    const store = binding.store;
    if (store.compareAndDelete)
      await engine
        .send('remember', () =>
          (store.compareAndDelete as NonNullable<typeof store.compareAndDelete>).call(store, claim, owner),
        )
        .catch(() => false);
  }
}
