import { createHash } from 'node:crypto';
import type { Payload, TtlMs } from '@larder/core';
import type { RedisClient } from './options';
import { type LuaScript, runScript } from './scripts';

/**
 * SET only if the stored value's SHA-1 is ARGV[1] ('' = the key must be absent), with PX ARGV[3]
 * when given. One key, so it runs on the slot's node in Cluster (no CROSSSLOT). The expected value
 * travels as its 40-hex digest, not as itself: a session envelope of a few KB is sent once (the new
 * value), not twice (measured in the README).
 */
const COMPARE_AND_SET: LuaScript = (() => {
  const lua = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if current then return 0 end
elseif not current or redis.sha1hex(current) ~= ARGV[1] then
  return 0
end
if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
`;
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
})();

/** SHA-1 hex of a payload's bytes (a string as UTF-8), as Redis's `redis.sha1hex` computes it. */
export function payloadDigest(payload: Payload): string {
  return createHash('sha1').update(payload).digest('hex');
}

/** Atomic compare-and-set of one key by digest (see COMPARE_AND_SET); true if written. */
export async function compareAndSet(
  client: RedisClient,
  key: string,
  expected: Payload | undefined,
  payload: string | Buffer,
  ttlMs: TtlMs,
): Promise<boolean> {
  const digest = expected === undefined ? '' : payloadDigest(expected);
  const reply = await runScript(client, COMPARE_AND_SET, key, [digest, payload, ttlMs === undefined ? '' : ttlMs]);
  return reply === 1;
}
