/**
 * Helpers of the two-tiers scenario (src/scenarios/two-tiers.ts): invalidation arrivals, and the
 * peer that runs in another process. Run as a script (`node --import tsx two-tiers-peer.ts <redis
 * url>`, forked by the scenario), it is a larder instance with an L1 on the prefix `xdelay:`, a raw
 * tracking redirect (BCAST on `xrawt:`) and a raw subscriber of `xfloor`; it reports each arrival's
 * wall time over IPC and answers `get`s.
 */
import { fileURLToPath } from 'node:url';
import { Cache } from '@larder/core';
import type { CacheStore, InvalidationSource } from '@larder/core/driver';
import { createRedisStore } from '@larder/redis';
import { Redis } from 'ioredis';

/** An invalidation that has not arrived after this long fails the case (the L1 is down). */
const TIMEOUT_MS = 2000;

/** Waits for one invalidation at a time and keeps the delays (ms from the write's call to the arrival). */
export class Arrivals {
  /** Every delay, and those taken inside a measured round (between the counter reads). */
  readonly all: number[] = [];
  readonly measured: number[] = [];
  #from = -1;
  #waiting: { key: string; t0: number; resolve: () => void; timer: NodeJS.Timeout } | undefined;

  /** Starts waiting for `key`; `write` is then called (its start is t0). */
  async around(key: string, write: () => unknown): Promise<void> {
    const arrived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        reject(new Error(`no invalidation of ${key} within ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      this.#waiting = { key, t0: 0, resolve, timer };
    });
    (this.#waiting as { t0: number }).t0 = performance.now();
    await write();
    await arrived;
  }

  /** An invalidation of `keys` reached its destination, at `at` (this process's `performance.now()`; default now). */
  arrive(keys: readonly string[], at = performance.now()): void {
    const w = this.#waiting;
    if (w === undefined || !keys.includes(w.key)) return;
    this.#waiting = undefined;
    clearTimeout(w.timer);
    this.all.push(at - w.t0);
    w.resolve();
  }

  /** Called at the start (odd calls) and end (even calls) of each measured round. */
  mark(): void {
    if (this.#from < 0) this.#from = this.all.length;
    else {
      this.measured.push(...this.all.slice(this.#from));
      this.#from = -1;
    }
  }
}

/** Hands every invalidation `store`'s L1 receives to `arrived`, after the L1 has dropped the keys. */
export function recordInvalidations(store: CacheStore, arrived: (keys: readonly string[]) => void): CacheStore {
  const own = store.invalidation?.bind(store);
  if (own === undefined) throw new Error('the Redis store offers no invalidation source');
  (store as { invalidation?: CacheStore['invalidation'] }).invalidation = (mode, options) => {
    const source = own(mode, options);
    if (source === undefined) return undefined;
    const recorded: InvalidationSource = {
      mode: source.mode,
      publish: source.publish?.bind(source),
      close: source.close.bind(source),
      start: (handlers) =>
        source.start({
          ...handlers,
          onKeys(keys) {
            handlers.onKeys(keys);
            arrived(keys);
          },
        }),
    };
    return recorded;
  };
  return store;
}

/** Waits until `cache`'s L1 is up (10 s at most). */
export async function waitUp(cache: Cache): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await cache.describeL1())?.state !== 'up') {
    if (Date.now() > deadline) throw new Error('L1 not up after 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Messages of the peer process: arrivals in wall time (`performance.timeOrigin + now()`), `get` answers. */
export type PeerMessage = 'ready' | { at: number; keys: string[] } | { got: string };

async function peer(url: string): Promise<void> {
  const send = (message: PeerMessage) => process.send?.(message);
  const wall = () => performance.timeOrigin + performance.now();
  const store = recordInvalidations(createRedisStore({ url }), (keys) => send({ at: wall(), keys: [...keys] }));
  const cache = new Cache({ store, prefix: 'xdelay:', l1: { invalidation: 'tracking' } });
  const sub = new Redis(url);
  await sub.subscribe('xfloor');
  sub.on('message', (_channel: string, message: string) => send({ at: wall(), keys: [message] }));
  // RESP2, as the tracking link: ioredis surfaces RESP2 Pub/Sub messages, not RESP3 `invalidate` pushes.
  const tracker = new Redis(url, { protocol: 2 });
  const trackSub = new Redis(url, { protocol: 2 });
  const id = (await trackSub.client('ID')) as number;
  await trackSub.subscribe('__redis__:invalidate');
  trackSub.on('messageBuffer', (_channel: Buffer, message: unknown) =>
    send({ at: wall(), keys: Array.isArray(message) ? message.map(String) : [String(message)] }),
  );
  await tracker.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', 'xrawt:');
  await waitUp(cache);
  process.on('message', (message: { get: string }) => {
    void cache.get(message.get).then(() => send({ got: message.get }));
  });
  // The parent going away (or killing this process) ends it.
  process.on('disconnect', () => process.exit(0));
  send('ready');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  peer(process.argv[2] as string).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
