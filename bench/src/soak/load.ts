/** The soak's mixed load: workers calling the facade in a loop, counting calls and errors. */
import { BackendError, Cache, InvalidKeyError } from '@larder/core';
import type { CacheStore } from '@larder/core/driver';

/** Counts of one load run. */
export interface LoadCounts {
  /** Calls made. */
  ops: number;
  /** Calls that failed on purpose and rejected with the typed error expected (bad key, bad counter, failing loader). */
  expectedErrors: number;
  /** Any other failure (a timeout, a wrong answer): each is a defect or an overloaded backend. */
  unexpectedErrors: number;
  /** The first few unexpected errors, as text. */
  samples: string[];
  /** Stores opened, used and closed while the load ran. */
  churned: number;
}

const KEYS = 2_000;
const LOADER_FAILURE = 'soak: the loader failed on purpose';
const TEXT_KEY = 'text';

/** A value of 20..1000 bytes. */
function value(i: number): unknown {
  return { id: i, at: Date.now(), body: 'x'.repeat(20 + (i % 980)) };
}

/** A TTL: mostly seconds (entries expire during the run), some forever. */
function ttl(i: number): number | undefined {
  return i % 5 === 0 ? undefined : 1_000 + (i % 30) * 1_000;
}

const pick = (n: number) => Math.floor(Math.random() * n);

/** One random call; resolves true if it rejected as intended. */
async function call(cache: Cache, i: number): Promise<boolean> {
  const roll = pick(100);
  const key = `k${pick(KEYS)}`;
  if (roll < 35) {
    await cache.get(key);
  } else if (roll < 55) {
    await cache.set(key, value(i), ttl(i));
  } else if (roll < 65) {
    await cache.getMany(Array.from({ length: 5 + pick(15) }, () => `k${pick(KEYS)}`));
  } else if (roll < 75) {
    // A failing loader runs only on a miss: its key is new (a failed load stores nothing).
    const fail = pick(20) === 0;
    return expect(
      cache.remember(fail ? `f${i}` : `r${pick(KEYS / 4)}`, 2_000 + pick(5_000), () => {
        if (fail) throw new Error(LOADER_FAILURE);
        return value(i);
      }),
      fail,
      (error) => error instanceof Error && error.message.includes(LOADER_FAILURE),
    );
  } else if (roll < 84) {
    const text = pick(25) === 0;
    return expect(cache.increment(text ? TEXT_KEY : `c${pick(50)}`, 1, '1m'), text, (e) => e instanceof BackendError);
  } else if (roll < 92) {
    await cache.delete(key);
  } else if (roll < 97) {
    await cache.setMany(
      [
        [key, value(i)],
        [`k${pick(KEYS)}`, value(i + 1)],
      ],
      ttl(i),
    );
  } else {
    return expect(cache.get(''), true, (error) => error instanceof InvalidKeyError);
  }
  return false;
}

/** Awaits `promise`; true if it rejected as `fails` says it must (a wrong outcome throws). */
async function expect(
  promise: Promise<unknown>,
  fails: boolean,
  matches: (error: unknown) => boolean,
): Promise<boolean> {
  try {
    await promise;
  } catch (error) {
    if (fails && matches(error)) return true;
    throw error;
  }
  if (fails) throw new Error('a call that must fail resolved');
  return false;
}

/** Options of `runLoad`. */
export interface LoadOptions {
  /** Store under load. */
  store: CacheStore;
  /** Opens another store on the same backend (churn: opened, used, closed). */
  open: () => Promise<CacheStore>;
  /** Stop at this `performance.now()`. */
  until: number;
  /** Concurrent callers. @default 4 */
  workers?: number;
  /** A store is opened and closed this often (ms). @default 5000 */
  churnEveryMs?: number;
  /**
   * Most calls per second (all workers). Keeps drivers comparable when they run at once: the
   * in-process memory store would otherwise take the whole event loop. @default 3000
   */
  rate?: number;
}

/** Runs the mixed load until `until`; resolves the counts. */
export async function runLoad(options: LoadOptions): Promise<LoadCounts> {
  const counts: LoadCounts = { ops: 0, expectedErrors: 0, unexpectedErrors: 0, samples: [], churned: 0 };
  const cache = new Cache({ store: options.store, prefix: 'soak:', timeout: '10s' });
  await cache.set(TEXT_KEY, 'not a counter');
  const record = async (run: () => Promise<boolean>) => {
    counts.ops += 1;
    try {
      if (await run()) counts.expectedErrors += 1;
    } catch (error) {
      counts.unexpectedErrors += 1;
      if (counts.samples.length < 5)
        counts.samples.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  };
  let calls = 0;
  const workers = options.workers ?? 4;
  const perWorkerMs = (1000 * workers) / (options.rate ?? 3000);
  const worker = async () => {
    const begin = performance.now();
    for (let i = 0; performance.now() < options.until; i++) {
      const n = calls++;
      await record(() => call(cache, n));
      if (i % 16 === 15) {
        // Ahead of the rate: sleep; else still yield (in-process stores answer in microtasks,
        // and timers, sampling included, must run).
        const ahead = begin + (i + 1) * perWorkerMs - performance.now();
        await new Promise((resolve) => (ahead >= 1 ? setTimeout(resolve, ahead) : setImmediate(resolve)));
      }
    }
  };
  const churn = async () => {
    const every = options.churnEveryMs ?? 5_000;
    while (performance.now() + every < options.until) {
      await new Promise((resolve) => setTimeout(resolve, every));
      const store = await options.open();
      const other = new Cache({ store, prefix: 'soak:churn:', timeout: '10s' });
      await other.set(TEXT_KEY, 'not a counter');
      for (let i = 0; i < 20; i++) await record(() => call(other, i));
      await store.close?.();
      counts.churned += 1;
    }
  };
  await Promise.all([...Array.from({ length: workers }, worker), churn()]);
  return counts;
}
