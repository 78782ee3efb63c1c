import type { CacheTier } from '../util/tracing';
import { CacheEmitter, type CacheEventMap, type CacheEventName, type CacheListener, type CacheStats } from './events';
import type { View } from './view';

/**
 * What a cache's operations tell its listeners and counters: hits and misses (with the tier
 * that answered), writes, deletes, errors and health changes. Shared by every view of a cache;
 * a payload is built only when someone listens.
 */
export class OperationEvents {
  readonly #emitter = new CacheEmitter();
  readonly #tiered: () => boolean;

  /** `tiered` says whether an L1 is in front of the store (a hit's event names its tier then). */
  constructor(tiered: () => boolean) {
    this.#tiered = tiered;
  }

  /** Adds an event listener. */
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): void {
    this.#emitter.on(event, listener);
  }

  /** Removes an event listener. */
  off<E extends CacheEventName>(event: E, listener: CacheListener<E>): void {
    this.#emitter.off(event, listener);
  }

  /** A copy of the counters. */
  snapshot(): CacheStats {
    return this.#emitter.snapshot();
  }

  /** Emits an event that counts nothing (the store's health changes). */
  emit<E extends CacheEventName>(event: E, payload: CacheEventMap[E]): void {
    this.#emitter.emit(event, payload);
  }

  /** Counts and emits a hit or a miss; with an L1, a hit's event names its `tier`. */
  counted(view: View, key: string, hit: boolean, tier: CacheTier = 'l2'): void {
    const emitter = this.#emitter;
    if (hit) emitter.counters.hits++;
    else emitter.counters.misses++;
    const event = hit ? 'hit' : 'miss';
    if (!(emitter.any && emitter.listening(event))) return;
    emitter.emit(event, hit && this.#tiered() ? { key: view.path + key, tier } : { key: view.path + key });
  }

  /** Counts and emits a write. */
  wrote(view: View, key: string): void {
    const emitter = this.#emitter;
    emitter.counters.writes++;
    if (emitter.any && emitter.listening('write')) emitter.emit('write', { key: view.path + key });
  }

  /** Counts and emits a write of each key of a batch. */
  wroteAll(view: View, keys: readonly string[]): void {
    const emitter = this.#emitter;
    emitter.counters.writes += keys.length;
    if (!(emitter.any && emitter.listening('write'))) return;
    for (const key of keys) emitter.emit('write', { key: view.path + key });
  }

  /** Counts `removed` deletes and emits `delete` for the key (also when nothing was there: `deleted: false`). */
  deleted(view: View, key: string, deleted: boolean | undefined, removed: number): void {
    const emitter = this.#emitter;
    emitter.counters.deletes += removed;
    if (emitter.any && emitter.listening('delete')) emitter.emit('delete', { key: view.path + key, deleted });
  }

  /**
   * Counts the `count` keys a batch removed and emits `delete` for each full key of `fulls`,
   * with `deleted` from `each` when the store said per key, else only when none or all existed.
   */
  deletedAll(view: View, fulls: readonly string[], count: number, each: readonly boolean[] | undefined): void {
    const emitter = this.#emitter;
    emitter.counters.deletes += count;
    if (!(emitter.any && emitter.listening('delete'))) return;
    const all = count === fulls.length ? true : count === 0 ? false : undefined;
    for (let i = 0; i < fulls.length; i++) {
      const key = (fulls[i] as string).slice(view.prefix.length);
      emitter.emit('delete', { key: view.path + key, deleted: each ? each[i] : all });
    }
  }

  /** Counts and emits an error of `operation` (the key as the cache's root sees it). */
  errored(view: View, operation: string, key: string | undefined, error: unknown): void {
    const emitter = this.#emitter;
    emitter.counters.errors++;
    if (emitter.any && emitter.listening('error')) {
      emitter.emit('error', { operation, key: key === undefined ? undefined : view.path + key, error });
    }
  }
}
