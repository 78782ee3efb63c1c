import type { TaggedEntry, TaggedWriteReply, TtlMs } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { MAX_CALL_COUNTERS, setTaggedEntry, type TaggedWrite, tooManyCounters, writeTagged } from './tag-write';

/**
 * Writes a batch holds at most: one script call blocks Redis for a bounded time. Measured at 64 in
 * flight, 3 tags a write, 2-core VM (2026-11-26): 33–36k/s flushed at 128 (that is, per tick),
 * 46–50k/s at 16, 49–56k/s at 32 with a tag of its own per key; 48–54k/s at 128 and 51–56k/s at 32
 * with 3 tags shared by every key.
 */
export const FLUSH_AT = 32;

/** `send()`'s promise, or a rejected one when it throws before sending: either way answered once, so the batch's counts stay true. */
function sent<T>(send: () => Promise<T>): Promise<T> {
  try {
    return send();
  } catch (error) {
    return Promise.reject(error);
  }
}

interface Pending extends TaggedWrite {
  resolve(reply: TaggedWriteReply): void;
  reject(error: unknown): void;
}

/**
 * Joins the tagged writes a process sends in one tick into one script call (SET_TAGGED,
 * tag-write.ts), as the store's gets share an MGET: 64 tagged writes in flight cost a few
 * commands, replies and runs of the script's setup, not 64, and tags the writes share are read
 * once. A counter several writes share gets the longest expiry any of them asks (none beats any).
 * A write while none is in flight or queued goes out at once, alone (no added latency when the
 * app is quiet). The queued writes are sent on `process.nextTick`, or before any other command of
 * the primary (`flush`, called by the store's command lane): a write queued here never goes out
 * after a command the process sent later (a `delete` of the same key, an `invalidateTags`).
 *
 * A batch also goes out, at once, when it holds half of the tagged writes outstanding (FLUSH_AT at
 * most). The writes of one batch are answered together and their callers' next writes come back
 * together: batches become convoys that keep their size. Sent whole at the end of the tick, a few
 * large convoys left the client idle while Redis ran one and Redis idle while the client built the
 * next: at 50 in flight (convoys of 32, 17 and 1) tagged sets ran 0.41–0.43× untagged ones, at 10
 * and 32 in flight 0.54×. Cut at half of what is outstanding, and sent without waiting for the
 * turn's end (`sendNow`: the batch is a join already), 0.70× at 50, 0.84× at 10, 0.86× at 32 and
 * 0.77–0.78× at 64 and 100 as before (one process, pinned, 5 rounds, 2026-11-28); a third or a
 * quarter of what is outstanding did worse at 50 to 100.
 */
export class TaggedWriteBatch {
  #queue: Pending[] = [];
  #scheduled = false;
  /** Script calls sent and not answered. */
  #inFlight = 0;
  /** Tagged writes given and not answered (queued ones included). */
  #outstanding = 0;

  /**
   * `client`: the primary's commands (corked like the store's others); `sendNow`: writes what the
   * primary's cork holds now.
   */
  constructor(
    private readonly client: () => Redis,
    private readonly sendNow: () => void,
  ) {}

  /** Writes `entry` at `key` (`CacheStore.setTagged`): alone when idle, else with other tagged writes. */
  write(key: string, entry: TaggedEntry, ttlMs: TtlMs): Promise<TaggedWriteReply> {
    // Refused before it joins a batch, whose other writes would fail with it.
    if (entry.counters.length > MAX_CALL_COUNTERS) return Promise.reject(tooManyCounters(entry.counters.length));
    this.#outstanding++;
    if (this.#inFlight === 0 && this.#queue.length === 0) {
      this.#inFlight++;
      return sent(() => setTaggedEntry(this.client(), key, entry, ttlMs, false)).then(this.#done, this.#failed);
    }
    return new Promise((resolve, reject) => {
      const full = Math.min(FLUSH_AT, Math.ceil(this.#outstanding / 2));
      if (this.#queue.push({ key, entry, ttlMs, resolve, reject }) >= full) {
        this.flush();
        this.sendNow();
        return;
      }
      if (this.#scheduled) return;
      this.#scheduled = true;
      process.nextTick(this.flush);
    });
  }

  /** Sends the queued writes now (nothing when none is queued). */
  readonly flush = (): void => {
    this.#scheduled = false;
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    this.#inFlight++;
    sent(() => writeTagged(this.client(), queue)).then(
      (replies) => {
        this.#answered(queue.length);
        for (let i = 0; i < queue.length; i++) (queue[i] as Pending).resolve(replies[i] as TaggedWriteReply);
      },
      (error: unknown) => {
        this.#answered(queue.length);
        for (const pending of queue) pending.reject(error);
      },
    );
  };

  #answered(writes: number): void {
    this.#inFlight--;
    this.#outstanding -= writes;
  }

  readonly #done = (reply: TaggedWriteReply): TaggedWriteReply => {
    this.#answered(1);
    return reply;
  };

  readonly #failed = (error: unknown): never => {
    this.#answered(1);
    throw error;
  };
}
