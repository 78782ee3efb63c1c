import { createHash } from 'node:crypto';
import { ENTRY_FORMAT } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { sendText } from './ioredis-internals';
import type { RedisClient } from './options';

/** A Lua script run by EVALSHA, loaded with EVAL on the first NOSCRIPT. */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

/** A mark of core's stored entry format (`ENTRY_FORMAT`) as a Lua string escape (`\\1`), for the scripts' literals and patterns. */
export function luaMark(mark: string): string {
  return `\\${mark.charCodeAt(0)}`;
}

/** The stored entry format's marks as Lua escapes, and the header's bounds, for the tag scripts. */
export const LUA_ENTRY = {
  header: luaMark(ENTRY_FORMAT.HEADER_MARK),
  headerByte: ENTRY_FORMAT.HEADER_MARK.charCodeAt(0),
  tags: luaMark(ENTRY_FORMAT.TAGS_MARK),
  tagsByte: ENTRY_FORMAT.TAGS_MARK.charCodeAt(0),
  pair: luaMark(ENTRY_FORMAT.PAIR_MARK),
  next: luaMark(ENTRY_FORMAT.NEXT_MARK),
  // Lua indexes from 1: the closing mark's index is at most MAX_HEADER + 1.
  maxHeaderIndex: ENTRY_FORMAT.MAX_HEADER + 1,
} as const;

/** A script and its SHA1. */
export function script(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * INCRBY, plus PEXPIRE only when the key was created by it (creation and expiry are atomic).
 * Returns the new value as the stored decimal text: ioredis's integer-reply parsers round
 * values near 2^53 (9007199254740991 comes back as ...992), a bulk string is exact.
 */
export const INCREMENT = script(`
local existed = 1
if ARGV[2] ~= '' then existed = redis.call('EXISTS', KEYS[1]) end
redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('GET', KEYS[1])
`);

/** DEL only if the value equals ARGV[1] (owner-checked lock release). */
export const COMPARE_AND_DELETE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** PERSIST that reports whether the key exists (PERSIST alone answers 0 for a key without expiry). */
export const PERSIST_IF_EXISTS = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('PERSIST', KEYS[1])
return 1
`);

/**
 * EVALSHA of `s` whose first `numKeys` arguments of `argv` are keys (EVAL on the first NOSCRIPT),
 * in promise steps. Text and numbers go out as built (`sendText`: ioredis' generic command path
 * would copy them again); arguments with bytes go through ioredis' `evalsha`.
 */
export function evalScript(
  c: Redis,
  s: LuaScript,
  numKeys: number,
  argv: (string | number | Buffer)[],
): Promise<unknown> {
  const count = String(numKeys);
  const text = [s.sha, count];
  for (const arg of argv) {
    if (typeof arg === 'string') text.push(arg);
    else if (typeof arg === 'number') text.push(String(arg));
    else return evalWithBytes(c, s, count, argv);
  }
  return sendText(c, 'evalsha', text).catch((error: unknown) =>
    loadedOnNoScript(error, () => c.eval(s.lua, count, text.slice(2))),
  );
}

/** `evalScript` through ioredis' `evalsha`, which writes Buffers as bytes. */
function evalWithBytes(c: Redis, s: LuaScript, count: string, argv: (string | number | Buffer)[]): Promise<unknown> {
  // ioredis writes numbers in the array as text and Buffers as bytes; its types name only key arrays.
  const flat = argv as string[];
  return c
    .evalsha(s.sha, count, flat)
    .catch((error: unknown) => loadedOnNoScript(error, () => c.eval(s.lua, count, flat)));
}

/** After a failed EVALSHA: `runByEval` (the script sent whole) when Redis did not know it (NOSCRIPT), else the error. */
function loadedOnNoScript(error: unknown, runByEval: () => Promise<unknown>): Promise<unknown> {
  if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return runByEval();
  throw error;
}

/** Runs a script on the node owning `key` (EVALSHA; EVAL when the server does not have it cached yet). */
export function runScript(
  client: RedisClient,
  s: LuaScript,
  key: string,
  args: (string | number | Buffer)[],
): Promise<unknown> {
  return evalScript(client as Redis, s, 1, [key, ...args]);
}
