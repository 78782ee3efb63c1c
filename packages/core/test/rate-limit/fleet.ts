// App instances as separate OS processes (see worker.ts), for the cross-process rate-limit tests.
import { fileURLToPath } from 'node:url';
import { startProcesses } from './processes';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

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

/** Forks one instance per entry of `specs` and waits until each has its store. */
export async function startFleet(specs: WorkerSpec[]): Promise<Fleet> {
  const processes = await startProcesses(
    WORKER,
    specs.map((spec) => ({ LARDER_RL_SPEC: JSON.stringify(spec) })),
  );
  return {
    size: specs.length,
    async burst(burst, only) {
      const results = await Promise.all(
        (only ?? specs.map((_, i) => i)).map((i) =>
          processes.ask<BurstResult>(i, { ...burst, clockOffsetMs: burst.clockOffsets?.[i] ?? 0 }),
        ),
      );
      const failed = results.find((r) => r.error);
      if (failed) throw new Error(failed.error);
      return results;
    },
    stop: () => processes.stop(),
  };
}

/** Every decision of `results`, in the order they were answered. */
export function allDecisions(results: BurstResult[]): BurstResult['decisions'] {
  return results.flatMap((r) => r.decisions).sort((a, b) => a[1] - b[1]);
}

/** How many were admitted. */
export function admitted(results: BurstResult[]): number {
  return allDecisions(results).filter((d) => d[0] === 1).length;
}
