import type { RedisClient } from './options';

/** Largest number of recently written keys remembered; past it every read goes to the primary until the window passes. */
export const MAX_TRACKED_KEYS = 100_000;

/**
 * Chooses the client for a read. With replicas, a key this process wrote or deleted within the
 * read-your-writes window is read from the primary (replication is asynchronous: a replica may
 * not have the write yet); so is every key while no replica is connected.
 */
export class ReadRouter {
  // Key -> the end of its window. Insertion-ordered: a rewritten key is moved to the end.
  private readonly recent = new Map<string, number>();
  // Every write's key and window end in write order (the ends only grow: one window for all),
  // read from `head`; an entry whose key was written again since is skipped. Why not iterate
  // `recent` from its front: V8 keeps a deleted Map entry's slot until the table is rebuilt, and
  // each new iterator walks all of them, which cost 18-33 µs per write at 20,000 writes/s.
  private keys: string[] = [];
  private ends: number[] = [];
  private head = 0;
  private primaryUntil = 0;
  private next = 0;

  constructor(
    private readonly primary: RedisClient,
    private readonly replicas: readonly RedisClient[],
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when reads may go to replicas at all. */
  get usesReplicas(): boolean {
    return this.replicas.length > 0;
  }

  /** Records a write or delete of `key` (call before sending it). */
  wrote(key: string): void {
    if (this.replicas.length === 0 || this.windowMs <= 0) return;
    const now = this.now();
    const until = now + this.windowMs;
    this.recent.delete(key);
    this.recent.set(key, until);
    this.keys.push(key);
    this.ends.push(until);
    this.prune(now);
  }

  /** Records a write of many keys. */
  wroteMany(keys: Iterable<string>): void {
    for (const key of keys) this.wrote(key);
  }

  /** Records that any key may have changed (e.g. `clear`): everything is read from the primary for one window. */
  wroteAll(): void {
    if (this.replicas.length === 0 || this.windowMs <= 0) return;
    this.primaryUntil = Math.max(this.primaryUntil, this.now() + this.windowMs);
  }

  /** The client to read `key` from. */
  clientFor(key: string): RedisClient {
    if (this.replicas.length === 0) return this.primary;
    const now = this.now();
    if (now < this.primaryUntil) return this.primary;
    const until = this.recent.get(key);
    if (until !== undefined) {
      if (until > now) return this.primary;
      this.recent.delete(key);
    }
    return this.replica() ?? this.primary;
  }

  /** The client for reading all of `keys` together (the primary when any of them was written recently). */
  clientForAll(keys: readonly string[]): RedisClient {
    if (this.replicas.length === 0) return this.primary;
    const now = this.now();
    if (now < this.primaryUntil) return this.primary;
    for (const key of keys) {
      const until = this.recent.get(key);
      if (until !== undefined && until > now) return this.primary;
    }
    return this.replica() ?? this.primary;
  }

  /** Number of keys currently pinned to the primary (for tests and diagnostics). */
  get trackedKeys(): number {
    return this.recent.size;
  }

  // Round-robin over connected replicas; none connected -> undefined (read from the primary).
  private replica(): RedisClient | undefined {
    const n = this.replicas.length;
    for (let i = 0; i < n; i++) {
      const candidate = this.replicas[(this.next + i) % n]!;
      if (candidate.status === 'ready') {
        this.next = (this.next + i + 1) % n;
        return candidate;
      }
    }
    return undefined;
  }

  private prune(now: number): void {
    const { keys, ends, recent } = this;
    while (this.head < keys.length && (ends[this.head] as number) <= now) this.forget(now);
    // Too many to track: forget the oldest and read everything from the primary until it would have expired.
    while (recent.size > MAX_TRACKED_KEYS && this.head < keys.length) this.forget(now);
    const left = keys.length - this.head;
    if (this.head >= 1024 && this.head * 2 >= keys.length) {
      this.keys = keys.slice(this.head);
      this.ends = ends.slice(this.head);
      this.head = 0;
    } else if (left > 2 * Math.max(recent.size, 1024)) {
      // Mostly keys written again since: rebuilt from `recent`, whose order is the writes' order.
      this.keys = [...recent.keys()];
      this.ends = [...recent.values()];
      this.head = 0;
    }
  }

  /** Drops the oldest write of the queue; its key too unless written again since (then past `now`: read from the primary till it ends). */
  private forget(now: number): void {
    const key = this.keys[this.head] as string;
    const until = this.ends[this.head] as number;
    this.head++;
    if (this.recent.get(key) !== until) return;
    this.recent.delete(key);
    if (until > now) this.primaryUntil = Math.max(this.primaryUntil, until);
  }
}
