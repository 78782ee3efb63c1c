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
    };

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
}
