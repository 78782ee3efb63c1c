import type { Ttl } from '@larder/core';

/** What an instance of the coherence tests runs on. */
export interface CoherenceSpec {
  driver: 'redis' | 'memcached' | 'dynamodb';
  prefix: string;
  /** `createRedisStore` options (url, replicaUrls, readFrom, sentinels, clusterNodes...). */
  redis?: Record<string, unknown>;
  memcachedServers?: string[];
  dynamodb?: Record<string, unknown>;
  /** Invalidations of a key (one per tracked node) before a read of an older value counts as stale. @default 1 */
  arrivalsNeeded?: number;
  l1: { invalidation: 'tracking' | 'bus' | 'none'; busUrl?: string; ttl?: Ttl };
}

/** A command from the test. */
export type Request =
  | { id: number; op: 'set'; key: string; value: number }
  | { id: number; op: 'get'; key: string }
  | { id: number; op: 'state' }
  | { id: number; op: 'history'; keys: string[]; durationMs: number; startAt: number }
  | { id: number; op: 'watch'; key: string; value: number; timeoutMs: number };

/** An instance's answer. */
export interface Reply {
  id: number;
  error?: string;
  value?: unknown;
  /** Epoch ms (sub-ms): when a set resolved, or when a watch saw its value. */
  at?: number;
  /** When the key's invalidations arrived since the watch began (watch). */
  arrivals?: number[];
  /** When each read of an older value began (watch): stale if after the write's invalidation arrived. */
  olderReads?: number[];
  /** How many arrivals make the key invalidated here (`CoherenceSpec.arrivalsNeeded`). */
  needed?: number;
  reads?: number;
  /** The operations of a `history` run. */
  history?: HistoryOp[];
}

/** One timestamped operation of a randomized history (ms of the machine's monotonic clock, sub-ms). */
export interface HistoryOp {
  kind: 'set' | 'delete' | 'get';
  key: string;
  /** Written (unique per set) or read value; `null` for a delete or a miss. */
  value: string | null;
  start: number;
  end: number;
  /**
   * For a get: how long this process was not running in the second before the read (the summed
   * lateness of its own timers). An invalidation that reached the socket while the process was
   * not scheduled is read after the timer that wakes it: that time is the machine's, not the L1's.
   */
  stalledMs?: number;
  /** A set or delete that threw: it may or may not have landed, now or later (`end` is when it threw). */
  failed?: boolean;
}
