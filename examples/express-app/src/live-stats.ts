import { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { OperationTraceContext } from '@larder/core';

const WINDOW_SECONDS = 60;

// Operations run inside `asProbe` (health checks) are not traffic: the page never counts them.
const probes = new AsyncLocalStorage<true>();

/** Runs `work` as a health probe: its cache operations stay out of the live page's figures. */
export function asProbe<T>(work: () => Promise<T>): Promise<T> {
  return probes.run(true, work);
}

/** One second of one store's traffic. */
interface Bucket {
  second: number;
  ops: number;
  hits: number;
  misses: number;
  latencyMs: number;
}

/** What `/live.json` shows per store and second. */
export interface LivePoint {
  /** Epoch second. */
  t: number;
  ops: number;
  hits: number;
  misses: number;
  /** Mean operation latency in that second, ms. */
  avgMs: number;
}

/**
 * The last minute of every store's traffic, from the `larder.operation` tracing channel (the
 * same one @larder/otel listens to): per second, operations, hits, misses and mean latency.
 */
export class LiveStats {
  readonly #buckets = new Map<string, Bucket[]>();
  readonly #started = new WeakMap<object, number>();
  readonly #channel = tracingChannel('larder.operation');
  readonly #handlers = {
    start: (message: unknown) => {
      if (probes.getStore() === undefined) this.#started.set(message as object, performance.now());
    },
    end: () => {},
    asyncStart: () => {},
    asyncEnd: (message: unknown) => this.#record(message as OperationTraceContext),
    error: () => {},
  };

  constructor() {
    this.#channel.subscribe(this.#handlers);
  }

  /** The last minute of `store`, one point per second (seconds without traffic included). */
  window(store: string, now = Date.now()): LivePoint[] {
    const last = Math.floor(now / 1000);
    const bySecond = new Map((this.#buckets.get(store) ?? []).map((bucket) => [bucket.second, bucket]));
    const points: LivePoint[] = [];
    for (let t = last - WINDOW_SECONDS + 1; t <= last; t++) {
      const b = bySecond.get(t);
      points.push({
        t,
        ops: b?.ops ?? 0,
        hits: b?.hits ?? 0,
        misses: b?.misses ?? 0,
        avgMs: b && b.ops > 0 ? round(b.latencyMs / b.ops) : 0,
      });
    }
    return points;
  }

  /** Stops listening. */
  close(): void {
    this.#channel.unsubscribe(this.#handlers);
  }

  #record(context: OperationTraceContext): void {
    const started = this.#started.get(context);
    if (started === undefined) return;
    const second = Math.floor(Date.now() / 1000);
    let buckets = this.#buckets.get(context.store);
    if (buckets === undefined) {
      buckets = [];
      this.#buckets.set(context.store, buckets);
    }
    let bucket = buckets.at(-1);
    if (bucket?.second !== second) {
      bucket = { second, ops: 0, hits: 0, misses: 0, latencyMs: 0 };
      buckets.push(bucket);
      while (buckets.length > 0 && (buckets[0] as Bucket).second <= second - WINDOW_SECONDS) buckets.shift();
    }
    bucket.ops++;
    bucket.latencyMs += performance.now() - started;
    if (typeof context.hit === 'number') {
      bucket.hits += context.hit;
      bucket.misses += context.keyCount - context.hit;
    } else if (context.hit === true) bucket.hits++;
    else if (context.hit === false) bucket.misses++;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
