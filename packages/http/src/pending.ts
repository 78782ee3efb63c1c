import { digest } from './key';

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

  /** Resolves once the work tracked now, but `except`, has settled (not what starts meanwhile). */
  async settledNow(except: Promise<unknown> | undefined): Promise<void> {
    await Promise.allSettled([...this.#work].filter((work) => work !== except));
  }
}

/**
 * Claims `name` for the fleet for `ttlMs`: the function that releases the claim, or `undefined`
 * when another instance holds it (see `ResponseStore.claim`).
 */
export type Claim = (name: string, ttlMs: number) => Promise<(() => Promise<void>) | undefined>;

/** How long a claim of a revalidation lives at most (ms): a crashed instance's claim frees the entry after it. */
export const REVALIDATION_CLAIM_MS = 10_000;

/** After another instance's claim was found, this process does not ask again for this long (ms). */
const HELD_ELSEWHERE_MS = 500;

/**
 * RFC 5861 §3: one background revalidation per entry (variant and credentials) per fleet. In this
 * process a revalidation runs at most once per entry; across processes the instance whose claim
 * lands runs it (the store's atomic `add`, like `remember`'s `refreshAhead`), without waiting: the
 * others keep serving the stale entry. The claim is released once the revalidation's own store
 * write has landed, so an instance that claims afterwards finds the refreshed entry (the copy it
 * sends through the app is then a hit) and does not run the handler again.
 */
export class Revalidations {
  /** Key → until when no revalidation is started for it here (epoch ms; Infinity while one runs). */
  readonly #busy = new Map<string, number>();

  constructor(
    private readonly pending: PendingWork,
    private readonly claim: Claim,
  ) {}

  /** Starts `refresh` for `key` unless one runs for it, here or (per its claim of `claimMs`) elsewhere. */
  run(key: string, refresh: () => Promise<void>, claimMs: number, now = Date.now()): void {
    const until = this.#busy.get(key);
    if (until !== undefined && now < until) return;
    this.#busy.set(key, Number.POSITIVE_INFINITY);
    const self: { work?: Promise<unknown> } = {};
    const work = this.#claimed(key, refresh, claimMs, self).then(
      (held) => this.#done(key, held),
      () => this.#done(key, false),
    );
    self.work = work;
    this.pending.track(work);
  }

  /** Resolves true when another instance held the claim. */
  async #claimed(
    key: string,
    refresh: () => Promise<void>,
    claimMs: number,
    self: { work?: Promise<unknown> },
  ): Promise<boolean> {
    const release = await this.claim(`revalidate:${digest(key)}`, claimMs);
    if (!release) return true;
    try {
      await refresh();
      // The copy's store write (tracked by now) lands before the claim is let go.
      await this.pending.settledNow(self.work);
    } finally {
      await release();
    }
    return false;
  }

  #done(key: string, heldElsewhere: boolean): void {
    if (!heldElsewhere) {
      this.#busy.delete(key);
      return;
    }
    const until = Date.now() + HELD_ELSEWHERE_MS;
    this.#busy.set(key, until);
    // Forgotten after the pause, so that entries seen once do not pile up.
    setTimeout(() => {
      if (this.#busy.get(key) === until) this.#busy.delete(key);
    }, HELD_ELSEWHERE_MS).unref();
  }
}
