import { createHash, hash } from 'node:crypto';

/** Points per node: 40 MD5 digests × 4 points each, as libketama and the `hashring` package place them. */
export const POINTS_PER_NODE = 160;
const HASHES_PER_NODE = 40;

/**
 * A ketama consistent hash ring (libketama / `hashring` / libmemcached KETAMA compatible for
 * equal weights): node `id` gets points from MD5(`${id}-${i}`) for i in 0..39, four 32-bit
 * little-endian words per digest; a key goes to the first point at or after the first word of
 * MD5(key), wrapping around. Adding a fourth node to three moves about 1/4 of the keys.
 */
export class HashRing {
  /** Sorted point values. */
  private readonly points: Uint32Array;
  /** Node index of each point (parallel to `points`). */
  private readonly owners: Uint16Array;
  /** Node ids, in the order given. */
  readonly nodes: readonly string[];

  constructor(nodes: Iterable<string>) {
    this.nodes = [...new Set(nodes)];
    const entries: [number, number][] = [];
    this.nodes.forEach((node, index) => {
      for (let i = 0; i < HASHES_PER_NODE; i++) {
        const digest = createHash('md5').update(`${node}-${i}`).digest();
        for (let h = 0; h < 4; h++) entries.push([digest.readUInt32LE(h * 4), index]);
      }
    });
    // On a collision the node listed later wins (as in libketama's sort + search).
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const deduped = entries.filter((entry, i) => i + 1 >= entries.length || entries[i + 1]![0] !== entry[0]);
    this.points = Uint32Array.from(deduped, (entry) => entry[0]);
    this.owners = Uint16Array.from(deduped, (entry) => entry[1]);
  }

  /** Number of nodes on the ring. */
  get size(): number {
    return this.nodes.length;
  }

  /** The node id that owns `key`, or `undefined` on an empty ring. */
  get(key: string | Uint8Array): string | undefined {
    if (this.points.length === 0) return undefined;
    // One node owns every key: no hash to compute.
    if (this.nodes.length === 1) return this.nodes[0];
    return this.nodes[this.owners[this.indexFor(hashKey(key))]!];
  }

  /** Each node's fraction of the 32-bit hash space: a point owns the arc from the previous point (wrapping). */
  shares(): Map<string, number> {
    const shares = new Map<string, number>(this.nodes.map((node) => [node, 0]));
    const count = this.points.length;
    for (let i = 0; i < count; i++) {
      const previous = i === 0 ? this.points[count - 1]! - 2 ** 32 : this.points[i - 1]!;
      const node = this.nodes[this.owners[i]!]!;
      shares.set(node, shares.get(node)! + (this.points[i]! - previous) / 2 ** 32);
    }
    return shares;
  }

  /** The ring as sorted `[point, nodeId]` pairs (for compatibility checks). */
  entries(): [number, string][] {
    return Array.from(this.points, (point, i) => [point, this.nodes[this.owners[i]!]!]);
  }

  private indexFor(hash: number): number {
    // First point >= hash; past the last point wraps to the first.
    let low = 0;
    let high = this.points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.points[mid]! < hash) low = mid + 1;
      else high = mid;
    }
    return low === this.points.length ? 0 : low;
  }
}

/** The ketama hash of a key: the first 32-bit little-endian word of its MD5. */
export function hashKey(key: string | Uint8Array): number {
  // One-shot `crypto.hash` (Node ≥ 20.12), its digest as 'binary' (latin1) text, one char a byte: a short
  // string costs far less than a Buffer (about 0.3 µs a key against 1.3 on Node 20), and every
  // key a call routes is hashed.
  const digest = hash(
    'md5',
    typeof key === 'string' ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength),
    'binary',
  );
  return (
    (digest.charCodeAt(0) |
      (digest.charCodeAt(1) << 8) |
      (digest.charCodeAt(2) << 16) |
      (digest.charCodeAt(3) << 24)) >>>
    0
  );
}
