/**
 * How long the remember bench's scenarios run: scaled down by default (under a minute), the
 * issue's own lengths with `--full` (about 14 minutes), and the bound on each scenario's
 * loader runs, printed beside the measured ones.
 */

/** Scenario 1: a slow loader with a stale value present. */
export interface SlowLengths {
  loaderMs: number;
  soft: number;
  callersPerInstance: number;
}

/** Scenario 3: the source down, a steady rate on one key past its TTL with grace. */
export interface DownLengths {
  ms: number;
  rps: number;
  loaderMs: number;
  /** larder's `failure.backoff` (= `max`) and bentocache's `graceBackoff`. */
  backoff: number;
}

/** Scenario 4: refresh-ahead on a hot key. */
export interface HotLengths {
  ttl: number;
  ms: number;
  rps: number;
  loaderMs: number;
  at: number;
  jitter: number;
}

/** Every scenario's lengths, and what the table calls them. */
export interface Lengths {
  name: string;
  slow: SlowLengths;
  down: DownLengths;
  hot: HotLengths;
}

/** The default: the durations scaled down (60 s outage → 3 s, 2 minutes of a 10 s TTL → 4 s of a 1 s TTL). */
export const SHORT: Lengths = {
  name: 'short (scaled down)',
  slow: { loaderMs: 3000, soft: 100, callersPerInstance: 5 },
  down: { ms: 3000, rps: 100, loaderMs: 1, backoff: 500 },
  hot: { ttl: 1000, ms: 4000, rps: 50, loaderMs: 100, at: 0.8, jitter: 0.1 },
};

/** `--full`: the issue's own lengths (scenario 1 is the same as the default's). */
export const FULL: Lengths = {
  name: 'full (the issue’s lengths)',
  slow: SHORT.slow,
  down: { ms: 60_000, rps: 200, loaderMs: 1, backoff: 500 },
  hot: { ttl: 10_000, ms: 120_000, rps: 50, loaderMs: 100, at: 0.8, jitter: 0.1 },
};

/**
 * `lengths` with every duration (run lengths, TTL, loader times; not the rates, the soft timeout
 * nor the backoff) multiplied by `factor`: the hidden `--scale` for a quick smoke run.
 */
export function scaled(lengths: Lengths, factor: number): Lengths {
  if (!(factor > 0)) throw new Error('--scale must be a positive number');
  if (factor === 1) return lengths;
  const times = (ms: number) => Math.max(1, Math.round(ms * factor));
  const { slow, down, hot } = lengths;
  return {
    name: `${lengths.name} × ${factor}`,
    slow: { ...slow, loaderMs: times(slow.loaderMs) },
    down: { ...down, ms: times(down.ms) },
    hot: { ...hot, ttl: times(hot.ttl), ms: times(hot.ms), loaderMs: times(hot.loaderMs) },
  };
}

/** The bound on scenario 1: exactly one loader run across the fleet, every caller within soft + 20 ms. */
export const slowBound = (slow: SlowLengths) => `1 run; p99 ≤ ${slow.soft + 20} ms`;

/** The bound on scenario 3: loader runs across the fleet ≤ outage / backoff + instances. */
export const downBound = (down: DownLengths, instances: number) =>
  `≤ ${Math.floor(down.ms / down.backoff) + instances} runs (${down.ms / 1000} s / ${down.backoff} ms + ${instances})`;

/** The bound on scenario 4: one loader run per refresh, no latency step (p99 ≤ 1.2× the steady key's). */
export const hotBound = () => '1 per refresh; p99 ≤ 1.2× steady';
