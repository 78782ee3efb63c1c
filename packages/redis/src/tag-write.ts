import { ENTRY_FORMAT, sectionOf, type TaggedEntry, type TaggedWriteReply, type TtlMs } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { LUA_ENTRY as E, script } from './scripts';

/**
 * A tagged write in one round trip: the tag counters KEYS[2..] read (MGET), a missing one made at
 * its start, one flagged for it kept at least ARGV[1] ms (none when empty; never shortened), then
 * KEYS[1] set to ARGV[3] (the metadata header), the tag section of the versions and ARGV[4] (the
 * value), kept ARGV[2] ms (none when empty), when ARGV[5] is '1'. Per counter i, ARGV[3 + 3i] is
 * its tag, ARGV[4 + 3i] its start, ARGV[5 + 3i] '1' when its expiry is to be checked. Returns per counter its version (as
 * text) and the ms it has left (-1: no expiry; -2: not checked). The
 * section's marks are core's `ENTRY_FORMAT` (`\2<tag>\3<version>\4<tag>...\2`, core README "Tags"); the versions
 * are read and the entry written atomically, so an invalidation after this call wins over it.
 */
export const SET_TAGGED = script(`
local life = ARGV[1]
local versions = redis.call('MGET', unpack(KEYS, 2))
local section, out = {}, {}
local full = -1
if life ~= '' then full = tonumber(life) end
for i = 1, #KEYS - 1 do
  local key, at = KEYS[i + 1], 3 + 3 * i
  local v, left = versions[i], -2
  if not v then
    v, left = ARGV[at + 1], full
    if life == '' then redis.call('SET', key, v) else redis.call('SET', key, v, 'PX', life) end
  elseif ARGV[at + 2] == '1' then
    if life == '' then redis.call('PERSIST', key) left = -1
    else
      left = redis.call('PTTL', key)
      if left >= 0 and left * 2 < full then redis.call('PEXPIRE', key, life) left = full end
    end
  end
  out[2 * i - 1], out[2 * i] = v, left
  section[i] = ARGV[at] .. '${E.pair}' .. v
end
if ARGV[5] ~= '1' then return out end
local value = ARGV[3] .. '${E.tags}' .. table.concat(section, '${E.next}') .. '${E.tags}' .. ARGV[4]
if ARGV[2] == '' then redis.call('SET', KEYS[1], value) else redis.call('SET', KEYS[1], value, 'PX', ARGV[2]) end
return out
`);

/** Milliseconds as a script argument: a whole positive number, or '' for none. */
const ms = (ttlMs: TtlMs): string => (ttlMs === undefined ? '' : String(Math.max(1, Math.ceil(ttlMs))));

/**
 * `setTagged` on `c`: SET_TAGGED (EVAL on the first NOSCRIPT), the versions the entry recorded
 * and the counters' lives. With `tracked` (CLIENT TRACKING on `c`) the entry is SET after the
 * script instead: Redis 7.0 announces a script's writes to its own connection despite NOLOOP, and
 * that announcement would drop the entry this process's L1 keeps of its own write.
 */
export function setTaggedEntry(
  c: Redis,
  key: string,
  entry: TaggedEntry,
  ttlMs: TtlMs,
  tracked: boolean,
): Promise<TaggedWriteReply> {
  const reply = taggedScript(c, key, entry, ttlMs, !tracked);
  if (!tracked) return reply;
  return reply.then(async (written) => {
    const section = sectionOf({ tags: entry.tags, versions: written.versions });
    const value = `${entry.head}${ENTRY_FORMAT.TAGS_MARK}${section}${ENTRY_FORMAT.TAGS_MARK}${entry.tail}`;
    await (ttlMs === undefined ? c.set(key, value) : c.set(key, value, 'PX', ttlMs));
    return written;
  });
}

/** One SET_TAGGED of `entry` at `key` (EVAL on the first NOSCRIPT); `write`: false reads and makes the counters only. */
export function taggedScript(
  c: Redis,
  key: string,
  entry: TaggedEntry,
  ttlMs: TtlMs,
  write: boolean,
): Promise<TaggedWriteReply> {
  const count = entry.counters.length;
  const keys: string[] = [key, ...entry.counters];
  const args: string[] = [ms(entry.counterTtlMs), ms(ttlMs), entry.head, entry.tail, write ? '1' : '0'];
  for (let i = 0; i < count; i++)
    args.push(entry.tags[i] as string, String(entry.starts[i]), entry.extend[i] ? '1' : '0');
  return c.evalsha(SET_TAGGED.sha, keys.length, ...keys, ...args).then(
    (flat) => parseWritten(flat, count),
    (error: unknown) => {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT'))
        return c.eval(SET_TAGGED.lua, keys.length, ...keys, ...args).then((flat) => parseWritten(flat, count));
      throw error;
    },
  );
}

/** The versions and counter lives SET_TAGGED answered, as pairs. */
export function parseWritten(flat: unknown, count: number): TaggedWriteReply {
  const pairs = flat as (string | number)[];
  const versions: number[] = [];
  const lifeMs: (number | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    versions.push(Number(pairs[2 * i]));
    const left = Number(pairs[2 * i + 1]);
    lifeMs.push(left === -1 ? Number.POSITIVE_INFINITY : left < 0 ? undefined : left);
  }
  return { versions, lifeMs };
}
