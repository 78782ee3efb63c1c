import type { CacheLike } from './options';

/**
 * Sessions always fail closed: a cache configured with `onError: 'miss'` resolves a failed read
 * as a miss (a logged-out user) and drops a failed write, emitting only an `error` event. This
 * watch catches those events for sessions being read or written and turns them back into
 * rejections.
 */
export class FailOpenWatch {
  /** Errors the cache reported for sessions with a call in flight, by sid. */
  private readonly swallowed = new Map<string, unknown>();
  private readonly inflight = new Map<string, number>();
  /** The cache may turn failures into misses (`onError: 'miss'`, or a cache that does not say). */
  private readonly failOpen: boolean;

  constructor(cache: CacheLike, prefix: string) {
    this.failOpen = cache.onError !== 'throw';
    const marker = `${prefix}:`;
    cache.on?.('error', (event) => {
      const key = event.key;
      const at = key === undefined ? -1 : key.lastIndexOf(marker);
      if (key === undefined || at < 0) return;
      const sid = key.slice(at + marker.length);
      if (this.inflight.has(sid)) this.swallowed.set(sid, event.error);
    });
  }

  /** Runs cache calls for `sid`, turning an error a fail-open cache swallowed back into a rejection. */
  guarded<T>(sid: string, call: () => Promise<T>): Promise<T> {
    // A cache that throws reports every failure itself: no bookkeeping needed.
    return this.failOpen ? this.watched(sid, call) : call();
  }

  private async watched<T>(sid: string, call: () => Promise<T>): Promise<T> {
    this.inflight.set(sid, (this.inflight.get(sid) ?? 0) + 1);
    try {
      const value = await call();
      const swallowed = this.swallowed.get(sid);
      if (swallowed !== undefined) throw swallowed;
      return value;
    } finally {
      const left = (this.inflight.get(sid) ?? 1) - 1;
      if (left === 0) {
        this.inflight.delete(sid);
        this.swallowed.delete(sid);
      } else this.inflight.set(sid, left);
    }
  }
}
