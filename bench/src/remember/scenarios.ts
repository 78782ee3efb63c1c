/**
 * Issue #39's scenarios 1, 3 and 4 at the lengths the setting gives (lengths.ts), each a list of variants
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
import { downBound, hotBound, type Lengths, slowBound } from './lengths';
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
  /** The bound on the loader runs (and latency), to read beside the measured ones. */
  bound: string;
}

/** Where the variants run. */
export interface Setting {
  server: { url: string; host: string; port: number };
  instances: number;
  /** How long each scenario runs. */
  lengths: Lengths;
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

/** Scenario 1: a 3 s loader, a stale value present; every instance's callers arrive at once. */
export async function slowLoader(setting: Setting): Promise<Row[]> {
  const slow = setting.lengths.slow;
  const soft = `${slow.soft} ms`;
  const variants = [
    larder(
      { grace: HOUR, lock: { ttl: '10s', wait: '10s' }, timeout: { soft: slow.soft } },
      `grace 1h, lock {ttl 10s, wait 10s}, timeout.soft ${soft}`,
    ),
    bento({ grace: HOUR, timeout: slow.soft }, `grace 1h, timeout ${soft} (soft); lock per process`),
    cacheManager({ grace: HOUR }, 'emulated grace: TTL + 1h, refreshThreshold 1h; no timeout, no fleet lock'),
  ];
  const rows: Row[] = [];
  for (const [v, variant] of variants.entries()) {
    const source = new Source('slow', slow.loaderMs);
    const calls = newCalls();
    await withFleet(setting, variant, [source], async (fleet) => {
      const key = `slow:${v}`;
      await staleKey(fleet, key);
      await Promise.all(
        Array.from({ length: setting.instances * slow.callersPerInstance }, (_, c) =>
          timed(calls, () => fleet.remember(c % setting.instances, key, 60_000, source.load)),
        ),
      );
    });
    const bound = slowBound(slow);
    rows.push({ scenario: '1 slow loader', ...names(variant), calls, runs: source.runs, per: '', bound });
  }
  return rows;
}

/** Scenario 3: the source fails in 1 ms; every instance calls a key past its TTL (with grace) at a steady rate. */
export async function sourceDown(setting: Setting): Promise<Row[]> {
  const down = setting.lengths.down;
  const backoff = `${down.backoff} ms`;
  const variants = [
    larder({ grace: HOUR }, 'grace 1h'),
    larder(
      { grace: HOUR, failure: { backoff: down.backoff, max: down.backoff } },
      `grace 1h, failure {backoff ${backoff}, max ${backoff}}`,
    ),
    bento({ grace: HOUR, graceBackoff: down.backoff }, `grace 1h, graceBackoff ${backoff}, timeout 0 (default)`),
    bento(
      { grace: HOUR, graceBackoff: down.backoff, timeout: 100 },
      `grace 1h, graceBackoff ${backoff}, timeout 100 ms`,
    ),
    cacheManager({ grace: HOUR }, 'emulated grace: TTL + 1h, refreshThreshold 1h; no backoff'),
  ];
  const rows: Row[] = [];
  for (const [v, variant] of variants.entries()) {
    const source = new Source('down', down.loaderMs);
    const calls = newCalls();
    await withFleet(setting, variant, [source], async (fleet) => {
      const key = `down:${v}`;
      await staleKey(fleet, key);
      await steadyLoad(setting.instances, down.rps, down.ms, (i) => [
        timed(calls, () => fleet.remember(i, key, 50, source.load)),
      ]);
    });
    const per = `${(source.runs / (down.ms / 1000)).toFixed(1)}/s`;
    const bound = downBound(down, setting.instances);
    rows.push({ scenario: '3 source down', ...names(variant), calls, runs: source.runs, per, bound });
  }
  return rows;
}

/**
 * Scenario 4: a hot key (a 1 s TTL and a 100 ms source by default), and beside it (same instances,
 * same rate) a steady key whose TTL does not end during the run: the latency a TTL boundary adds.
 */
export async function hotKey(setting: Setting): Promise<Row[]> {
  const hot = setting.lengths.hot;
  const threshold = `${Math.round((1 - hot.at) * hot.ttl)} ms`;
  const variants = [
    larder({ refreshAhead: { at: hot.at, jitter: hot.jitter } }, `refreshAhead {at ${hot.at}, jitter ${hot.jitter}}`),
    larder({}, 'none: loaded at expiry'),
    bento({ grace: HOUR }, 'no refresh-ahead; grace 1h, timeout 0: stale past the TTL, refreshed in background'),
    cacheManager({ refreshAt: hot.at }, `refreshThreshold ${threshold} (${(1 - hot.at).toFixed(1)} × TTL)`),
  ];
  const rows: Row[] = [];
  for (const [v, variant] of variants.entries()) {
    const source = new Source('slow', hot.loaderMs);
    const steadySource = new Source('slow', hot.loaderMs);
    const calls = newCalls();
    const steady = newCalls();
    await withFleet(setting, variant, [source, steadySource], async (fleet) => {
      const key = `hot:${v}`;
      const steadyKey = `steady:${v}`;
      await fleet.remember(0, key, hot.ttl, async () => 'first');
      await fleet.remember(0, steadyKey, HOUR, async () => 'first');
      await steadyLoad(setting.instances, hot.rps, hot.ms, (i) => [
        timed(calls, () => fleet.remember(i, key, hot.ttl, source.load)),
        timed(steady, () => fleet.remember(i, steadyKey, HOUR, steadySource.load)),
      ]);
    });
    const waves = refreshes(source.starts, hot.ttl / 4);
    const per = `${waves === 0 ? '0' : (source.runs / waves).toFixed(1)} per refresh (${waves} refreshes)`;
    rows.push({ scenario: '4 hot key', ...names(variant), calls, steady, runs: source.runs, per, bound: hotBound() });
  }
  return rows;
}

const names = (variant: Variant) => ({ subject: variant.subject, options: variant.options });

/** The table's p50/p99 of a row's callers. */
export const p = (calls: Calls, q: number) => percentile(calls.latencies, q);
