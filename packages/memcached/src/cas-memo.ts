/**
 * The CAS token and value of the latest `get` answer of each key, so that a `compareAndSet`
 * following a `get` of the same key (a session's read, then its save) sends its CAS SET at once
 * instead of a GET first: one round trip instead of two. Every binary GET/GETKQ answer carries the
 * item's CAS in its header. Trusting it is safe: a SET with that CAS succeeds only if the item is
 * unchanged since that answer, whose value is compared with `expected` first. An entry is kept only
 * while the connection that brought it stays open (a restarted memcached hands out CAS values again
 * from 1) and the key stays on that node; it is bounded by count, bytes and age, and holds copies
 * (a value is a view of a received chunk, which it would otherwise keep alive).
 */
import { type BinaryResponse, isNoCas } from './binary-protocol';
import type { Node } from './topology';

/** Bounds of the memo. */
export interface CasMemoLimits {
  /** Entries kept at most. @default 1024 */
  maxEntries: number;
  /** Bytes of values kept at most. @default 2 MiB */
  maxBytes: number;
  /** Values larger than this are not kept. @default 64 KiB */
  maxValueBytes: number;
  /** An entry older than this is dropped. @default 5000 */
  maxAgeMs: number;
}

const DEFAULT_LIMITS: CasMemoLimits = {
  maxEntries: 1024,
  maxBytes: 2 * 1024 * 1024,
  maxValueBytes: 64 * 1024,
  maxAgeMs: 5000,
};

/** A memoized answer: the CAS token and value bytes, where and when they were read. */
export interface CasEntry {
  /** CAS token (8 bytes), then the value. */
  readonly bytes: Buffer;
  readonly node: Node;
  readonly connectionId: number;
  readonly at: number;
}

/** Memcached key → the CAS and value of its latest get answer (see the file comment). */
export class CasMemo {
  private readonly entries = new Map<string, CasEntry>();
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  readonly limits: CasMemoLimits;

  constructor(limits: Partial<CasMemoLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes of values held now. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Keeps the CAS and a copy of the value of an OK get answer of `mkey` from `node`. */
  remember(mkey: string, node: Node, answer: BinaryResponse): void {
    const value = answer.val;
    const connectionId = node.connection.connectionId();
    const cas = answer.header.cas;
    // CAS 0 (memcached -C, CAS disabled): a SET carrying it is unconditional, so it proves nothing.
    if (connectionId === undefined || value.length > this.limits.maxValueBytes || isNoCas(cas)) {
      this.drop(mkey);
      return;
    }
    const known = this.entries.get(mkey);
    // Same item as last read (a hot key): its CAS, hence its value, is unchanged; only the age moves.
    const same = known && known.node === node && known.connectionId === connectionId && cas.equals(memoCas(known));
    let bytes: Buffer;
    if (same) {
      bytes = known.bytes;
    } else {
      // An exact-size unpooled copy: a pooled slice would keep its whole 8 KiB pool chunk alive.
      bytes = Buffer.allocUnsafeSlow(8 + value.length);
      cas.copy(bytes, 0, 0, 8);
      value.copy(bytes, 8);
    }
    this.drop(mkey);
    // Insertion order is age order: the oldest entries are evicted first.
    this.entries.set(mkey, { bytes, node, connectionId, at: Date.now() });
    this.bytes += value.length;
    while (this.entries.size > this.limits.maxEntries || this.bytes > this.limits.maxBytes) this.evictOldest();
    if (!this.timer) this.schedule(this.limits.maxAgeMs);
  }

  /**
   * Removes and returns the entry of `mkey` if it is still usable for a CAS write to `node` now:
   * read from that node, over the connection open now, within the age limit. The caller compares
   * its value (`memoValue`) with what it expects.
   */
  take(mkey: string, node: Node): CasEntry | undefined {
    const entry = this.entries.get(mkey);
    if (!entry) return undefined;
    this.drop(mkey);
    if (entry.node !== node || entry.connectionId !== node.connection.connectionId()) return undefined;
    if (Date.now() - entry.at >= this.limits.maxAgeMs) return undefined;
    return entry;
  }

  /** Forgets `mkey` (a write, delete, touch or increment by this store). */
  drop(mkey: string): void {
    const entry = this.entries.get(mkey);
    if (!entry) return;
    this.entries.delete(mkey);
    this.bytes -= entry.bytes.length - 8;
  }

  /** Forgets everything (topology change, ejection, close). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.drop(oldest.value);
  }

  /** Drops aged entries in `ms`, and again while any are left: an idle memo holds nothing for long. */
  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = Date.now();
      for (const [mkey, entry] of this.entries) {
        if (now - entry.at < this.limits.maxAgeMs) {
          this.schedule(entry.at + this.limits.maxAgeMs - now);
          return;
        }
        this.drop(mkey);
      }
    }, ms);
    this.timer.unref();
  }
}

/** The CAS token of an entry (a view). */
export function memoCas(entry: CasEntry): Buffer {
  return entry.bytes.subarray(0, 8);
}

/** The value of an entry (a view). */
export function memoValue(entry: CasEntry): Buffer {
  return entry.bytes.subarray(8);
}
