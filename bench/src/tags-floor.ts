/**
 * The tags scenario's floor rows' scripts, and the floor under larder's own tagged write: raw
 * ioredis sending the Redis driver's SET_TAGGED script with the arguments larder sends, built by
 * the row from the key and its tags (a few concatenations, as the floor script's row names its
 * counters; no facade, no driver, nothing parsed). What the stored format costs client and server
 * at least; a tagged set's distance from it is larder's client work.
 */
import type { Redis } from 'ioredis';
// The script's text from the driver's source (the package exports no script): the row runs what larder runs.
import { SET_TAGGED } from '../../packages/redis/src/tag-write';

/** The least a one-command tagged read costs: the entry and its counters, named by the caller (no parsing). */
export const GET_WITH_COUNTERS = `local v = redis.call('GET', KEYS[1])
local c = redis.call('MGET', KEYS[2], KEYS[3], KEYS[4])
return {v, c[1], c[2], c[3]}`;

/** The least a one-command tagged write costs: the counters read and the entry written with them, atomically. */
export const SET_WITH_COUNTERS = `local c = redis.call('MGET', KEYS[2], KEYS[3], KEYS[4])
return redis.call('SET', KEYS[1], c[1] .. c[2] .. c[3] .. ARGV[1], 'PX', ARGV[2])`;

export const RAW_SET_TAGGED = "floor: raw ioredis EVALSHA of larder's SET_TAGGED with its arguments";

/** Loads SET_TAGGED on `raw`'s server: its SHA. */
export const loadSetTagged = async (raw: Redis): Promise<string> =>
  (await raw.script('LOAD', SET_TAGGED.lua)) as string;

/** Counter indices 1..3 as SET_TAGGED reads them: two bytes of 7 bits each. */
const INDICES = '\u0000\u0001\u0000\u0002\u0000\u0003';

/**
 * One SET_TAGGED call writing `json` at `raw:<name>` tagged `tags` (3), kept `ttlMs`, its
 * counters at `raw:tag:<tag>` kept twice as long and not checked (as a process that made them
 * lately sends them); the header is a fixed one of larder's shape.
 */
export function setTaggedFloor(
  raw: Redis,
  sha: string,
  name: string,
  tags: readonly string[],
  json: string,
  ttlMs: number,
): Promise<unknown> {
  const life = String(2 * ttlMs);
  const args: string[] = [sha, '1', `raw:${name}`, String(tags.length), '1048576'];
  for (const tag of tags) args.push(`raw:tag:${tag}`, tag, life);
  args.push(`${ttlMs}:${INDICES.slice(0, 2 * tags.length)}`, '\u0001mx1b7jcr,mx1b7m4r\u0001', json);
  return raw.evalsha(...(args as [string, string, ...string[]]));
}
