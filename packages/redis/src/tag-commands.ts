import { type TaggedEntry, type TaggedRead, type TaggedWriteReply, TickBatcher, type TtlMs } from '@larder/core/driver';
import type { ClientCommands } from './client-commands';
import type { RedisClient } from './options';
import type { ReadRouter } from './read-router';
import { exact } from './replies';
import { LUA_ENTRY as E, evalScript, type LuaScript, script } from './scripts';
import { setTaggedEntry } from './tag-write';
import { TaggedWriteBatch } from './tag-write-batch';
import { asIs } from './write-reports';

/**
 * GET of each key with the tag counters its entry names, in one script (one round trip): per
 * key, the payload (nil when absent), then -1 when the entry is tagged and every counter equals
 * the version it recorded (the common read: the counters are not sent), else the number n of
 * counters and the n counters (0 when untagged). A tagged entry's text starts with its metadata
 * header and then its tag section (core's `ENTRY_FORMAT`, from which the script's marks are
 * built: `\1<written>,<expires>\1\2<tag>\3<version>\4<tag>\3<version>\2`; tags hold no control characters); a counter key is ARGV[1] .. tag.
 * Reads only: it runs on replicas too. Not in Cluster: the counters live on other slots than the
 * entry (core reads them with one more MGET there).
 */
export const GET_TAGGED = script(`
local out = {}
for _, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  out[#out + 1] = v
  local counted = false
  if v and string.byte(v, 1) == ${E.headerByte} then
    local h = string.find(v, '${E.header}', 2, true)
    if h and h <= ${E.maxHeaderIndex} and string.byte(v, h + 1) == ${E.tagsByte} then
      local e = string.find(v, '${E.tags}', h + 2, true)
      local keys, versions = {}, {}
      if e then
        for tag, version in string.gmatch(string.sub(v, h + 2, e - 1), '([^${E.pair}${E.next}]*)${E.pair}([^${E.next}]*)') do
          keys[#keys + 1] = ARGV[1] .. tag
          versions[#versions + 1] = version
        end
      end
      if #keys > 0 then
        local counters = redis.call('MGET', unpack(keys))
        local same = true
        for j = 1, #keys do
          if counters[j] ~= versions[j] then same = false break end
        end
        if same then out[#out + 1] = -1
        else
          out[#out + 1] = #keys
          for j = 1, #keys do out[#out + 1] = counters[j] end
        end
        counted = true
      end
    end
  end
  if not counted then out[#out + 1] = 0 end
end
return out
`);

/**
 * Each counter of KEYS: made at its ARGV[i + 1] when missing (with the expiry ARGV[1] ms, none
 * when empty), else read and, when less than half of ARGV[1] is left, extended to ARGV[1]
 * (never shortened: a longer expiry, or none, stays). Returns the values as decimal text.
 */
const TAG_VERSIONS = script(`
local life = ARGV[1]
local out = {}
for i, key in ipairs(KEYS) do
  local made
  if life == '' then made = redis.call('SET', key, ARGV[i + 1], 'NX')
  else made = redis.call('SET', key, ARGV[i + 1], 'PX', life, 'NX') end
  if made then out[i] = ARGV[i + 1]
  else
    out[i] = redis.call('GET', key)
    if life == '' then redis.call('PERSIST', key)
    else
      local left = redis.call('PTTL', key)
      if left >= 0 and left * 2 < tonumber(life) then redis.call('PEXPIRE', key, life) end
    end
  end
end
return out
`);

/** INCRBY ARGV[1] of each counter of KEYS that exists: a missing counter stays missing (its entries read as misses already). */
const BUMP_TAGS = script(`
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('INCRBY', key, ARGV[1]) end
end
return 1
`);

/** Largest number of keys read by one GET_TAGGED. */
const MAX_BATCH_KEYS = 256;

/** What the tag operations need of the store. */
export interface TagHost {
  /** Chooses the client a read of a key goes to (a replica when allowed). */
  readonly router: ReadRouter;
  /** The clients' commands (corked like the store's). */
  readonly commands: ClientCommands;
  /** The primary. */
  readonly primary: RedisClient;
  /** Checks the primary is up and tells the read router `key` is written (read-your-writes). */
  startWrite(op: string, key: string): void;
  /** Whether CLIENT TRACKING is on for the command connection (an L1 of this process uses it). */
  tracked(): boolean;
  /** Runs a write of `keys` the way the store runs its writes (failures, tracking of this process's L1s). */
  writing<T>(op: string, keys: string[], write: () => Promise<T>): Promise<T>;
  /** `writing` for a write of `key` already sent (`reply`), resolving `result(reply)`, without an async step of its own (write-reports.ts). */
  settled<T, R>(op: string, key: string, reply: Promise<T>, result: (value: T) => R): Promise<R>;
  /** Turns a failure into the store's error. */
  fail(op: string, error: unknown): never;
}

/**
 * The store's tag operations: `getWithTags`, `setTagged`, `tagVersions`, `bumpTags` on single,
 * replicas and Sentinel; in Cluster only the last two, one script per counter (each key on its own
 * slot), and no `getWithTags` nor `setTagged` (an entry's counters live on other slots than the entry).
 */
export function tagOperations(host: TagHost, cluster: boolean) {
  // One batcher per client and tag prefix (caches with other prefixes share the store).
  const batchers = new Map<string, Map<RedisClient, TickBatcher<TaggedRead>>>();
  const run = (client: RedisClient, s: LuaScript, keys: string[], args: (string | number)[]) =>
    evalScript(host.commands.cmd(client), s, keys.length, (keys as (string | number)[]).concat(args));
  // A script over the counters `keys`, with `each(i)` the arguments after the shared ones for key i:
  // one call, or in Cluster one call per key (in parallel), replies joined in order.
  const perCounter = async (
    s: LuaScript,
    keys: string[],
    shared: (string | number)[],
    each: (i: number) => string[],
  ) => {
    if (!cluster)
      return (await run(host.primary, s, keys, [...shared, ...keys.flatMap((_, i) => each(i))])) as unknown[];
    const replies = await Promise.all(keys.map((key, i) => run(host.primary, s, [key], [...shared, ...each(i)])));
    return replies.flatMap((reply) => (Array.isArray(reply) ? reply : [reply]));
  };
  // A payload whose text is not exact is read again as bytes (a msgpack entry, a newer one), with
  // no counters: core reads a tagged one's counters itself.
  const asBytes = (client: RedisClient, key: string): Promise<TaggedRead> =>
    host.commands
      .cmd(client)
      .getBuffer(key)
      .then((bytes: Buffer | null): TaggedRead => [bytes ?? undefined, []]);
  const readMany = (client: RedisClient, prefix: string) => async (keys: string[]) => {
    const reads = splitTagged(await run(client, GET_TAGGED, keys, [prefix]), keys.length);
    return reads.map((read, i) => read ?? asBytes(client, keys[i] as string));
  };
  // A lone read (most reads at low concurrency): promise steps only, no async layers.
  const readOne = (client: RedisClient, prefix: string) => (key: string) =>
    run(client, GET_TAGGED, [key], [prefix]).then((reply) => splitTagged(reply, 1)[0] ?? asBytes(client, key));
  // A tick's tagged writes share one script call; the primary's other commands send them first.
  const writes = new TaggedWriteBatch(
    () => host.commands.cmd(host.primary),
    () => host.commands.sendNow(host.primary),
  );
  if (!cluster) host.commands.beforePrimaryCommand(writes.flush);
  const operations = {
    getWithTags(key: string, tagPrefix: string): Promise<TaggedRead> {
      const client = host.router.clientFor(key);
      let byClient = batchers.get(tagPrefix);
      if (byClient === undefined) {
        byClient = new Map();
        batchers.set(tagPrefix, byClient);
      }
      let batcher = byClient.get(client);
      if (batcher === undefined) {
        // Reads of one tick share a script call, like the store's gets share an MGET.
        batcher = new TickBatcher<TaggedRead>({
          readOne: readOne(client, tagPrefix),
          readMany: readMany(client, tagPrefix),
          maxBatchSize: MAX_BATCH_KEYS,
          sendAloneWhenIdle: true,
          dedupe: false,
        });
        byClient.set(client, batcher);
      }
      return batcher.load(key).catch((error) => host.fail('get', error));
    },
    // Not reported to this process's L1s like a write: reading, making or extending a counter
    // changes no version (a made counter was missing: its entries were misses already).
    async tagVersions(keys: readonly string[], starts: readonly number[], ttlMs: TtlMs): Promise<number[]> {
      const life = ttlMs === undefined ? '' : Math.max(1, Math.ceil(ttlMs));
      try {
        const reply = await perCounter(TAG_VERSIONS, keys as string[], [life], (i) => [String(starts[i])]);
        return reply.map(Number);
      } catch (error) {
        return host.fail('tagVersions', error);
      }
    },
    setTagged(key: string, entry: TaggedEntry, ttlMs: TtlMs): Promise<TaggedWriteReply> {
      try {
        host.startWrite('set', key);
      } catch (error) {
        return Promise.reject(error);
      }
      let reply: Promise<TaggedWriteReply>;
      try {
        // Tracked: the entry is written after the script (setTaggedEntry), one write at a time.
        reply = host.tracked()
          ? setTaggedEntry(host.commands.cmd(host.primary), key, entry, ttlMs, true)
          : writes.write(key, entry, ttlMs);
      } catch (error) {
        // Thrown before anything was sent: still the store's error, as every failed write.
        reply = Promise.reject(error);
      }
      return host.settled('set', key, reply, asIs);
    },
    bumpTags(keys: readonly string[], delta: number): Promise<void> {
      // Read-your-writes: this process reads every tagged entry from the primary for the window
      // (a replica may not have the new versions yet).
      host.router.wroteAll();
      return host.writing('invalidateTags', keys as string[], async () => {
        await perCounter(BUMP_TAGS, keys as string[], [String(delta)], () => []);
      });
    },
  };
  if (!cluster) return operations;
  const { tagVersions, bumpTags } = operations;
  return { tagVersions, bumpTags };
}

/** GET_TAGGED's answer for an entry whose every counter equals the version it recorded. */
const VERIFIED = -1;

/** Splits GET_TAGGED's flat reply over `keyCount` keys; `undefined` for a payload whose text is not exact (read it as bytes). */
function splitTagged(reply: unknown, keyCount: number): (TaggedRead | undefined)[] {
  const flat = reply as (string | number | null)[];
  const out: (TaggedRead | undefined)[] = [];
  let at = 0;
  for (let k = 0; k < keyCount; k++) {
    const text = flat[at++] as string | null;
    const count = Number(flat[at++]);
    let counters: TaggedRead[1] = true;
    if (count !== VERIFIED) {
      counters = flat.slice(at, at + count).map((c) => (c === null ? undefined : String(c)));
      at += count;
    }
    const payload = text === null ? undefined : exact(text);
    out.push(text !== null && payload === undefined ? undefined : [payload, counters]);
  }
  return out;
}
