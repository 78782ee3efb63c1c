import { describe, expect, it } from 'vitest';
import { summedInfo } from '../src/fleet-targets';
import { commandCalls, infoField, readRedisInfo } from '../src/redis-counters';

// The Cluster rows of `pnpm bench fleet` read one INFO summed over the masters.
describe('summedInfo', () => {
  it('adds each number and each command count over the servers, and leaves out what is not a number', async () => {
    const node = (commands: number, gets: number) => ({
      info: async () =>
        `# Stats\r\ntotal_commands_processed:${commands}\r\nrole:master\r\nused_cpu_user:0.5\r\ncmdstat_get:calls=${gets},usec=10,usec_per_call=1.00\r\n`,
    });
    const info = await readRedisInfo(summedInfo([node(10, 1), node(20, 2), node(30, 0)]), 'stats', 'commandstats');
    expect(infoField(info, 'total_commands_processed')).toBe(60);
    expect(infoField(info, 'used_cpu_user')).toBe(1.5);
    expect(commandCalls(info, ['get'])).toBe(3);
    expect(info.has('role')).toBe(false);
  });
});
