import type { StoreHealth } from './store-breaker';

/** Payload of the `hit`, `miss` and `write` events (and the base of `delete`'s). */
export interface CacheKeyEvent {
  /** The key as the cache's root sees it: namespace path + key, without the store prefix. */
  readonly key: string;
  /** `hit` on a cache with an L1: which tier answered (`l1` process memory, `l2` the store). */
  readonly tier?: 'l1' | 'l2';
}

/** Payload of the `delete` event: emitted for every key a `delete`/`deleteMany`/`pull` asked to remove. */
export interface CacheDeleteEvent extends CacheKeyEvent {
  /** Whether the key existed and was removed; `undefined` when a driver's batch delete only reported a total (some, not all, of the keys existed). `stats().deletes` counts removals only. */
  readonly deleted: boolean | undefined;
}

/** Payload of the `error` event. */
export interface CacheErrorEvent {
  /** Facade operation that failed, e.g. `get`, `set`, `remember`, `lock.acquire`; `remember.loader` when a loader failed and a graced value was served. */
  readonly operation: string;
  /** The key involved, when the operation has one. */
  readonly key?: string;
  /** The error: a `LarderError` (backend failures are `BackendError`s with the client error as `cause`), or a loader's own error. */
  readonly error: unknown;
}

/** Events a `Cache` emits, with their payloads. */
export interface CacheEventMap {
  hit: CacheKeyEvent;
  miss: CacheKeyEvent;
  write: CacheKeyEvent;
  delete: CacheDeleteEvent;
  error: CacheErrorEvent;
  /** The store is down: 3 calls in a row failed (with the `breaker` option the breaker opened; see `Cache.health`). */
  down: StoreHealth;
  /** The store is up again: a call (a probe, while down) answered. */
  up: StoreHealth;
}

/** Name of a cache event. */
export type CacheEventName = keyof CacheEventMap;

/** Listener for one cache event. */
export type CacheListener<E extends CacheEventName> = (event: CacheEventMap[E]) => void;

/** Counters since the cache was created (shared by a cache and its namespaces). */
export interface CacheStats {
  hits: number;
  misses: number;
  writes: number;
  /** Keys actually removed (a delete of a missing key does not count). */
  deletes: number;
  errors: number;
  /** With an L1: hits per tier (`l1` process memory, `l2` the store). */
  tiers?: { l1: number; l2: number };
}

type ListenerLists = { [E in CacheEventName]?: readonly CacheListener<E>[] };

/**
 * A small typed emitter. Listener lists are copied on write, so the facade's hot path only
 * checks `listening(event)` (a property read) and allocates nothing when nobody listens.
 */
export class CacheEmitter {
  readonly #lists: ListenerLists = {};
  /** True once any listener was added (a plain field, so the facade's hot path can test it for free). */
  any = false;
  /** Mutable counters; the facade increments them directly. */
  readonly counters: CacheStats = { hits: 0, misses: 0, writes: 0, deletes: 0, errors: 0 };

  /** Adds a listener. */
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): void {
    const list = (this.#lists[event] ?? []) as readonly CacheListener<E>[];
    (this.#lists as Record<string, unknown>)[event] = [...list, listener];
    this.any = true;
  }

  /** Removes a listener added with `on`. */
  off<E extends CacheEventName>(event: E, listener: CacheListener<E>): void {
    const list = this.#lists[event] as readonly CacheListener<E>[] | undefined;
    if (!list) return;
    const next = list.filter((l) => l !== listener);
    (this.#lists as Record<string, unknown>)[event] = next.length ? next : undefined;
  }

  /** True when `event` has at least one listener (build payloads only then). */
  listening(event: CacheEventName): boolean {
    return this.any && this.#lists[event] !== undefined;
  }

  /** Calls the listeners of `event`. A throwing listener never breaks a cache operation: it becomes a process warning. */
  emit<E extends CacheEventName>(event: E, payload: CacheEventMap[E]): void {
    const list = this.#lists[event] as readonly CacheListener<E>[] | undefined;
    if (!list) return;
    for (const listener of list) {
      try {
        listener(payload);
      } catch (error) {
        process.emitWarning(`larder: a '${event}' listener threw: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }

  /** A copy of the counters. */
  snapshot(): CacheStats {
    return { ...this.counters };
  }
}
