import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort, ManagedProcess, PortInUseError, ServiceStartError, startRedis } from '../src/index';
import { startOnFreePort } from '../src/process';

describe('process management', () => {
  const blockers: Server[] = [];
  const block = async (port: number) => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    blockers.push(server);
  };
  afterAll(() => {
    for (const server of blockers) server.close();
  });

  it('a port taken between the check and the bind: PortInUseError for a fixed port, a new port otherwise', async () => {
    const taken = await findFreePort();
    await block(taken);
    const error = await startRedis({ port: taken }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as Error).message).toMatch(/Address already in use/i);

    let picks = 0;
    const redis = await startOnFreePort(
      async () => (++picks === 1 ? taken : findFreePort()),
      (port) => startRedis({ port }),
    );
    expect(picks).toBe(2);
    expect(redis.port).not.toBe(taken);
    expect(await redis.command('PING')).toBe('PONG');
    await redis.stop();
  });

  it('an early exit fails with the last log lines', async () => {
    const error = await startRedis({ args: ['--no-such-directive', 'x'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceStartError);
    expect((error as Error).message).toMatch(/exited with code 1 before it was ready/);
    expect((error as ServiceStartError).logTail).toMatch(/no-such-directive/);
  });

  it('a start timeout kills the process and says what it waited for', async () => {
    const port = await findFreePort();
    const proc = new ManagedProcess({
      name: 'sleeper',
      command: '/bin/sh',
      args: ['-c', 'echo starting up; exec sleep 30'],
      host: '127.0.0.1',
      port,
      startTimeoutMs: 300,
      ready: async () => {
        throw new Error('nothing listens');
      },
    });
    const error = await proc.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceStartError);
    expect((error as Error).message).toContain(`sleeper to answer on 127.0.0.1:${port}`);
    expect((error as Error).message).toContain('nothing listens');
    expect((error as Error).message).toContain('starting up');
    expect(proc.running).toBe(false);
  });
});
