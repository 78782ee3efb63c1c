/** A ~200-byte JSON value, like a small user record: the value every network scenario reads and writes. */
export const VALUE = {
  id: 12345,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: ['admin', 'editor'],
  active: true,
  bio: 'Mathematician and writer, known for work on the Analytical Engine; notes include the first algorithm.',
};

/** A ~200-byte string value (an HTML fragment, a token...): the memory scenario's small value. */
export const STRING_VALUE = `<li class="user" data-id="12345"><a href="/users/12345">Ada Lovelace</a> · ada@example.com · admin, editor · ${'x'.repeat(80)}</li>`;

/** A ~1 KB object value (a user with a few nested records), JSON length ≈ 1,000 bytes. */
export function objectValue(i: number): object {
  return {
    id: i,
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    roles: ['admin', 'editor'],
    active: true,
    createdAt: '2026-01-01T00:00:00.000Z',
    bio: 'Mathematician and writer, known for work on the Analytical Engine; notes include the first algorithm.',
    address: { street: '12 St James Square', city: 'London', postcode: 'SW1Y 4JH', country: 'GB' },
    preferences: { theme: 'dark', language: 'en-GB', timezone: 'Europe/London', newsletter: false },
    orders: Array.from({ length: 5 }, (_, k) => ({
      id: `ord-${i}-${k}`,
      total: 1999 + k,
      currency: 'GBP',
      placedAt: `2026-02-0${k + 1}T10:00:00.000Z`,
      items: ['book', 'pen'],
    })),
    tags: ['vip', 'beta', 'early-adopter'],
  };
}

/** Deterministic PRNG (mulberry32), so every subject's process reads the same key orders. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` keys drawn with P(rank r) ∝ 1/r; ranks mapped to keys through a shuffle, so hot keys are spread out. */
export function zipfOrder(keys: string[], rnd: () => number, length: number): string[] {
  const n = keys.length;
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) cdf[r] = sum += 1 / (r + 1);
  const byRank = keys.slice();
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [byRank[i], byRank[j]] = [byRank[j]!, byRank[i]!];
  }
  return Array.from({ length }, () => {
    const u = rnd() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return byRank[lo]!;
  });
}

/** Iterations a key set's precomputed order covers before it repeats (a power of two). */
const KEY_ORDER_LENGTH = 1 << 16;

/** A key set of a row: `count` keys read in a fixed order, uniform or with a Zipf skew (s = 1). */
export interface KeySet {
  /** e.g. `100,000 keys Zipf`. */
  readonly label: string;
  readonly count: number;
  /** The key number (0 ≤ n < count) of iteration `i`. */
  index(i: number): number;
}

/**
 * `count` keys drawn uniformly or with a Zipf skew, in an order precomputed from a fixed seed
 * (the same in every process, so every subject reads the same keys); built on first use.
 */
export function keySet(count: number, skew: 'uniform' | 'Zipf'): KeySet {
  let order: Uint32Array | undefined;
  const build = () => {
    const rnd = random(count);
    if (skew === 'uniform') return Uint32Array.from({ length: KEY_ORDER_LENGTH }, () => Math.floor(rnd() * count));
    const keys = Array.from({ length: count }, (_, n) => String(n));
    return Uint32Array.from(zipfOrder(keys, rnd, KEY_ORDER_LENGTH), Number);
  };
  return {
    label: `${count.toLocaleString('en')} keys ${skew}`,
    count,
    index: (i) => {
      order ??= build();
      return order[i & (KEY_ORDER_LENGTH - 1)]!;
    },
  };
}

/** The four key sets of the write rows (1,000 and 100,000 keys, uniform and Zipf), so that no row is won on one key set. */
export const WRITE_KEY_SETS: readonly KeySet[] = [
  keySet(1000, 'uniform'),
  keySet(1000, 'Zipf'),
  keySet(100_000, 'uniform'),
  keySet(100_000, 'Zipf'),
];
