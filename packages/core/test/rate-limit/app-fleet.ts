// Framework apps as separate OS processes (see app-worker.ts), for the rate-limit fleet test of the
// framework stores: each process runs every app of the spec, each made by its framework's factory.
import { fileURLToPath } from 'node:url';
import type { Cache, StoreDownMode } from '../../src/index';
import type { WorkerSpec } from './fleet';
import { startProcesses } from './processes';

const WORKER = fileURLToPath(new URL('./app-worker.ts', import.meta.url));

/** What a framework's factory is given: the cache of one backend and the limit of its route. */
export interface RateLimitAppOptions {
  cache: Cache;
  /** Requests admitted per window and key. */
  limit: number;
  windowMs: number;
  onStoreDown: StoreDownMode;
  /** Give the framework its limit as a function of the request, where it takes one. */
  limitPerRequest?: boolean;
}

/** A listening app. */
export interface RunningApp {
  /** Its base URL (loopback). */
  url: string;
  close(): Promise<void>;
}

/**
 * Makes and starts an app whose route `GET /` is rate limited through the framework's limiter on a
 * larder store, counted per the `x-key` request header, `limit` per `windowMs`: 200 when admitted,
 * 429 when not. A factory module exports it as `createApp`.
 */
export type RateLimitAppFactory = (options: RateLimitAppOptions) => Promise<RunningApp>;

/** One app each process runs. */
export interface AppSpec extends Omit<RateLimitAppOptions, 'cache'> {
  /** How the parent names it in a burst. */
  name: string;
  /** The file of its factory module (exporting `createApp`). */
  module: string;
  store: WorkerSpec;
  /** The cache's timeout (ms), with the driver's own timeouts; without it, 60 s on both (see stores.ts). */
  timeoutMs?: number;
}

/** What each process runs. */
export interface AppFleetSpec {
  apps: AppSpec[];
}

/** `callers` concurrent HTTP callers in each process, each sending `hits` requests in turn to `app` as `key`. */
export interface CallBurst {
  app: string;
  key: string;
  callers: number;
  hits: number;
}

/** Each answer as `[status, ms]`; the process's unhandled rejections so far. */
export interface CallResult {
  answers: [number, number][];
  unhandled: string[];
  error?: string;
}

/** Running app processes. */
export interface AppFleet {
  readonly size: number;
  /** Runs `burst` in every process at once (or in those of `only`); rejects on a process's error. */
  call(burst: CallBurst, only?: number[]): Promise<CallResult[]>;
  stop(): Promise<void>;
}

/** Forks `instances` processes, each running every app of `spec`, and waits until all listen. */
export async function startAppFleet(spec: AppFleetSpec, instances: number): Promise<AppFleet> {
  const env = { LARDER_APP_FLEET: JSON.stringify(spec) };
  const processes = await startProcesses(
    WORKER,
    Array.from({ length: instances }, () => env),
  );
  return {
    size: instances,
    async call(burst, only) {
      const indices = only ?? Array.from({ length: instances }, (_, i) => i);
      const results = await Promise.all(indices.map((i) => processes.ask<CallResult>(i, burst)));
      const failed = results.find((r) => r.error);
      if (failed) throw new Error(failed.error);
      return results;
    },
    stop: () => processes.stop(),
  };
}

/** How many answers of `results` had each status, e.g. `{ 200: 100, 429: 300 }`. */
export function statusCounts(results: CallResult[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const [status] of results.flatMap((r) => r.answers)) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** How long each answer of `results` took (ms), fastest first. */
export function answerTimes(results: CallResult[]): number[] {
  return results.flatMap((r) => r.answers.map(([, ms]) => ms)).sort((a, b) => a - b);
}
