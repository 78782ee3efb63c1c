import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import type { FreezeReply, FreezeRequest } from './fleet-freeze-child';

const CHILD = fileURLToPath(new URL('./fleet-freeze-child.ts', import.meta.url));
const PREFIX = 'freeze:';
const SETTLED_BARRIERS = 10;
const ROUNDS = 3;
// The instances other than the writer and the frozen one, spread over this many processes.
const PROCESSES = 3;

/** One forked process of instances (fleet-freeze-child.ts), asked one thing at a time. */
interface Child {
  readonly process: ChildProcess;
  ask(request: FreezeRequest): Promise<unknown>;
}

async function forkChild(url: string, count: number): Promise<Child> {
  const child = fork(CHILD, [url, String(count), PREFIX], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`a freeze fleet process exited with ${code}`)));
    child.on('message', (message) => message === 'ready' && resolve());
  });
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (request: FreezeRequest) => {
    const answer = queue.then(
      () =>
        new Promise<unknown>((resolve) => {
          const heard = (message: unknown) => {
            if (typeof message !== 'object' || message === null) return;
            child.off('message', heard);
            resolve((message as FreezeReply).value);
          };
          child.on('message', heard);
          child.send(request);
        }),
    );
    queue = answer;
    return answer;
  };
  return { process: child, ask };
}

const stopChild = (child: Child) =>
  new Promise<void>((resolve) => {
    const { process: proc } = child;
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.removeAllListeners('exit');
    proc.once('exit', () => resolve());
    // By PID: only processes this bench started (SIGCONT first, in case it is still stopped).
    process.kill(proc.pid as number, 'SIGCONT');
    process.kill(proc.pid as number, 'SIGTERM');
  });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** `count` split into `parts` near-equal positive shares (fewer when `count` is smaller). */
const shares = (count: number, parts: number) =>
  Array.from({ length: Math.min(parts, count) }, (_, i) => Math.floor((count + i) / Math.min(parts, count)));

/**
 * One fleet size: the writer in this process, the instance to freeze alone in a process, the N − 2
 * others over `PROCESSES` processes. Barriers (a SET then `syncL1`) with nobody frozen, then, `ROUNDS`
 * times: the frozen-to-be instance reads the key (its L1 holds it), SIGSTOP, a SET and the timed
 * barrier, a second barrier while it is still frozen, SIGCONT and its first read (must be the new value).
 */
async function measure(n: number): Promise<string> {
  if (n < 3) throw new Error('the freeze rows need N ≥ 3 (a writer, a frozen instance, another)');
  const server: RedisServer = await startRedis();
  const children: Child[] = [];
  const writer = new Cache({
    store: createRedisStore({ url: server.url, commandTimeoutMs: 30_000 }),
    timeout: '60s',
    prefix: PREFIX,
    l1: { invalidation: 'tracking' },
  });
  try {
    const victim = await forkChild(server.url, 1);
    children.push(victim);
    for (const count of shares(n - 2, PROCESSES)) children.push(await forkChild(server.url, count));
    await waitFor(async () => (await writer.describeL1())?.fleet?.leaseHeld === true);
    const leaseMs = (await writer.describeL1())?.fleet?.leaseMs ?? Number.NaN;

    const settled: number[] = [];
    for (let i = 0; i < SETTLED_BARRIERS; i++) {
      await writer.set('k', `s${i}`);
      const started = performance.now();
      await writer.syncL1();
      settled.push(performance.now() - started);
    }
    const frozen: number[] = [];
    const again: number[] = [];
    let stale = 0;
    let lastBarrier = '';
    for (let round = 0; round < ROUNDS; round++) {
      if ((await victim.ask({ get: 'k' })) === undefined) throw new Error('the instance to freeze found no k');
      process.kill(victim.process.pid as number, 'SIGSTOP');
      try {
        await writer.set('k', `r${round}`);
        let started = performance.now();
        await writer.syncL1();
        frozen.push(performance.now() - started);
        const last = (await writer.describeL1())?.fleet?.lastBarrier;
        lastBarrier = `${last?.instances} / ${last?.acknowledged} / ${last?.lapsed}`;
        started = performance.now();
        await writer.syncL1();
        again.push(performance.now() - started);
      } finally {
        process.kill(victim.process.pid as number, 'SIGCONT');
      }
      if ((await victim.ask({ get: 'k' })) !== `r${round}`) stale++;
      await waitFor(async () => (await victim.ask({ up: true })) === true, { timeoutMs: 30_000 });
    }
    const row = [
      n,
      `${children.length + 1} (1 + 1 + ${shares(n - 2, PROCESSES).join(' + ')})`,
      leaseMs,
      median(settled).toFixed(1),
      frozen.map((ms) => ms.toFixed(0)).join(', '),
      (Math.max(...frozen) / leaseMs).toFixed(2),
      lastBarrier,
      median(again).toFixed(1),
      stale,
    ];
    return `| ${row.join(' | ')} |`;
  } finally {
    await writer.close().catch(() => undefined);
    await Promise.all(children.map(stopChild));
    await server.stop();
  }
}

/**
 * The freeze rows of `pnpm bench fleet` (`--freeze 3,128` by default, `none` to skip): an instance
 * stopped by SIGSTOP delays a barrier at most until its lease lapses, at N = 128 as at N = 3; the
 * barrier after it does not wait for it again; woken, it serves no value older than the barrier.
 * Tracking, one redis-server, the default lease.
 */
export async function runFleetFreeze(sizes: readonly number[]): Promise<void> {
  if (sizes.length === 0) return;
  process.stdout.write('\n## An instance frozen by SIGSTOP during a barrier\n\n');
  process.stdout.write(
    '| N | processes (writer + frozen + others) | lease ms | barrier p50 ms, none frozen | barrier ms with one frozen, each round | max ÷ lease | its last barrier: others / acknowledged / lapsed | next barrier p50 ms, still frozen | stale reads once woken |\n',
  );
  process.stdout.write('|---:|---|---:|---:|---|---:|---|---:|---:|\n');
  for (const n of sizes) {
    process.stderr.write(`freeze at ${n}...\n`);
    process.stdout.write(`${await measure(n)}\n`);
  }
}
