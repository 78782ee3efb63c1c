import { describe, expect, it, vi } from 'vitest';
import { createRedisStore } from '../src/index';
import { probeIoredis } from '../src/ioredis-internals';

// An ioredis whose exported Command has no `setTimeout` (ioredis keeps using its own Command
// inside): the probe finds the Cluster's submit-time timer impossible.
vi.mock('ioredis', async () => {
  const real = await vi.importActual<typeof import('ioredis')>('ioredis');
  class Command extends real.Command {}
  Object.defineProperty(Command.prototype, 'setTimeout', { value: undefined });
  return { ...real, default: { ...real, Command }, Command };
});

describe('a Cluster whose queued commands cannot be timed', () => {
  it('does not claim to bound every call: the facade keeps its own timer', async () => {
    expect(probeIoredis()).toMatchObject({
      missing: ['Command#setTimeout'],
      clusterSubmitTimeouts: false,
      deadlines: true,
    });
    // Nothing listens there: the clients only retry in the background until closed.
    const cluster = createRedisStore({ clusterNodes: [{ host: '127.0.0.1', port: 1 }], commandTimeoutMs: 500 });
    const single = createRedisStore({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 500 });
    try {
      expect(cluster.capabilities.deadlineMs).toBeUndefined();
      expect(single.capabilities.deadlineMs).toBe(1000);
    } finally {
      await Promise.all([cluster.close(), single.close()]);
    }
  });
});
