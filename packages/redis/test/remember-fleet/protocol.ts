// The messages between the remember fleet test (remember-fleet.test.ts) and its instances.

/** What the loader of a run does. */
export type SourceMode = 'hung' | 'down' | 'slow';

/** A request to an instance. */
export type Request =
  | { id: number; op: 'once'; key: string; callers: number; mode: SourceMode; sourceMs?: number; options: object }
  | {
      id: number;
      op: 'load';
      key: string;
      ms: number;
      rps: number;
      mode: SourceMode;
      sourceMs: number;
      ttl: number;
      options: object;
    }
  /**
   * `rememberMany` of `many:k0`…`many:k{count-1}`: `callers` at once, `late` more once `loadMany`
   * was called. `gated`: `loadMany` waits for a `release`, and the reply comes once it was called.
   */
  | { id: number; op: 'many'; count: number; callers: number; late: number; gated: boolean }
  /**
   * `remember` of `key`, `times` in a row, on the instance's cache with an L1 (Redis tracking); the
   * loader counts its runs and, with `notModified`, keeps the stale value.
   */
  | { id: number; op: 'l1'; key: string; ttl: number; times: number; notModified: boolean; options: object }
  /** Opens the gate of the `many` round in progress; the reply is that round's result. */
  | { id: number; op: 'release' };

/** An instance's reply. */
export interface Reply {
  id: number;
  error?: string;
  /** Loader runs in this instance. */
  runs?: number;
  /** Runs whose signal was aborted. */
  aborted?: number;
  /** Each caller's outcome (`ok`, or an error code) and its latency in ms. */
  outcomes?: { result: string; ms: number }[];
  /** Latencies of a load loop, in ms. */
  latencies?: number[];
  /** What each `remember` of an `l1` request returned. */
  results?: unknown[];
  /** The keys of each `loadMany` call of a `many` round. */
  calls?: string[][];
  /** What each caller of a `many` round got, aligned with the keys. */
  values?: (string | undefined)[][];
}
