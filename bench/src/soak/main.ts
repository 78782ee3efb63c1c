/**
 * `pnpm soak [--seconds 600] [--drivers memory,redis,memcached,dynamodb]`: mixed load on every
 * driver at once (servers from @larder/dev-services), heap/handles/timers sampled; exit 1 on
 * growth or on an unexpected error.
 */
import { parseArgs } from 'node:util';
import { machineInfo } from '../harness';
import { DRIVERS } from './backends';
import { formatTables } from './report';
import { runSoak } from './soak';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '600' }, drivers: { type: 'string', default: DRIVERS.join(',') } },
});
const seconds = Number(values.seconds);
const drivers = values.drivers.split(',').filter(Boolean);
const unknown = drivers.filter((driver) => !(DRIVERS as readonly string[]).includes(driver));
if (!(seconds > 0) || unknown.length > 0 || drivers.length === 0) {
  const note = unknown.length > 0 ? ` (unknown: ${unknown.join(', ')})` : '';
  console.error(`usage: pnpm soak [--seconds N] [--drivers ${DRIVERS.join(',')}]${note}`);
  process.exit(2);
}

console.log(`soak: ${seconds} s of load on ${drivers.join(', ')} at once; ${machineInfo()}`);
const result = await runSoak({ seconds, drivers });
console.log(`\n${formatTables(result)}\n`);
// Exit explicitly: a leaked handle must not hold the process (the run already judged it).
process.exit(result.failures.length > 0 ? 1 : 0);
