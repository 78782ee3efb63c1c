import type { TaggedEntry, TaggedWriteReply, TtlMs } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { setTaggedEntry, type TaggedWrite, writeTagged } from './tag-write';

/**
 * Writes a batch holds at most: the 32nd is sent at once with those before it, so that Redis works
 * on one batch while the client builds the next (sent only at the end of the tick, 64 writes in
 * flight made client and server take turns, as corked plain writes did: cork.ts), and one script
 * call blocks Redis for a bounded time. Measured at 64 in flight, 3 tags a write, 2-core VM
 * (2026-11-26): 33–36k/s flushed at 128 (that is, per tick), 46–50k/s at 16, 49–56k/s at 32 with
 * a tag of its own per key; 48–54k/s at 128 and 51–56k/s at 32 with 3 tags shared by every key.
 */
export const FLUSH_AT = 32;

interface Pending extends TaggedWrite {
  resolve(reply: TaggedWriteReply): void;
  reject(error: unknown): void;
}

/**
 * Joins the tagged writes a process sends in one tick into one script call (SET_TAGGED,
 * tag-write.ts), as the store's gets share an MGET: 64 tagged writes in flight cost one command,
 * one reply and one run of the script's setup, not 64, and tags the writes share are read once. A
 * counter several writes share gets the longest expiry any of them asks (none beats any). A write
 * while none is in flight or queued goes out at once, alone (no added latency when the app is
 * quiet). The queued writes are sent on `process.nextTick`, or before any other command of the
 * primary (`flush`, called by the store's command lane): a write queued here never goes out after
 * a command the process sent later (a `delete` of the same key, an `invalidateTags`).
 */
export class TaggedWriteBatch {
  #queue: Pending[] = [];
  #scheduled = false;
  #inFlight = 0;

  /** `client`: the primary's commands (corked like the store's others). */
  constructor(private readonly client: () => Redis) {}

  /** Writes `entry` at `key` (`CacheStore.setTagged`): alone when idle, else with the tick's other tagged writes. */
  write(key: string, entry: TaggedEntry, ttlMs: TtlMs): Promise<TaggedWriteReply> {
    if (this.#inFlight === 0 && this.#queue.length === 0) {
      this.#inFlight++;
      return setTaggedEntry(this.client(), key, entry, ttlMs, false).then(this.#done, this.#failed);
    }
    return new Promise((resolve, reject) => {
      if (this.#queue.push({ key, entry, ttlMs, resolve, reject }) === FLUSH_AT) return this.flush();
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
    let reply: Promise<TaggedWriteReply[]>;
    try {
      reply = writeTagged(this.client(), queue);
    } catch (error) {
      reply = Promise.reject(error);
    }
    reply.then(
      (replies) => {
        this.#inFlight--;
        for (let i = 0; i < queue.length; i++) (queue[i] as Pending).resolve(replies[i] as TaggedWriteReply);
      },
      (error: unknown) => {
        this.#inFlight--;
        for (const pending of queue) pending.reject(error);
      },
    );
  };

  readonly #done = (reply: TaggedWriteReply): TaggedWriteReply => {
    this.#inFlight--;
    return reply;
  };

  readonly #failed = (error: unknown): never => {
    this.#inFlight--;
    throw error;
  };
}
