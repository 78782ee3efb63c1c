/**
 * Issue #39's scenarios 1, 3 and 4, scaled down to run in under a minute, each a list of variants
 * (subjects.ts) run one after the other on the same redis-server, each on a key of its own.
 *
 * Which option of each library answers which of larder's (closest equivalents; "none" where a
 * library has nothing, its row is measured anyway):
 *
 * | larder                         | bentocache 1.6                                                                 | cache-manager 7                                             |
 * | ------------------------------ | ------------------------------------------------------------------------------ | ----------------------------------------------------------- |
 * | `grace` (serve a stale value)  | `grace`                                                                        | none; emulated: TTL `ttl + grace`, `refreshThreshold` grace |
 * | `timeout.soft`                 | `timeout` (soft timeout; 0, its default, answers graced values at once)        | none (the emulated grace answers at once)                   |
 * | `lock` (one loader per fleet)  | none: its lock is per process (`lockTimeout` bounds the wait on it)            | none: `wrap` coalesces per process                          |
 * | `failure: { backoff, max }`    | `graceBackoff` (fixed; applied when the factory fails in the foreground)      | none                                                        |
 * | `refreshAhead: { at, jitter }` | none; `grace` with `timeout` 0 serves the old value past the TTL               | `refreshThreshold` = (1 − at) × TTL, no jitter              |
 */
import { type Calls, newCalls, percentile, refreshes, Source, sleep, steadyLoad, timed } from './drive';
import { bento, cacheManager, type Fleet, larder, type Variant } from './subjects';

const HOUR = 3_600_000;

/** One row of the table. */
export interface Row {
  scenario: string;
  subject: string;
  options: string;
  calls: Calls;
  /** Scenario 4: the same load on a key whose TTL does not end during the run. */
  steady?: Calls;
  /** Loader runs across the fleet. */
  runs: number;
  /** Loader runs per second (scenario 3) or per refresh (scenario 4). */
  per: string;
}

/** Where the variants run. */
export interface Setting {
  server: { url: string; host: string; port: number };
  instances: number;
  /** Called before each variant, for progress. */
  progress(text: string): void;
}

/** Opens `variant`, runs `body`, waits out the loaders still running, closes it. */
async function withFleet<T>(
  setting: Setting,
  variant: Variant,
  sources: Source[],
  body: (fleet: Fleet) => Promise<T>,
): Promise<T> {
  setting.progress(`${variant.subject} (${variant.options})`);
  const fleet = variant.open(setting.server, setting.instances);
  try {
    // Every instance connects (lazily, in all three libraries) before anything is measured.
    await Promise.all(
      Array.from({ length: setting.instances }, (_, i) => fleet.remember(i, `warm-up:${i}`, HOUR, async () => 'w')),
    );
    const result = await body(fleet);
    await Promise.all(sources.map((source) => source.settled(15_000)));
    return result;
  } finally {
    await fleet.close();
  }
}

/** Writes `key` with a 50 ms TTL through instance 0 (the variant's own options, grace included) and waits until its TTL is over. */
async function staleKey(fleet: Fleet, key: string): Promise<void> {
  await fleet.remember(0, key, 50, async () => 'old');
  await sleep(150);
}

export const SLOW = { loaderMs: 3000, soft: 100, callersPerInstance: 5 };

/** Scenario 1: a 3 s loader, a stale value present; every instance's callers arrive at once. */
export async function slowLoader(setting: Setting): Promise<Row[]> {
  const variants = [
    larder(
      { grace: HOUR, lock: { ttl: '10s', wait: '10s' }, timeout: { soft: SLOW.soft } },
      'grace 1h, lock {ttl 10s, wait 10s}, timeout.soft 100 ms',
    ),
    bento({ grace: HOUR, timeout: SLOW.soft }, 'grace 1h, timeout 100 ms (soft); lock per process'),
    cacheManager({ grace: HOUR }, 'emulated grace: TTL + 1h, refreshThreshold 1h; no timeout, no fleet lock'),
  ];
  const rows: Row[] = [];
  for (const [v, variant] of variants.entries()) {
    const source = new Source('slow', SLOW.loaderMs);
    const calls = newCalls();
    await withFleet(setting, variant, [source], async (fleet) => {
      const key = `slow:${v}`;
      await staleKey(fleet, key);
      await Promise.all(
        Array.from({ length: setting.instances * SLOW.callersPerInstance }, (_, c) =>
          timed(calls, () => fleet.remember(c % setting.instances, key, 60_000, source.load)),
        ),
      );
    });
    rows.push({ scenario: '1 slow loader', ...names(variant), calls, runs: source.runs, per: '' });
  }
  return rows;
}

export const DOWN = { ms: 3000, rps: 100, loaderMs: 1, backoff: 500 };

/** Scenario 3: the source fails in 1 ms; every instance calls a key past its TTL (with grace) at a steady rate. */
export async function sourceDown(setting: Setting): Promise<Row[]> {
  const backoff = `${DOWN.backoff} ms`;
  const variants = [
    larder({ grace: HOUR }, 'grace 1h'),
    larder(
      { grace: HOUR, failure: { backoff: DOWN.backoff, max: DOWN.backoff } },
      `grace 1h, failure {backoff ${backoff}, max ${backoff}}`,
    ),
    bento({ grace: HOUR, graceBackoff: DOWN.backoff }, `grace 1h, graceBackoff ${backoff}, timeout 0 (default)`),
    bento(
      { grace: HOUR, graceBackoff: DOWN.backoff, timeout: 100 },
      `grace 1h, graceBackoff ${backoff}, timeout 100 ms`,
    ),
    cacheManager({ grace: HOUR }, 'emulated grace: TTL + 1h, refreshThreshold 1h; no backoff'),
  ];
  const rows: Row[] = [];
  for (const [v, variant] of variants.entries()) {
    const source = new Source('down', DOWN.loaderMs);
    const calls = newCalls();
    await withFleet(setting, variant, [source], async (fleet) => {
      const key = `down:${v}`;
      await staleKey(fleet, key);
      await steadyLoad(setting.instances, DOWN.rps, DOWN.ms, (i) => [
        timed(calls, () => fleet.remember(i, key, 50, source.load)),
      ]);
    });
    const per = `${(source.runs / (DOWN.ms / 1000)).toFixed(1)}/s`;
    rows.push({ scenario: '3 source down', ...names(variant), calls, runs: source.runs, per });
  }
  return rows;
}

export const HOT = { ttl: 1000, ms: 4000, rps: 50, loaderMs: 100, at: 0.8, jitter: 0.1 };

/**
 * Scenario 4: a hot key with a 1 s TTL and a 100 ms source, and beside it (same instances, same
 * rate) a steady key whose TTL does not end during the run: the latency a TTL boundary adds.
 */
export async function hotKey(setting: Setting): Promise<Row[]> {
  const threshold = `${Math.round((1 - HOT.at) * HOT.ttl)} ms`;
  const variants = [
    larder({ refreshAhead: { at: HOT.at, jitter: HOT.jitter } }, `refreshAhead {at ${HOT.at}, jitter ${HOT.jitter}}`),
    larder({}, 'none: loaded at expiry'),
    bento({ grace: HOUR }, 'no refresh-ahead; grace 1h, timeout 0: stale past the TTL, refreshed in background'),
    cacheManager({ refreshAt: HOT.at }, `refreshThreshold ${threshold} (${(1 - HOT.at).toFixed(1)} × TTL)`),
  ];
  const rows: Row[] = [];
  for (const [v, variant] of variants.entries()) {
    const source = new Source('slow', HOT.loaderMs);
    const steadySource = new Source('slow', HOT.loaderMs);
    const calls = newCalls();
    const steady = newCalls();
    await withFleet(setting, variant, [source, steadySource], async (fleet) => {
      const key = `hot:${v}`;
      const steadyKey = `steady:${v}`;
      await fleet.remember(0, key, HOT.ttl, async () => 'first');
      await fleet.remember(0, steadyKey, HOUR, async () => 'first');
      await steadyLoad(setting.instances, HOT.rps, HOT.ms, (i) => [
        timed(calls, () => fleet.remember(i, key, HOT.ttl, source.load)),
        timed(steady, () => fleet.remember(i, steadyKey, HOUR, steadySource.load)),
      ]);
    });
    const waves = refreshes(source.starts, HOT.ttl / 4);
    const per = `${waves === 0 ? '0' : (source.runs / waves).toFixed(1)} per refresh (${waves} refreshes)`;
    rows.push({ scenario: '4 hot key', ...names(variant), calls, steady, runs: source.runs, per });
  }
  return rows;
}

const names = (variant: Variant) => ({ subject: variant.subject, options: variant.options });

/** The table's p50/p99 of a row's callers. */
export const p = (calls: Calls, q: number) => percentile(calls.latencies, q);
