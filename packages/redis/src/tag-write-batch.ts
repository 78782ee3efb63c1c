import type { TaggedEntry, TaggedWriteReply, TtlMs } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { LUA_ENTRY as E, script } from './scripts';
import { parseWritten, taggedScript } from './tag-write';

/**
 * The tagged writes of one tick in one script call (SET_TAGGED's semantics, per entry, in one
 * atomic step). ARGV[1] is the number m of distinct counters; counter c's arguments follow from
 * ARGV[5c - 3]: its key, its tag, its start, its expiry in ms ('' for none) and '1' when its
 * expiry is to be checked. Each counter is read (one MGET), made at its start when missing, or
 * extended when less than half of its expiry is left (never shortened), as SET_TAGGED does. Then
 * entry j (KEYS[j]) reads its arguments in order: its own expiry in ms ('' for none), its metadata
 * header, its value, the number k of its counters and their k indices among the m; it is set to
 * header, the tag section of those counters' versions (in that order) and value. Returns per
 * counter its version (as text) and the ms it has left (-1: no expiry; -2: not checked). Counter
 * keys are read from ARGV, not KEYS, as GET_TAGGED does: not for Cluster, where no script writes a
 * tagged entry.
 */
export const SET_TAGGED_MANY = script(`
local m = tonumber(ARGV[1])
local counters, pairs, out = {}, {}, {}
for c = 1, m do counters[c] = ARGV[5 * c - 3] end
local versions = redis.call('MGET', unpack(counters))
for c = 1, m do
  local at = 5 * c - 3
  local key, life = ARGV[at], ARGV[at + 3]
  local v, left = versions[c], -2
  local full = -1
  if life ~= '' then full = tonumber(life) end
  if not v then
    v, left = ARGV[at + 2], full
    if life == '' then redis.call('SET', key, v) else redis.call('SET', key, v, 'PX', life) end
  elseif ARGV[at + 4] == '1' then
    if life == '' then redis.call('PERSIST', key) left = -1
    else
      left = redis.call('PTTL', key)
      if left >= 0 and left * 2 < full then redis.call('PEXPIRE', key, life) left = full end
    end
  end
  out[2 * c - 1], out[2 * c] = v, left
  pairs[c] = ARGV[at + 1] .. '${E.pair}' .. v
end
local at = 2 + 5 * m
for j = 1, #KEYS do
  local k = tonumber(ARGV[at + 3])
  local section = {}
  for t = 1, k do section[t] = pairs[tonumber(ARGV[at + 3 + t])] end
  local value = ARGV[at + 1] .. '${E.tags}' .. table.concat(section, '${E.next}') .. '${E.tags}' .. ARGV[at + 2]
  if ARGV[at] == '' then redis.call('SET', KEYS[j], value) else redis.call('SET', KEYS[j], value, 'PX', ARGV[at]) end
  at = at + 4 + k
end
return out
`);

/**
 * Writes a batch holds at most: the 32nd is sent at once with those before it, so that Redis works
 * on one batch while the client builds the next (sent only at the end of the tick, 64 writes in
 * flight made client and server take turns, as corked plain writes did: cork.ts), and one script
 * call blocks Redis for a bounded time. Measured at 64 in flight, 3 tags a write, 2-core VM
 * (2026-11-26): 33–36k/s flushed at 128 (that is, per tick), 46–50k/s at 16, 49–56k/s at 32 with
 * a tag of its own per key; 48–54k/s at 128 and 51–56k/s at 32 with 3 tags shared by every key.
 */
export const FLUSH_AT = 32;

/** Milliseconds as a script argument: a whole positive number, or '' for none (`Infinity`). */
const ms = (life: number): string => (life === Number.POSITIVE_INFINITY ? '' : String(Math.max(1, Math.ceil(life))));

interface Pending {
  readonly key: string;
  readonly entry: TaggedEntry;
  readonly ttlMs: TtlMs;
  resolve(reply: TaggedWriteReply): void;
  reject(error: unknown): void;
}

/**
 * Joins the tagged writes a process sends in one tick into one script call (SET_TAGGED_MANY), as
 * the store's gets share an MGET: 64 tagged writes in flight cost one command, one reply and one
 * run of the script's setup, not 64, and tags the writes share are read once. A write while none
 * is in flight or queued goes out at once, alone (SET_TAGGED: no added latency when the app is
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
      return taggedScript(this.client(), key, entry, ttlMs, true).then(this.#done, this.#failed);
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
      reply = queue.length === 1 ? this.#one(queue[0] as Pending) : writeMany(this.client(), queue);
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

  #one(pending: Pending): Promise<TaggedWriteReply[]> {
    return taggedScript(this.client(), pending.key, pending.entry, pending.ttlMs, true).then((reply) => [reply]);
  }

  readonly #done = (reply: TaggedWriteReply): TaggedWriteReply => {
    this.#inFlight--;
    return reply;
  };

  readonly #failed = (error: unknown): never => {
    this.#inFlight--;
    throw error;
  };
}

/** One SET_TAGGED_MANY of `writes` (EVAL on the first NOSCRIPT): each write's versions and counter lives. */
function writeMany(c: Redis, writes: readonly Pending[]): Promise<TaggedWriteReply[]> {
  // The distinct counters, each with its tag, the first write's start, the longest expiry any
  // write asks of it (none beats any) and whether any write asks to check it.
  const index = new Map<string, number>();
  const counterArgs: string[] = [];
  const lives: number[] = [];
  const extend: boolean[] = [];
  const entryArgs: string[] = [];
  const keys: string[] = [];
  const positions: number[][] = [];
  for (const { key, entry, ttlMs } of writes) {
    keys.push(key);
    const life = entry.counterTtlMs ?? Number.POSITIVE_INFINITY;
    const count = entry.counters.length;
    entryArgs.push(ttlMs === undefined ? '' : ms(ttlMs), entry.head, entry.tail, String(count));
    const at: number[] = [];
    for (let i = 0; i < count; i++) {
      const counter = entry.counters[i] as string;
      let c = index.get(counter);
      if (c === undefined) {
        c = index.size;
        index.set(counter, c);
        counterArgs.push(counter, entry.tags[i] as string, String(entry.starts[i]));
        lives.push(life);
        extend.push(false);
      } else if (life > (lives[c] as number)) lives[c] = life;
      if (entry.extend[i]) extend[c] = true;
      at.push(c);
      entryArgs.push(String(c + 1));
    }
    positions.push(at);
  }
  const args: string[] = [String(index.size)];
  for (let c = 0; c < index.size; c++) {
    args.push(
      counterArgs[3 * c] as string,
      counterArgs[3 * c + 1] as string,
      counterArgs[3 * c + 2] as string,
      ms(lives[c] as number),
      extend[c] ? '1' : '0',
    );
  }
  for (const arg of entryArgs) args.push(arg);
  const split = (flat: unknown): TaggedWriteReply[] => {
    const all = parseWritten(flat, index.size);
    return positions.map((at) => ({
      versions: at.map((c) => all.versions[c] as number),
      lifeMs: at.map((c) => all.lifeMs[c]),
    }));
  };
  return c.evalsha(SET_TAGGED_MANY.sha, keys.length, ...keys, ...args).then(split, (error: unknown) => {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT'))
      return c.eval(SET_TAGGED_MANY.lua, keys.length, ...keys, ...args).then(split);
    throw error;
  });
}
