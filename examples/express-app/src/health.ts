import { checkStore, type StoreHealth } from '@larder/cli';
import type { Cache, StoreHealth as CacheHealth } from '@larder/core';
import type { Request, Response } from 'express';
import { asProbe } from './live-stats';

/** Bound of each check step: under a load balancer's usual health-check timeout. */
export const HEALTH_TIMEOUT_MS = 1500;

/** What `/healthz` shows of one store (no secrets: addresses, states and larder's worded errors only). */
export interface StoreHealthView {
  store: string;
  driver: string;
  ok: boolean;
  /** The first failure: step, code, cause in words and what to check. */
  problem?: StoreHealth['problem'];
  /** A node or replica down while others serve, an L1 bypassed. */
  warnings: string[];
  /** One round trip (`has` of a missing key), ms. */
  latencyMs?: number;
  nodes?: { address: string; role: string; status: string }[];
  l1?: { state: string; invalidation: string; entries: number; hits: number; flushes: number };
  /** The cache's own answer to "is the store down?" (`cache.health()`), as every store call tells it. */
  health: { state: 'up' | 'down'; since: number; consecutiveFailures?: number };
}

/**
 * While the cache says its store is down (`cache.health()`), that is the answer, at once: the
 * cache already probes the store, and a round trip to a frozen server would only wait for its
 * timeout. Otherwise the checks `larder doctor` runs (from @larder/cli: a first round trip, the
 * topology with each node's state, the L1), without its write probe and without waiting for the
 * L1: the two tell the same truth. Run as a probe, so they never count in the live page's figures.
 */
export async function checkHealth(cache: Cache): Promise<StoreHealthView> {
  const now = cache.health();
  if (now.state === 'down') return downView(cache, (await cache.getStore()).driver ?? cache.name, now);
  const checked = await asProbe(() =>
    checkStore(cache.name, cache, { timeoutMs: HEALTH_TIMEOUT_MS, latencySamples: 1, probe: false, waitForL1: false }),
  );
  // The checks' own calls count in the cache's health: read it after them.
  return view(checked, cache.health());
}

/** `GET /healthz`: 200 when every store in use passes, else 503; each store's state and problem. */
export function healthz(cache: Cache, sessions: Cache) {
  return async (_req: Request, res: Response): Promise<void> => {
    const [c, s] = await Promise.all([checkHealth(cache), sessions === cache ? undefined : checkHealth(sessions)]);
    const ok = c.ok && (s?.ok ?? true);
    res.status(ok ? 200 : 503).json({ ok, cache: c, sessions: s ?? c, stats: cache.stats() });
  };
}

/** The store down as the cache's health says: the last error is the problem (larder's errors are worded, no secret). */
function downView(cache: Cache, driver: string, health: CacheHealth): StoreHealthView {
  const e = (health.lastError ?? {}) as { code?: unknown; message?: unknown };
  const words = typeof e.message === 'string' ? e.message : 'the store keeps failing';
  return {
    store: cache.name,
    driver,
    ok: false,
    problem: {
      step: 'connect',
      code: typeof e.code === 'string' ? e.code : 'E_BACKEND',
      message: `${words} (down since ${new Date(health.since).toISOString()}, ${health.consecutiveFailures ?? 0} failed calls in a row)`,
    },
    warnings: [],
    health: healthOf(health),
  };
}

function healthOf({ state, since, consecutiveFailures }: CacheHealth): StoreHealthView['health'] {
  return { state, since, consecutiveFailures };
}

function view(health: StoreHealth, now: CacheHealth): StoreHealthView {
  const out: StoreHealthView = {
    store: health.name,
    driver: health.driver,
    ok: health.ok,
    warnings: health.warnings,
    health: healthOf(now),
  };
  if (health.problem) out.problem = health.problem;
  if (health.latencyMs) out.latencyMs = round(health.latencyMs.avg);
  const description = health.description;
  if (description?.topology.nodes.length) {
    out.nodes = description.topology.nodes.map(({ address, role, status }) => ({ address, role, status }));
  }
  if (description?.l1) {
    const { state, invalidation, entries, hits, flushes } = description.l1;
    out.l1 = { state, invalidation, entries, hits, flushes };
  }
  return out;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
