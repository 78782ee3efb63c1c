import { InvalidTagError } from '@larder/core';
import { ENTRY_FORMAT, sectionOf, type TaggedEntry, type TaggedWriteReply, type TtlMs } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { LUA_ENTRY as E, evalScript, script } from './scripts';

/**
 * Tagged writes in one round trip, one or many in one atomic step (core README "Tags"): the
 * versions are read and the entries written atomically, so an invalidation after the call wins
 * over it. ARGV[1] is the number m of distinct counters and ARGV[2] the version a counter the
 * call makes starts at (the first write's random start: one per call is as good as one per
 * counter, and turning a 2^52 number into text per counter cost the client more than the rest of
 * its arguments). Counter c's three arguments follow from ARGV[3c]: its key, its tag, and its
 * life: its expiry in ms ('' for none), led by '+' when that expiry is to be checked. Each counter
 * is read (one MGET), made at the start when missing, or extended when less than half of its
 * expiry is left (never shortened). Then entry j (KEYS[j], in order: of two writes of a key the
 * later wins) reads three arguments: `<expiry in ms, '' for none>:<its counters' indices among the
 * m, two bytes of 7 bits each>`, its metadata header and its value; it is set to the header, the
 * tag section of those counters' versions (core's `ENTRY_FORMAT`: `\2<tag>\3<version>\4<tag>...\2`)
 * and the value. Redis's CPU is half of what a batch of tagged writes waits on: indices read by
 * `string.byte` into one reused table, where decimal lists read by `gmatch` and `tonumber` took a
 * third of the script's time, and no number turned into text that need not be (6.5–7.6 → 5.4–6.0
 * µs of Redis CPU a write in batches of 32; bench/README.md "Redis's share of a tagged write"). Few
 * arguments, each carrying what it can: Redis makes a Lua string of each, and the client encodes
 * each (about 290 in a batch of 32 writes, where one per field made 470). Returns per counter its
 * version and the ms it has left (-1: no expiry; -2: not checked), as one text joined by commas:
 * ioredis decodes a reply of one string many times faster than an array of a hundred (a batch's
 * counters). Counter keys are read from ARGV, not KEYS, as GET_TAGGED does: not for Cluster, where
 * no script writes a tagged entry.
 */
export const SET_TAGGED = script(`
local m, start = tonumber(ARGV[1]), ARGV[2]
local counters, marks, out = {}, {}, {}
for c = 1, m do counters[c] = ARGV[3 * c] end
local versions = redis.call('MGET', unpack(counters))
for c = 1, m do
  local at = 3 * c
  local key, life = ARGV[at], ARGV[at + 2]
  local check = string.byte(life, 1) == 43
  if check then life = string.sub(life, 2) end
  local v, left = versions[c], '-2'
  if not v then
    v = start
    if life == '' then redis.call('SET', key, v) left = -1 else redis.call('SET', key, v, 'PX', life) left = life end
  elseif check then
    if life == '' then redis.call('PERSIST', key) left = -1
    else
      left = redis.call('PTTL', key)
      if left >= 0 and left * 2 < tonumber(life) then redis.call('PEXPIRE', key, life) left = life end
    end
  end
  out[2 * c - 1], out[2 * c] = v, left
  marks[c] = ARGV[at + 1] .. '${E.pair}' .. v
end
local at, parts = 3 + 3 * m, {}
for j = 1, #KEYS do
  local spec = ARGV[at]
  local colon = string.find(spec, ':', 1, true)
  local k = 0
  for p = colon + 1, #spec, 2 do
    local high, low = string.byte(spec, p, p + 1)
    k = k + 1
    parts[k] = marks[high * 128 + low]
  end
  local value = ARGV[at + 1] .. '${E.tags}' .. table.concat(parts, '${E.next}', 1, k) .. '${E.tags}' .. ARGV[at + 2]
  if colon == 1 then redis.call('SET', KEYS[j], value)
  else redis.call('SET', KEYS[j], value, 'PX', string.sub(spec, 1, colon - 1)) end
  at = at + 3
end
return table.concat(out, ',')
`);

/** Milliseconds as a script argument: a whole positive number, or '' for none (`Infinity`). */
const ms = (life: number): string => (life === Number.POSITIVE_INFINITY ? '' : String(Math.max(1, Math.ceil(life))));

/** A counter's life argument (`ms` of `life`), led by '+' when the script is to check its expiry. */
const lifeArg = (life: string, check: boolean): string => (check ? `+${life}` : life);

/** Counter `c`'s index (0-based) as an entry's spec names it: c + 1 in two bytes of 7 bits each. */
const indexChars = (c: number): string => String.fromCharCode((c + 1) >> 7, (c + 1) & 127);

/** An entry's spec argument: its expiry in ms ('' for none), ':', its counters' `indexChars`. */
const entrySpec = (ttlMs: TtlMs, indices: string): string => `${ttlMs === undefined ? '' : ms(ttlMs)}:${indices}`;

/** One tagged write: `entry` at `key`, kept `ttlMs`. */
export interface TaggedWrite {
  readonly key: string;
  readonly entry: TaggedEntry;
  readonly ttlMs: TtlMs;
}

/**
 * `setTagged` on `c` alone (the batch's lone write, tag-write-batch.ts, or a write on a tracked
 * connection). With `tracked` (CLIENT TRACKING on `c`) the script only reads and makes the
 * counters and the entry is SET after it: Redis 7.0 announces a script's writes to its own
 * connection despite NOLOOP, and that announcement would drop the entry this process's L1 keeps of
 * its own write.
 */
export function setTaggedEntry(
  c: Redis,
  key: string,
  entry: TaggedEntry,
  ttlMs: TtlMs,
  tracked: boolean,
): Promise<TaggedWriteReply> {
  const write = { key, entry, ttlMs };
  if (!tracked) return writeTagged(c, [write]).then((replies) => replies[0] as TaggedWriteReply);
  return writeTagged(c, [write], false).then(async ([written]) => {
    const reply = written as TaggedWriteReply;
    const section = sectionOf({ tags: entry.tags, versions: reply.versions });
    const value = `${entry.head}${ENTRY_FORMAT.TAGS_MARK}${section}${ENTRY_FORMAT.TAGS_MARK}${entry.tail}`;
    await (ttlMs === undefined ? c.set(key, value) : c.set(key, value, 'PX', ttlMs));
    return reply;
  });
}

/**
 * Counters one SET_TAGGED call takes at most: the script reads them with one MGET of Lua's
 * `unpack`, which fails past 8,000 values (core's writes name 64 at most each, 2,048 a batch).
 */
export const MAX_CALL_COUNTERS = 4_000;

/** The error of a tagged write naming more counters than one call takes (the driver contract sets no bound; the script does). */
export const tooManyCounters = (count: number): InvalidTagError =>
  new InvalidTagError(
    `a tagged write names ${count} counters; the Redis driver takes ${MAX_CALL_COUNTERS} at most`,
    count,
  );

/**
 * SET_TAGGED of `writes` (EVAL on the first NOSCRIPT): each write's versions and counter lives.
 * One call, or one per run of writes naming at most MAX_CALL_COUNTERS counters (sent in order:
 * of two writes of a key the later still wins). `entries` false: the counters only (read, made,
 * extended), no entry written.
 */
export function writeTagged(c: Redis, writes: readonly TaggedWrite[], entries = true): Promise<TaggedWriteReply[]> {
  let named = 0;
  for (const write of writes) {
    const count = write.entry.counters.length;
    if (count > MAX_CALL_COUNTERS) return Promise.reject(tooManyCounters(count));
    named += count;
  }
  if (named <= MAX_CALL_COUNTERS) return writeTaggedCall(c, writes, entries);
  return Promise.all(runsOf(writes).map((run) => writeTaggedCall(c, run, entries))).then((replies) => replies.flat());
}

/** `writes` cut in order into runs that name at most MAX_CALL_COUNTERS counters each. */
function runsOf(writes: readonly TaggedWrite[]): TaggedWrite[][] {
  const runs: TaggedWrite[][] = [[]];
  let named = 0;
  for (const write of writes) {
    const count = write.entry.counters.length;
    if (named + count > MAX_CALL_COUNTERS) {
      runs.push([]);
      named = 0;
    }
    named += count;
    (runs[runs.length - 1] as TaggedWrite[]).push(write);
  }
  return runs;
}

/** One SET_TAGGED of `writes`, which name at most MAX_CALL_COUNTERS counters. */
function writeTaggedCall(c: Redis, writes: readonly TaggedWrite[], entries: boolean): Promise<TaggedWriteReply[]> {
  const lone = writes.length === 1 ? (writes[0] as TaggedWrite) : undefined;
  if (lone !== undefined && distinct(lone.entry.counters)) return writeLoneCall(c, lone, entries);
  // The distinct counters, each with its tag, the longest expiry any write asks of it (none beats
  // any) and whether any write asks to check it; made at the first write's start.
  const index = new Map<string, number>();
  const counterArgs: string[] = [];
  const lives: number[] = [];
  const extend: boolean[] = [];
  const entryArgs: string[] = [];
  const keys: string[] = [];
  const positions: number[][] = [];
  for (const { key, entry, ttlMs } of writes) {
    const life = entry.counterTtlMs ?? Number.POSITIVE_INFINITY;
    const count = entry.counters.length;
    let indices = '';
    const at: number[] = [];
    for (let i = 0; i < count; i++) {
      const counter = entry.counters[i] as string;
      let c = index.get(counter);
      if (c === undefined) {
        c = index.size;
        index.set(counter, c);
        counterArgs.push(counter, entry.tags[i] as string);
        lives.push(life);
        extend.push(false);
      } else if (life > (lives[c] as number)) lives[c] = life;
      if (entry.extend[i]) extend[c] = true;
      at.push(c);
      indices += indexChars(c);
    }
    positions.push(at);
    if (entries) {
      keys.push(key);
      entryArgs.push(entrySpec(ttlMs, indices), entry.head, entry.tail);
    }
  }
  const args: string[] = [String(index.size), String((writes[0] as TaggedWrite).entry.start)];
  for (let c = 0; c < index.size; c++) {
    const life = ms(lives[c] as number);
    args.push(counterArgs[2 * c] as string, counterArgs[2 * c + 1] as string, lifeArg(life, extend[c] as boolean));
  }
  const split = (flat: unknown): TaggedWriteReply[] => {
    const all = parseWritten(flat, index.size);
    return positions.map((at) => ({
      versions: at.map((c) => all.versions[c] as number),
      lifeMs: at.map((c) => all.lifeMs[c]),
    }));
  };
  return evalScript(c, SET_TAGGED, keys.length, entries ? keys.concat(args, entryArgs) : args).then(split);
}

/**
 * `writeTaggedCall` of one write whose counters are distinct (core's are: one per tag of a
 * normalized list): counter c is the write's c-th, so no map finds them and the reply is the
 * write's as it comes. With the reply read digit by digit (`parseWritten`), a lone write of 3 tags
 * used 78.5 / 65.7 / 68.0 µs of client CPU against 83.4 / 81.9 / 73.2 before (1 in flight, pinned,
 * alternating pairs, AMD EPYC VM, 2026-11-29; bench/README.md "The lone tagged write").
 */
function writeLoneCall(c: Redis, { key, entry, ttlMs }: TaggedWrite, entries: boolean): Promise<TaggedWriteReply[]> {
  const count = entry.counters.length;
  const life = ms(entry.counterTtlMs ?? Number.POSITIVE_INFINITY);
  const args: string[] = entries ? [key, String(count), String(entry.start)] : [String(count), String(entry.start)];
  let indices = '';
  for (let i = 0; i < count; i++) {
    args.push(entry.counters[i] as string, entry.tags[i] as string, lifeArg(life, entry.extend[i] as boolean));
    indices += indexChars(i);
  }
  if (entries) args.push(entrySpec(ttlMs, indices), entry.head, entry.tail);
  return evalScript(c, SET_TAGGED, entries ? 1 : 0, args).then((flat) => [parseWritten(flat, count)]);
}

/** Whether no two of `keys` are the same (compared pairwise: a write names a few). */
function distinct(keys: readonly string[]): boolean {
  if (keys.length > 16) return new Set(keys).size === keys.length;
  for (let i = 1; i < keys.length; i++) for (let j = 0; j < i; j++) if (keys[i] === keys[j]) return false;
  return true;
}

/** The versions and counter lives SET_TAGGED answered for `count` counters. */
function parseWritten(joined: unknown, count: number): TaggedWriteReply {
  if (count === 0) return { versions: [], lifeMs: [] };
  const text = String(joined);
  const versions: number[] = [];
  const lifeMs: (number | undefined)[] = [];
  // Read digit by digit (no split, no Number per field: a third of a lone tagged write's reply
  // handling); a field that is no whole decimal number, or a count that differs, is read as before.
  let at = 0;
  for (let i = 0; i < 2 * count; i++) {
    const end = i === 2 * count - 1 ? text.length : text.indexOf(',', at);
    const n = end < 0 ? Number.NaN : wholeNumber(text, at, end);
    if (Number.isNaN(n)) return parseFields(text, count);
    if (i % 2 === 0) versions.push(n);
    else lifeMs.push(counterLife(n));
    at = end + 1;
  }
  return { versions, lifeMs };
}

/** The whole decimal number `text` holds from `start` to `end` (a leading '-' allowed), else NaN; NaN past 2^53 too (read by `Number` then). */
function wholeNumber(text: string, start: number, end: number): number {
  const negative = text.charCodeAt(start) === 45;
  const first = negative ? start + 1 : start;
  if (first === end || end - first > 16) return Number.NaN;
  let n = 0;
  for (let i = first; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    n = n * 10 + digit;
  }
  // Exact while every step stays below 2^53; past it, Number rounds the text correctly.
  if (n > Number.MAX_SAFE_INTEGER) return Number.NaN;
  return negative ? -n : n;
}

/** A counter's life as SET_TAGGED answers it in ms: -1 (no expiry) never ends, -2 (not checked) is unknown. */
const counterLife = (left: number): number | undefined =>
  left === -1 ? Number.POSITIVE_INFINITY : left < 0 ? undefined : left;

/** `parseWritten` of a reply that is not all whole numbers: split and read by `Number`. */
function parseFields(text: string, count: number): TaggedWriteReply {
  const pairs = text.split(',');
  // A counter holds a number larder wrote; anything else (a comma in a value set by hand) is not a reply to read.
  if (pairs.length !== 2 * count) throw new Error(`SET_TAGGED answered ${pairs.length} fields for ${count} counters`);
  const versions: number[] = [];
  const lifeMs: (number | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    versions.push(Number(pairs[2 * i]));
    lifeMs.push(counterLife(Number(pairs[2 * i + 1])));
  }
  return { versions, lifeMs };
}
