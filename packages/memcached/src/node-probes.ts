/** First wait before probing a node just ejected. */
export const FIRST_PROBE_MS = 100;

/**
 * Background probes of ejected nodes: the first after 100 ms, then at doubling intervals up to
 * `maxIntervalMs`, one at a time per node (a probe waits for its answer or timeout before the
 * next is scheduled). The first answer calls `onAnswer`; probing then stops. Timers are unref'd
 * (probes never keep the process alive) and `stopAll` cancels every one.
 */
export class NodeProbes {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly maxIntervalMs: number) {}

  /** Starts probing `node` (no-op if it is already probed): `probe` resolves when the node answers. */
  start(node: string, probe: () => Promise<unknown>, onAnswer: () => void): void {
    if (this.stopped || this.timers.has(node)) return;
    const schedule = (delay: number) => {
      const timer = setTimeout(async () => {
        let answered = false;
        try {
          await probe();
          answered = true;
        } catch {
          // Still down: try again later.
        }
        // Stopped (or restarted) while the probe was in flight.
        if (this.timers.get(node) !== timer) return;
        if (answered) {
          this.timers.delete(node);
          onAnswer();
        } else {
          schedule(Math.min(delay * 2, this.maxIntervalMs));
        }
      }, delay);
      timer.unref();
      this.timers.set(node, timer);
    };
    schedule(Math.min(FIRST_PROBE_MS, this.maxIntervalMs));
  }

  /** Stops probing `node`. */
  stop(node: string): void {
    clearTimeout(this.timers.get(node));
    this.timers.delete(node);
  }

  /** Stops every probe for good. */
  stopAll(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Nodes being probed. */
  probing(): string[] {
    return [...this.timers.keys()];
  }
}
