import { channel } from 'node:diagnostics_channel';
import { checkStore, type StoreHealth } from '@larder/cli';
import type { Cache } from '@larder/core';
import { asProbe } from './live-stats';

const noop = () => {};

/** How often the page reads a store's topology (`describe()`, through the doctor's checks). */
const CHECK_EVERY_MS = 2000;
/** Bound of each check step (a frozen server must not hold the page). */
const CHECK_TIMEOUT_MS = 1500;
/** Topology events kept. */
const EVENTS_KEPT = 30;

/** One node as the page shows it: address, role and real state; never more (no secret is in these). */
export interface NodeView {
  address: string;
  role: string;
  status: string;
  /** Fraction of the key space (hash ring share, Cluster slots), 0..1. */
  share?: number;
  /** Replicas: the primary's view of its replication state, and its lag. */
  state?: string;
  lagSeconds?: number;
}

/** A store's health and topology, from the same checks as `larder doctor` and `/healthz`. */
export interface StoreView {
  name: string;
  driver: string;
  ok: boolean;
  /** The first failure: code and cause in words (what to check). */
  problem?: { code: string; message: string };
  warnings: string[];
  mode?: string;
  nodes: NodeView[];
  discovery?: { endpoint: string; version?: number; ok: boolean };
  /** The L1 in front of the store, when it has one. */
  l1?: {
    state: string;
    invalidation: string;
    entries: number;
    maxEntries: number;
    bytes: number;
    maxBytes: number;
    ttlMs: number;
    hits: number;
    flushes: number;
    /** Its fleet (lease and barriers), when it has one: this instance's lease and its last barrier. */
    fleet?: {
      leaseHeld: boolean;
      leaseMs: number;
      stateIn: string;
      lastBarrier?: {
        at: number;
        durationMs: number;
        instances: number;
        acknowledged: number;
        lapsed: number;
        polls: number;
        outcome: string;
      };
    };
  };
  /** The cache's health and its L2 breaker (`CACHE_BREAKER=on`), read at each request: it answers even while the store is frozen. */
  breaker?: BreakerView;
  /** When this was checked, epoch ms. */
  checkedAt: number;
}

/** The L2 breaker as the page shows it (`cache.health()`; larder's errors are worded and carry no secret). */
export interface BreakerView {
  state: 'up' | 'down';
  since: number;
  consecutiveFailures: number;
  probeIntervalMs: number;
  /** The breaker is on (`CACHE_BREAKER=on`): calls fail at once while down; off, `state` is the health alone. */
  failFast: boolean;
  lastError?: { code?: string; message: string };
}

/** The cache's health and breaker now, or `undefined` before the store is known. */
export function breakerView(cache: Cache): BreakerView | undefined {
  const { state, since, consecutiveFailures, probeIntervalMs, failFast, lastError } = cache.health();
  if (consecutiveFailures === undefined || probeIntervalMs === undefined) return undefined;
  const view: BreakerView = { state, since, consecutiveFailures, probeIntervalMs, failFast: failFast === true };
  if (lastError !== undefined) {
    const e = lastError as { code?: unknown; message?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(lastError);
    view.lastError = typeof e.code === 'string' ? { code: e.code, message } : { message };
  }
  return view;
}

/**
 * Each store's topology, checked at most every two seconds in the background: a request gets
 * the last answer at once (a frozen server never holds the page), the first request waits for
 * the first check. The checks run as probes: they never count in the figures.
 */
export function topologyViews(caches: Cache[]): () => Promise<StoreView[]> {
  const last = new Map<string, StoreView>();
  let running: Promise<StoreView[]> | undefined;
  let checkedAt = 0;
  const check = () => {
    running ??= Promise.all(caches.map(viewOf)).then((views) => {
      for (const view of views) last.set(view.name, view);
      checkedAt = Date.now();
      running = undefined;
      return views;
    });
    return running;
  };
  return async () => {
    if (last.size === 0) return check();
    if (Date.now() - checkedAt >= CHECK_EVERY_MS) void check();
    return caches.map((cache) => last.get(cache.name) as StoreView);
  };
}

async function viewOf(cache: Cache): Promise<StoreView> {
  const health = await asProbe(() =>
    checkStore(cache.name, cache, {
      timeoutMs: CHECK_TIMEOUT_MS,
      latencySamples: 0,
      probe: false,
      waitForL1: false,
    }),
  ).catch((error: unknown) => failed(cache.name, error));
  return view(health);
}

function failed(name: string, error: unknown): StoreHealth {
  const message = error instanceof Error ? error.message : String(error);
  return {
    name,
    driver: name,
    ok: false,
    steps: {},
    warnings: [],
    problem: { step: 'connect', code: 'E_CHECK', message },
  };
}

function view(health: StoreHealth): StoreView {
  const out: StoreView = {
    name: health.name,
    driver: health.driver,
    ok: health.ok,
    warnings: health.warnings,
    nodes: [],
    checkedAt: Date.now(),
  };
  if (health.problem) out.problem = { code: health.problem.code, message: health.problem.message };
  const d = health.description;
  if (d === undefined) return out;
  out.mode = d.topology.mode;
  out.nodes = d.topology.nodes.map((n) => {
    const node: NodeView = { address: n.address, role: n.role, status: n.status };
    if (n.share !== undefined) node.share = n.share;
    if (n.state !== undefined) node.state = n.state;
    if (n.lagSeconds !== undefined) node.lagSeconds = n.lagSeconds;
    return node;
  });
  // Read replicas the store connects to itself, when the primary does not list them.
  for (const r of d.replicas ?? []) {
    if (!out.nodes.some((n) => n.address === r.address))
      out.nodes.push({ address: r.address, role: 'replica', status: r.status });
  }
  if (d.discovery) out.discovery = { endpoint: d.discovery.endpoint, version: d.discovery.version, ok: d.discovery.ok };
  if (d.l1) {
    const { state, invalidation, entries, maxEntries, bytes, maxBytes, ttlMs, hits, flushes } = d.l1;
    out.l1 = { state, invalidation, entries, maxEntries, bytes, maxBytes, ttlMs, hits, flushes };
    const fleet = d.l1.fleet;
    if (fleet !== undefined) {
      const { leaseHeld, leaseMs, stateIn, lastBarrier } = fleet;
      out.l1.fleet = { leaseHeld, leaseMs, stateIn, ...(lastBarrier ? { lastBarrier: { ...lastBarrier } } : {}) };
    }
  }
  return out;
}

/** One event of `larder.topology`, with when the page saw it. */
export interface TopologyEntry {
  /** Epoch ms. */
  at: number;
  store: string;
  driver: string;
  /** `failover`, `node-added`, `node-removed`, `node-ejected`, `node-readmitted`, `discovery`, `l1-flushed`, `l1-refused`; `breaker-down`, `breaker-up` (the cache's `down` and `up`). */
  event: string;
  node?: string;
  version?: number;
  reason?: string;
}

/** The last topology events of every store (newest first), from the `larder.topology` channel. */
export class TopologyLog {
  readonly #events: TopologyEntry[] = [];
  readonly #channel = channel('larder.topology');
  readonly #listener = (message: unknown) => {
    const e = message as Omit<TopologyEntry, 'at'>;
    const entry: TopologyEntry = { at: Date.now(), store: e.store, driver: e.driver, event: e.event };
    if (e.node !== undefined) entry.node = e.node;
    if (e.version !== undefined) entry.version = e.version;
    if (e.reason !== undefined) entry.reason = e.reason;
    this.#events.unshift(entry);
    this.#events.length = Math.min(this.#events.length, EVENTS_KEPT);
  };

  readonly #unwatch: (() => void)[] = [];

  constructor() {
    this.#channel.subscribe(this.#listener);
  }

  /** Lists each cache's L2 breaker opening and closing (`down`, `up`; the reason: the last error in words). */
  watchBreakers(caches: Cache[]): void {
    for (const cache of caches) {
      let driver = cache.name;
      cache.getStore().then((store) => (driver = store.driver), noop);
      const listener = (health: { state: 'up' | 'down'; lastError?: unknown }) => {
        const reason =
          health.state === 'down' ? (health.lastError as { message?: unknown } | undefined)?.message : undefined;
        this.#listener({
          store: cache.name,
          driver,
          event: `breaker-${health.state}`,
          ...(typeof reason === 'string' ? { reason } : {}),
        });
      };
      cache.on('down', listener);
      cache.on('up', listener);
      this.#unwatch.push(() => {
        cache.off('down', listener);
        cache.off('up', listener);
      });
    }
  }

  /** The kept events, newest first. */
  recent(): TopologyEntry[] {
    return [...this.#events];
  }

  /** Stops listening. */
  close(): void {
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    this.#channel.unsubscribe(this.#listener);
  }
}
