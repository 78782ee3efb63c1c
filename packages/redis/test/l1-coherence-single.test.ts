import { spawn } from 'node:child_process';
import { freezeProcess, type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { now } from './coherence/clock';
import { forkInstances, type Instance, report, runWrites } from './coherence/harness';

const PREFIX = 'coh1:';

/** SET by a plain redis-cli process; resolves when it exited (the write is acknowledged). */
function redisCliSet(port: number, key: string, value: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const cli = spawn('redis-cli', ['-p', String(port), 'SET', key, String(value)], { stdio: 'ignore' });
    cli.once('error', reject);
    cli.once('exit', (code) => (code === 0 ? resolve(now()) : reject(new Error(`redis-cli ${code}`))));
  });
}

describe('L1 coherence across processes: Redis single node, tracking', () => {
  let server: RedisServer;
  let instances: Instance[] = [];

  beforeAll(async () => {
    server = await startRedis();
    instances = await forkInstances({
      driver: 'redis',
      prefix: PREFIX,
      redis: { url: server.url },
      l1: { invalidation: 'tracking' },
    });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await server?.stop();
  });

  it('a write in one process is seen by the other once its invalidation arrived; delay measured', async () => {
    const [writer, reader] = instances as [Instance, Instance];
    const result = await runWrites(writer, reader, 'k', 60);
    report('Redis single (tracking)', result);
    expect(result.stale).toBe(0);
    expect(result.unseen).toBe(0);
    // The reader's L1 answered (the held value between writes), so the zero above means something.
    const state = (await reader.call({ op: 'state' })).value as { hits: number; invalidation: string };
    expect(state.hits).toBeGreaterThan(0);
    expect(state.invalidation).toBe('tracking');
    // And the other way round.
    const back = await runWrites(reader, writer, 'k2', 20);
    expect(back.stale).toBe(0);
    expect(back.unseen).toBe(0);
  }, 40_000);

  it('writes by a plain redis-cli are seen', async () => {
    const [, reader] = instances as [Instance, Instance];
    const result = await runWrites((value) => redisCliSet(server.port, `${PREFIX}cli`, value), reader, 'cli', 10);
    report('Redis single, writes by redis-cli', result);
    expect(result.stale).toBe(0);
    expect(result.unseen).toBe(0);
  }, 30_000);

  it('the server stopped with SIGSTOP for 2 s during the writes: never stale', async () => {
    const [writer, reader] = instances as [Instance, Instance];
    const pid = server.pid as number;
    const result = await runWrites(writer, reader, 'stopped', 6, {
      timeoutMs: 10_000,
      during: async (round) => {
        if (round !== 2) return;
        // By PID: the server this test started.
        await freezeProcess(pid);
        setTimeout(() => process.kill(pid, 'SIGCONT'), 2000);
      },
    });
    report('Redis single, server SIGSTOPped for 2 s', result);
    expect(result.stale).toBe(0);
    expect(result.unseen).toBe(0);
  }, 30_000);

  it('the invalidation connection killed from the server: flushed, re-armed, never stale', async () => {
    const [writer, reader] = instances as [Instance, Instance];
    const result = await runWrites(writer, reader, 'killed', 10, {
      start: 1,
      during: async (round) => {
        if (round % 3 === 1) await server.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
      },
    });
    report('Redis single, subscriber killed every 3rd write', result);
    expect(result.stale).toBe(0);
    expect(result.unseen).toBe(0);
  }, 30_000);
});
