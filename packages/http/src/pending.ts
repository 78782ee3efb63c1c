/** The background work a middleware started (cache writes, invalidations, revalidations), awaited by `settled()`. */
export class PendingWork {
  readonly #work = new Set<Promise<unknown>>();

  /** Keeps `work` until it settles; its rejection is swallowed (each piece reports its own failure). */
  readonly track = (work: Promise<unknown>): void => {
    this.#work.add(work);
    work.finally(() => this.#work.delete(work)).catch(() => {});
  };

  /** Resolves once every piece of work, including any started meanwhile, has settled. */
  async settled(): Promise<void> {
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
  }
}

/** RFC 5861 §3: one background revalidation per entry (variant and credentials) per process. */
export class Revalidations {
  readonly #running = new Set<string>();

  constructor(private readonly track: (work: Promise<unknown>) => void) {}

  /** Starts `refresh` for `key` unless one is already running for it. */
  run(key: string, refresh: () => Promise<void>): void {
    if (this.#running.has(key)) return;
    this.#running.add(key);
    this.track(refresh().finally(() => this.#running.delete(key)));
  }
}
