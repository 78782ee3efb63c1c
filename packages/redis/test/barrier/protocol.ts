/** What an instance of the barrier tests runs on (JSON in LARDER_BARRIER). */
export interface BarrierSpec {
  driver: 'redis' | 'memcached' | 'dynamodb';
  prefix: string;
  redis?: Record<string, unknown>;
  memcachedServers?: string[];
  dynamodb?: Record<string, unknown>;
  l1: { invalidation: 'tracking' | 'bus'; busUrl?: string; lease?: number };
  /** Shifts this process's `Date.now` by this many ms (its wall clock is off; monotonic time is not). */
  skewMs?: number;
}

/** A command from the test. */
export type Request =
  | { id: number; op: 'set'; key: string; value: string }
  | { id: number; op: 'get'; key: string }
  | { id: number; op: 'invalidate'; keys: string[] }
  /** `invalidateTags` of the keys' tags (hard). */
  | { id: number; op: 'invalidateTags'; keys: string[] }
  /** `invalidateTags` of the keys' tags, soft. */
  | { id: number; op: 'softInvalidate'; keys: string[] }
  /** `scope(scope).set` of `key` (core's `Cache.scope`). */
  | { id: number; op: 'scopeSet'; scope: string; key: string; value: string }
  /** `scope(scope).drop()`. */
  | { id: number; op: 'drop'; scope: string }
  /** `rememberWithStatus` of `key` tagged with its tag, loading `value`; `gated`: the loader waits for `release`. */
  | { id: number; op: 'remember'; key: string; value: string; grace?: number; gated?: boolean }
  | { id: number; op: 'release' }
  /** How many gated loaders wait. */
  | { id: number; op: 'waiting' }
  | { id: number; op: 'state' }
  | { id: number; op: 'loop'; key: string }
  | { id: number; op: 'reads' }
  | { id: number; op: 'history'; keys: string[]; durationMs: number; startAt: number; invalidations: number };

/** One timestamped operation (ms on the machine's monotonic clock, the same in every process: `coherence/clock.ts`). */
export interface Op {
  kind: 'set' | 'get' | 'invalidate';
  keys: string[];
  /** Written (unique) or read value; `null` for a miss or an invalidation. */
  value: string | null;
  start: number;
  end: number;
  /** A read the cache reported as a hit: which tier answered it (from its `hit` event). */
  tier?: 'l1' | 'l2';
}

/** An instance's answer. */
export interface Reply {
  id: number;
  error?: string;
  value?: unknown;
  /** How `remember` answered (`hit`, `miss`, `graced`). */
  status?: string;
  start?: number;
  end?: number;
  ops?: Op[];
}
