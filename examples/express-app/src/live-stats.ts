import { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { Cache } from '@larder/core';
import { type Histogram, histogram, merge, observe, quantile } from './latency-histogram';

/** Seconds of traffic kept (the charts' span). */
export const WINDOW_SECONDS = 300;
/** Seconds the headline figures cover. */
export const SUMMARY_SECONDS = 60;
/** Seconds per chart point. */
export const STEP_SECONDS = 10;

// Operations run inside `asProbe` (health checks, the page's own topology reads) are not
// traffic: the page never counts them, so /healthz probes are never misses.
const probes = new AsyncLocalStorage<true>();

/** Runs `work` as a health probe: its cache operations and errors stay out of the live page's figures. */
export function asProbe<T>(work: () => Promise<T>): Promise<T> {
  return probes.run(true, work);
}

/** What the page reads of a `larder.operation` trace (see @larder/core's OperationTraceContext). */
interface Trace {
  store: string;
  keyCount: number;
  hit?: boolean | number;
  tier?: 'l1' | 'l2';
  loaderMs?: number;
}

type TierName = 'l1' | 'l2';

/** One tier's traffic in one second. */
interface TierSecond {
  ops: number;
  latency: Histogram | undefined;
}

/** One second of one store's traffic. */
interface Second {
  t: number;
  /** Keys read (a batch counts each key). */
  reads: number;
  l1Hits: number;
  l2Hits: number;
  errors: number;
  l1: TierSecond;
  l2: TierSecond;
}

/** One tier's figures over a span. */
export interface TierFigures {
  ops: number;
  opsPerSec: number;
  /** Latency percentiles of the cache operations, loaders apart, in ms (null: no operation). */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** A store's figures over a span. */
export interface Figures {
  seconds: number;
  /** Keys read, and how many were found (in either tier). */
  reads: number;
  hits: number;
  /** Hits over reads, 0..1 (null: no read). */
  hitRatio: number | null;
  /** Reads the L1 answered, over all reads (null: no read). */
  l1HitShare: number | null;
  /** Reads the store (L2) answered, over the reads that reached it (null: none reached it). */
  l2HitRatio: number | null;
  /** Failed cache operations (a loader's own failure is not one). */
  errors: number;
  errorsPerSec: number;
  tiers: Record<TierName, TierFigures>;
}

/** The charts' data: one column per figure, one row per `STEP_SECONDS`, oldest first. */
export interface Series {
  step: number;
  /** End of each step, epoch seconds. */
  t: number[];
  hitRatio: (number | null)[];
  l1HitShare: (number | null)[];
  errorsPerSec: number[];
  tiers: Record<
    TierName,
    { opsPerSec: number[]; p50: (number | null)[]; p95: (number | null)[]; p99: (number | null)[] }
  >;
}

/**
 * The last five minutes of every store's traffic, per tier, from the `larder.operation` tracing
 * channel (the one @larder/otel listens to) and the caches' `error` events: per second the
 * operations, keys read and found by each tier, errors and a latency histogram. Latency is the
 * operation's duration less the time it waited for a loader (`loaderMs`): the cache's own time.
 */
export class LiveStats {
  readonly #seconds = new Map<string, Second[]>();
  readonly #started = new WeakMap<object, number>();
  readonly #channel = tracingChannel('larder.operation');
  readonly #handlers = {
    start: (message: unknown) => {
      if (probes.getStore() === undefined) this.#started.set(message as object, performance.now());
    },
    end: () => {},
    asyncStart: () => {},
    asyncEnd: (message: unknown) => this.#record(message as Trace),
    error: () => {},
  };
  readonly #stopErrors: (() => void)[] = [];

  constructor(caches: Cache[]) {
    this.#channel.subscribe(this.#handlers);
    for (const cache of caches) {
      const listener = ({ operation }: { operation: string }) => {
        // A loader's own failure (served stale) is the app's, not the cache's.
        if (operation === 'remember.loader' || probes.getStore() !== undefined) return;
        this.#second(cache.name, Date.now()).errors++;
      };
      cache.on('error', listener);
      this.#stopErrors.push(() => cache.off('error', listener));
    }
  }

  /** The store's figures over the last `seconds` (default one minute). */
  figures(store: string, now = Date.now(), seconds = SUMMARY_SECONDS): Figures {
    const last = Math.floor(now / 1000);
    return figuresOf(this.#range(store, last - seconds + 1, last), seconds);
  }

  /** The store's last five minutes, one point per `STEP_SECONDS`. */
  series(store: string, now = Date.now()): Series {
    const last = Math.floor(now / 1000);
    const series: Series = {
      step: STEP_SECONDS,
      t: [],
      hitRatio: [],
      l1HitShare: [],
      errorsPerSec: [],
      tiers: { l1: { opsPerSec: [], p50: [], p95: [], p99: [] }, l2: { opsPerSec: [], p50: [], p95: [], p99: [] } },
    };
    for (let end = last - WINDOW_SECONDS + STEP_SECONDS; end <= last; end += STEP_SECONDS) {
      const f = figuresOf(this.#range(store, end - STEP_SECONDS + 1, end), STEP_SECONDS);
      series.t.push(end);
      series.hitRatio.push(f.hitRatio);
      series.l1HitShare.push(f.l1HitShare);
      series.errorsPerSec.push(f.errorsPerSec);
      for (const tier of ['l1', 'l2'] as const) {
        const column = series.tiers[tier];
        const figures = f.tiers[tier];
        column.opsPerSec.push(figures.opsPerSec);
        column.p50.push(figures.p50);
        column.p95.push(figures.p95);
        column.p99.push(figures.p99);
      }
    }
    return series;
  }

  /** Stops listening. */
  close(): void {
    this.#channel.unsubscribe(this.#handlers);
    for (const stop of this.#stopErrors.splice(0)) stop();
  }

  #range(store: string, from: number, to: number): Second[] {
    return (this.#seconds.get(store) ?? []).filter((s) => s.t >= from && s.t <= to);
  }

  #second(store: string, now: number): Second {
    const t = Math.floor(now / 1000);
    let seconds = this.#seconds.get(store);
    if (seconds === undefined) {
      seconds = [];
      this.#seconds.set(store, seconds);
    }
    let second = seconds.at(-1);
    if (second?.t !== t) {
      second = { t, reads: 0, l1Hits: 0, l2Hits: 0, errors: 0, l1: tierSecond(), l2: tierSecond() };
      seconds.push(second);
      while ((seconds[0] as Second).t <= t - WINDOW_SECONDS) seconds.shift();
    }
    return second;
  }

  #record(trace: Trace): void {
    const started = this.#started.get(trace);
    if (started === undefined) return;
    const ms = Math.max(0, performance.now() - started - (trace.loaderMs ?? 0));
    const second = this.#second(trace.store, Date.now());
    const tier = second[trace.tier === 'l1' ? 'l1' : 'l2'];
    tier.ops++;
    tier.latency ??= histogram();
    observe(tier.latency, ms);
    if (trace.hit === undefined) return;
    const hits = typeof trace.hit === 'number' ? trace.hit : trace.hit ? 1 : 0;
    second.reads += typeof trace.hit === 'number' ? trace.keyCount : 1;
    if (trace.tier === 'l1') second.l1Hits += hits;
    else second.l2Hits += hits;
  }
}

function tierSecond(): TierSecond {
  return { ops: 0, latency: undefined };
}

function figuresOf(seconds: Second[], span: number): Figures {
  let reads = 0;
  let l1Hits = 0;
  let l2Hits = 0;
  let errors = 0;
  for (const s of seconds) {
    reads += s.reads;
    l1Hits += s.l1Hits;
    l2Hits += s.l2Hits;
    errors += s.errors;
  }
  const hits = l1Hits + l2Hits;
  const reachedStore = reads - l1Hits;
  return {
    seconds: span,
    reads,
    hits,
    hitRatio: reads > 0 ? ratio(hits / reads) : null,
    l1HitShare: reads > 0 ? ratio(l1Hits / reads) : null,
    l2HitRatio: reachedStore > 0 ? ratio(l2Hits / reachedStore) : null,
    errors,
    errorsPerSec: rate(errors, span),
    tiers: { l1: tierFigures(seconds, 'l1', span), l2: tierFigures(seconds, 'l2', span) },
  };
}

function tierFigures(seconds: Second[], tier: TierName, span: number): TierFigures {
  let ops = 0;
  const latency = histogram();
  for (const s of seconds) {
    ops += s[tier].ops;
    const h = s[tier].latency;
    if (h !== undefined) merge(latency, h);
  }
  return {
    ops,
    opsPerSec: rate(ops, span),
    p50: quantile(latency, 0.5) ?? null,
    p95: quantile(latency, 0.95) ?? null,
    p99: quantile(latency, 0.99) ?? null,
  };
}

function ratio(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function rate(count: number, seconds: number): number {
  return Math.round((count / seconds) * 100) / 100;
}
