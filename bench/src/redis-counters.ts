import type { CounterColumn } from './harness';

/** A connection to read `INFO` from (not one a subject uses); ioredis's `info(...sections)`. */
export interface InfoReader {
  info(...sections: string[]): Promise<string>;
}

/** A scenario context with a connection to read `INFO` from. */
interface WithStats {
  stats: InfoReader;
}

/**
 * One `INFO` reply as numbers by field (`total_commands_processed`, `used_memory`...); each
 * `cmdstat_<command>:calls=N,...` line of `commandstats` as `calls.<command>` (commands a Lua script
 * runs are counted under their own name too: a compare-and-set script's GET is a `calls.get`).
 */
export type RedisInfo = ReadonlyMap<string, number>;

/** Parses an `INFO` reply (see `RedisInfo`); fields that are not numbers are left out. */
export function parseRedisInfo(text: string): RedisInfo {
  const info = new Map<string, number>();
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at <= 0 || line.startsWith('#')) continue;
    const name = line.slice(0, at);
    const value = line.slice(at + 1);
    if (name.startsWith('cmdstat_')) {
      const calls = /(?:^|,)calls=(\d+)/.exec(value)?.[1];
      if (calls !== undefined) info.set(`calls.${name.slice('cmdstat_'.length)}`, Number(calls));
    } else if (/^-?[\d.]+$/.test(value)) info.set(name, Number(value));
  }
  return info;
}

/** Reads `sections` of `INFO` in one command (Redis 7 takes several) and parses it. */
export async function readRedisInfo(stats: InfoReader, ...sections: string[]): Promise<RedisInfo> {
  return parseRedisInfo(await stats.info(...sections));
}

/** A field of `info`, NaN when absent (a figure read from a missing field must not pass for 0). */
export const infoField = (info: RedisInfo, name: string): number => info.get(name) ?? Number.NaN;

/** User + system CPU of redis-server in µs (`INFO cpu`). */
export const redisCpuUs = (info: RedisInfo): number =>
  (infoField(info, 'used_cpu_user') + infoField(info, 'used_cpu_sys')) * 1e6;

/** Calls of `commands` (`INFO commandstats`; a command never run has no line: 0). */
export const commandCalls = (info: RedisInfo, commands: readonly string[]): number =>
  commands.reduce((sum, command) => sum + (info.get(`calls.${command}`) ?? 0), 0);

/** `Redis CPU µs/op`: user + system CPU of redis-server per operation, from `INFO cpu`. */
export function redisCpuColumn<Ctx extends WithStats>(): CounterColumn<Ctx> {
  return {
    name: 'Redis CPU µs/op',
    read: async (c) => redisCpuUs(await readRedisInfo(c.stats, 'cpu')),
    digits: 1,
  };
}

/** `Redis commands/op`: every command the server processed per operation, from `INFO stats`. */
export function redisCommandsColumn<Ctx extends WithStats>(): CounterColumn<Ctx> {
  return {
    name: 'Redis commands/op',
    read: async (c) => infoField(await readRedisInfo(c.stats, 'stats'), 'total_commands_processed'),
  };
}
