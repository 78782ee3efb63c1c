import type { Cache } from '@larder/core';
import { commandCalls, type InfoReader, readRedisInfo } from './redis-counters';

/** What writes of one key held by every instance's L1 cost (see `hotKeyWrites`). */
export interface HotKeyFigures {
  /** Time from a write to the moment the last instance's L1 dropped the old value, ms, sorted. */
  delaysMs: number[];
  /** Reads of the store (GET, MGET) per write while no caller reads: the re-reads the invalidation caused. */
  storeReadsPerWrite: number;
}

// Reads Redis counts that no caller made: the lease renewals' compare-and-set script reads its key with
// one GET (packages/redis/src/compare-and-set.ts), and commandstats counts a script's commands too.
const READS = ['get', 'mget', 'getex'];
const SCRIPTS = ['evalsha', 'eval'];
const GIVE_UP_MS = 10_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Entries in each instance's L1 now. */
const entries = (fleet: readonly Cache[]) =>
  Promise.all(fleet.map(async (cache) => (await cache.describeL1())?.entries ?? 0));

/**
 * `write(-1)` stores `key`; then `writes` times: every instance reads `key` (its L1 holds it), then `write()` changes it in the
 * store (a separate client's SET: tracking or the bus tells the instances), and the instances are
 * polled, every event-loop turn, for their L1's entry count until each has dropped the key — the
 * last one's drop is the delay (it no longer serves the old value). Nobody reads meanwhile, so the
 * store reads Redis counts between the write and the last drop (INFO commandstats, less the lease
 * renewals' scripted GETs) are the ones the invalidation itself made.
 */
export async function hotKeyWrites(
  fleet: readonly Cache[],
  key: string,
  write: (round: number) => Promise<unknown>,
  stats: InfoReader,
  writes: number,
): Promise<HotKeyFigures> {
  const delaysMs: number[] = [];
  let reads = 0;
  await write(-1);
  for (let round = 0; round < writes; round++) {
    // A miss is not kept: each read must find the value for its L1 to hold it.
    const read = await Promise.all(fleet.map((cache) => cache.get(key)));
    if (read.some((value) => value === undefined)) throw new Error(`an instance found no ${key} in the store`);
    const held = await entries(fleet);
    const before = await readRedisInfo(stats, 'commandstats');
    const started = performance.now();
    await write(round);
    const pending = new Set(fleet.keys());
    while (pending.size > 0) {
      if (performance.now() - started > GIVE_UP_MS)
        throw new Error(
          `${pending.size} of ${fleet.length} instances still hold ${key} ${GIVE_UP_MS} ms after its write`,
        );
      await nextTurn();
      const now = await entries(fleet);
      for (const i of pending) if ((now[i] as number) < (held[i] as number)) pending.delete(i);
    }
    delaysMs.push(performance.now() - started);
    const after = await readRedisInfo(stats, 'commandstats');
    const made = (commands: readonly string[]) => commandCalls(after, commands) - commandCalls(before, commands);
    reads += made(READS) - made(SCRIPTS);
  }
  delaysMs.sort((a, b) => a - b);
  return { delaysMs, storeReadsPerWrite: reads / writes };
}
