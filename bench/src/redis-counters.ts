import type { CounterColumn } from './harness';

/** A scenario context with a connection to read `INFO` from (not one a subject uses). */
interface WithStats {
  stats: { info(section: string): Promise<string> };
}

/** `Redis CPU µs/op`: user + system CPU of redis-server per operation, from `INFO cpu`. */
export function redisCpuColumn<Ctx extends WithStats>(): CounterColumn<Ctx> {
  return {
    name: 'Redis CPU µs/op',
    read: async (c) => {
      const info = await c.stats.info('cpu');
      const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]);
      const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
      return (user + sys) * 1e6;
    },
    digits: 1,
  };
}

/** `Redis commands/op`: every command the server processed per operation, from `INFO stats`. */
export function redisCommandsColumn<Ctx extends WithStats>(): CounterColumn<Ctx> {
  return {
    name: 'Redis commands/op',
    read: async (c) => {
      const info = await c.stats.info('stats');
      return Number(/total_commands_processed:(\d+)/.exec(info)?.[1]);
    },
  };
}
