import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { clientNote, probeIoredis, timeCommands } from '../src/ioredis-internals';

// The socket exists only once connected, so the probe checks it when each timed client connects.
// (Its own file: what the probe learns here holds for the rest of the process.)
describe('ioredis probe: a connection that shows no socket', () => {
  it('sends the client back to ioredis timeouts and says so in the note', () => {
    expect(probeIoredis().missing).toEqual([]);
    const client = Object.assign(new EventEmitter(), {
      options: {} as Record<string, unknown>,
      sendCommand: () => undefined,
      duplicate: () => undefined,
    });
    const timed: unknown[] = [];
    timeCommands(client as unknown as Redis, 300, (command) => timed.push(command));
    client.sendCommand();
    expect(timed).toHaveLength(1);
    client.emit('connect');
    expect(client.options).toEqual({ commandTimeout: 300, socketTimeout: 300 });
    client.sendCommand();
    expect(timed).toHaveLength(1);
    expect(probeIoredis()).toMatchObject({ missing: ['Redis#stream'], deadlines: false, corking: false });
    expect(clientNote()).toEqual({
      library: 'ioredis',
      missing: ['Redis#stream'],
      fallbacks: [
        "command timeouts: ioredis' commandTimeout and socketTimeout (timers per command)",
        'coalesceWrites: off (one socket write per command)',
        'describe(): configured addresses, not connected ones; no Sentinel failover event on larder.topology',
      ],
    });
  });
});
