import { randomBytes } from 'node:crypto';
import type { Cache, StoreDescription } from '@larder/core';
import { type TopologyTraceEvent, topologyChannel, withTimeout } from '@larder/core/driver';
import { didNotAnswer } from '../options';
import { type HealthProblem, problemOf } from './problem';
import { topologyFindings } from './topology-findings';
import { waitForL1 } from './wait-for-l1';

/** The checks, in order; after a failed `connect` the others are skipped. */
export type HealthStepName = 'connect' | 'topology' | 'l1' | 'latency' | 'probe';

/** One check of one store. */
export interface HealthStep {
  ok: boolean;
  /** One line: `ok (1.2 ms)`, `FAILED: <cause in words>: <what to check>`. */
  text: string;
  /** Why it failed. */
  problem?: HealthProblem;
}

/** What `checkStore` found: the same for `larder doctor`, a `/healthz` and a dashboard. */
export interface StoreHealth {
  /** Store name in the manager. */
  name: string;
  /** Driver name (from the store once connected). */
  driver: string;
  /** Every step passed. */
  ok: boolean;
  steps: Partial<Record<HealthStepName, HealthStep>>;
  /** The first failure: its step, code and words (cause and what to check). */
  problem?: HealthProblem & { step: HealthStepName };
  /** Not failures, but worth an operator's eye: a node down while others serve, an L1 bypassed. */
  warnings: string[];
  /** The store's `describe()` data (nodes and their state, discovery, table, L1). */
  description?: StoreDescription;
  /** Round trips of `has` on a missing key. */
  latencyMs?: { min: number; avg: number; samples: number };
}

/** How thorough a check is. */
export interface CheckOptions {
  /** The driver's name until the store is created (from the config). @default the store name */
  driver?: string;
  /** Bound of each step, ms. */
  timeoutMs: number;
  /** Round trips timed by the latency step; 0 skips it. @default 5 */
  latencySamples?: number;
  /** Writes, reads back and deletes a probe key (`<prefix>doctor:<pid>-<random>`, 30 s TTL). @default true */
  probe?: boolean;
  /** Waits (up to `timeoutMs`) for the L1's invalidation channel, and fails if it stays down; else only reports it. @default true */
  waitForL1?: boolean;
  /** Called as each step ends (doctor prints it). */
  onStep?: (name: HealthStepName, step: HealthStep) => void;
}

/**
 * Checks one store the way an app uses it, through its `Cache`: a first round trip (connect),
 * its topology from `describe()`, its L1, latency, and a set/get/delete probe. Each step is
 * bounded by `timeoutMs`, and an error the cache reports is a failure even when the store fails
 * open (`onError: 'miss'` would turn it into a miss).
 */
export async function checkStore(name: string, cache: Cache, options: CheckOptions): Promise<StoreHealth> {
  const health: StoreHealth = { name, driver: options.driver ?? name, ok: true, steps: {}, warnings: [] };
  const { timeoutMs } = options;
  const errors: unknown[] = [];
  const onError = ({ error }: { error: unknown }) => void errors.push(error);
  cache.on('error', onError);
  // The server may refuse the L1's tracking as soon as the connection is up, before the L1 step.
  let l1Refused: string | undefined;
  const onTopology = (message: unknown) => {
    const event = message as TopologyTraceEvent;
    if (event.store === cache.name && event.event === 'l1-refused') l1Refused = event.reason ?? 'no reason given';
  };
  topologyChannel.subscribe(onTopology);
  const step = async (label: HealthStepName, run: () => Promise<string>): Promise<boolean> => {
    errors.length = 0;
    let result: HealthStep;
    try {
      const text = await withTimeout(run(), timeoutMs, didNotAnswer(`${name} ${label}`, timeoutMs));
      if (errors.length > 0) throw errors[0];
      result = { ok: true, text };
    } catch (error) {
      const problem = problemOf(error);
      result = { ok: false, text: `FAILED: ${problem.message}`, problem };
      if (health.ok) health.problem = { step: label, ...problem };
      health.ok = false;
    }
    health.steps[label] = result;
    options.onStep?.(label, result);
    return result.ok;
  };

  const probeKey = `doctor:${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const connected = await step('connect', async () => {
      const started = performance.now();
      const store = await cache.getStore();
      health.driver = store.driver;
      await cache.has(probeKey);
      return `ok (${ms(performance.now() - started)}, first round trip)`;
    });
    if (!connected) return health;
    await step('topology', async () => {
      const description = await cache.describe();
      if (description.topology.mode === 'unknown') return `driver '${description.driver}' (no topology report)`;
      health.description = description;
      const findings = topologyFindings(description);
      if (findings.failure) throw new Error(findings.failure);
      health.warnings.push(...findings.warnings);
      return findings.line;
    });
    if (health.description?.l1) await step('l1', () => l1Step(cache, health, options, () => l1Refused));
    const samples = options.latencySamples ?? 5;
    if (samples > 0) {
      await step('latency', async () => {
        const times: number[] = [];
        for (let i = 0; i < samples; i++) {
          const started = performance.now();
          await cache.has(probeKey);
          times.push(performance.now() - started);
        }
        const avg = times.reduce((a, b) => a + b, 0) / times.length;
        health.latencyMs = { min: Math.min(...times), avg, samples };
        return `min ${ms(Math.min(...times))}, avg ${ms(avg)} over ${samples} round trips`;
      });
    }
    if (options.probe !== false) {
      await step('probe', async () => {
        const value = { doctor: true, at: Date.now() };
        await cache.set(probeKey, value, '30s');
        const read = await cache.get<typeof value>(probeKey);
        if (read?.at !== value.at) throw new Error('the value read back differs from the value written');
        if (!(await cache.delete(probeKey))) throw new Error('delete did not find the probe key');
        if ((await cache.get(probeKey)) !== undefined) throw new Error('the probe key is still there after delete');
        return `set/get/delete ok (key ${cache.prefix}${probeKey})`;
      });
    }
    return health;
  } finally {
    cache.off('error', onError);
    topologyChannel.unsubscribe(onTopology);
  }
}

/** The L1 line; waits for its channel first when asked (tracking is armed after connecting). */
async function l1Step(
  cache: Cache,
  health: StoreHealth,
  options: CheckOptions,
  refused: () => string | undefined,
): Promise<string> {
  let l1 = health.description?.l1;
  if (l1 && l1.state !== 'up' && options.waitForL1 !== false) {
    l1 = (await waitForL1(cache, options.timeoutMs - 100, refused)) ?? l1;
    if (l1.state !== 'up') {
      const reason = refused();
      const why = reason ? `: the server refused it (${reason})` : '';
      throw new Error(
        `the L1's invalidation channel (${l1.invalidation}) is down${why}; the L1 is bypassed, every read goes to the store`,
      );
    }
  }
  if (!l1) return 'none';
  if (health.description) health.description.l1 = l1;
  const line = `${l1.state}, invalidation ${l1.invalidation}, ${l1.entries} entries (max ${l1.maxEntries}), ${l1.hits} hits, ${l1.flushes} flushes`;
  if (l1.state !== 'up') health.warnings.push(`the L1 is down (bypassed): its ${l1.invalidation} channel is not up`);
  return line;
}

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}
