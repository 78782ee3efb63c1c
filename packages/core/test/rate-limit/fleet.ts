// App instances as separate OS processes (see worker.ts), for the cross-process rate-limit tests.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The backend an instance connects to. */
export interface WorkerSpec {
  driver: 'redis' | 'memcached' | 'dynamodb';
  prefix: string;
  redisUrl?: string;
  memcachedServers?: string[];
  dynamodb?: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
}

/** What each instance runs: `callers` concurrent loops hitting `key`, `hits` times each or for `durationMs`. */
export interface Burst {
  id?: number;
  limiter: { limit: number; window: string | number; algorithm?: string };
  key: string;
  callers: number;
  hits?: number;
  durationMs?: number;
  cost?: number;
  /** Added to each instance's `Date.now()` during the burst, by instance index (an app server whose clock is wrong). */
  clockOffsets?: number[];
  /** @internal the offset sent to one instance. */
  clockOffsetMs?: number;
}

/** Decisions as `[allowed 1|0, real epoch ms when answered, resetMs, retryAfterMs, source]`. */
export interface BurstResult {
  decisions: [number, number, number, number, string][];
  error?: string;
  /** Why a decision was made without the store (the store errors' names and messages), if any was. */
  storeDown?: string[];
}

/** Running instances. */
export interface Fleet {
  readonly size: number;
  /** Runs `burst` on every instance at once (or on those of `only`); resolves their results (rejects on an instance's error). */
  burst(burst: Burst, only?: number[]): Promise<BurstResult[]>;
  stop(): Promise<void>;
}

let ids = 0;

/** Forks one instance per entry of `specs` and waits until each has its store. */
export async function startFleet(specs: WorkerSpec[]): Promise<Fleet> {
  const children: ChildProcess[] = [];
  const start = (spec: WorkerSpec) =>
    new Promise<void>((resolve, reject) => {
      const child = fork(WORKER, [], {
        cwd: ROOT,
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, LARDER_RL_SPEC: JSON.stringify(spec), NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)));
      child.once('message', (message) => (message === 'ready' ? resolve() : reject(new Error(String(message)))));
    });
  const fleet: Fleet = {
    size: specs.length,
    async burst(burst, only) {
      const id = ++ids;
      const results = await Promise.all(
        (only ?? children.map((_, i) => i)).map(
          (i) =>
            new Promise<BurstResult>((resolve) => {
              const child = children[i]!;
              const onMessage = (message: BurstResult & { id?: number }) => {
                if (message?.id !== id) return;
                child.off('message', onMessage);
                resolve(message);
              };
              child.on('message', onMessage);
              child.send({ ...burst, id, clockOffsetMs: burst.clockOffsets?.[i] ?? 0 });
            }),
        ),
      );
      const failed = results.find((r) => r.error);
      if (failed) throw new Error(failed.error);
      return results;
    },
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.removeAllListeners('exit');
              child.once('exit', () => resolve());
              // By PID: only the processes this test started.
              process.kill(child.pid as number, 'SIGTERM');
            }),
        ),
      );
    },
  };
  try {
    await Promise.all(specs.map(start));
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  return fleet;
}

/** Every decision of `results`, in the order they were answered. */
export function allDecisions(results: BurstResult[]): BurstResult['decisions'] {
  return results.flatMap((r) => r.decisions).sort((a, b) => a[1] - b[1]);
}

/** How many were admitted. */
export function admitted(results: BurstResult[]): number {
  return allDecisions(results).filter((d) => d[0] === 1).length;
}
