import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HashRing, hashKey, POINTS_PER_NODE } from '../src/hash-ring';

const keys = Array.from({ length: 10_000 }, (_, i) => `user:${i}:profile`);

describe('HashRing (ketama)', () => {
  it('places 160 points per node', () => {
    const ring = new HashRing(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211']);
    expect(ring.entries()).toHaveLength(3 * POINTS_PER_NODE);
  });

  it('matches the Couchbase SDK RFC 26 ketama verification points (libketama layout)', () => {
    // Lowest points of the RFC's 4-node verification set (ketama-hashes.json).
    const ring = new HashRing([
      '192.168.1.101:11210',
      '192.168.1.102:11210',
      '192.168.1.103:11210',
      '192.168.1.104:11210',
    ]);
    expect(ring.entries().slice(0, 8)).toEqual([
      [19069626, '192.168.1.104:11210'],
      [28439255, '192.168.1.101:11210'],
      [36078660, '192.168.1.104:11210'],
      [46162273, '192.168.1.104:11210'],
      [54096687, '192.168.1.104:11210'],
      [73548791, '192.168.1.102:11210'],
      [78634244, '192.168.1.102:11210'],
      [80168850, '192.168.1.104:11210'],
    ]);
    // A hash past the last point wraps to the first point's node.
    expect(ring.entries()[0]![1]).toBe('192.168.1.104:11210');
  });

  it('routes a key to the first point at or after its hash', () => {
    const ring = new HashRing(['a:1', 'b:2', 'c:3']);
    const entries = ring.entries();
    for (const key of keys.slice(0, 200)) {
      const hash = hashKey(key);
      const owner = entries.find(([point]) => point >= hash)?.[1] ?? entries[0]![1];
      expect(ring.get(key)).toBe(owner);
    }
  });

  it('spreads keys evenly enough over 3 nodes', () => {
    const ring = new HashRing(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211']);
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(ring.get(key)!, (counts.get(ring.get(key)!) ?? 0) + 1);
    for (const count of counts.values()) expect(count / keys.length).toBeGreaterThan(0.22);
    expect(counts.size).toBe(3);
  });

  it('keeps about 3/4 of keys in place when a 4th node joins 3 (modulo would keep 1/4)', () => {
    const three = new HashRing(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211']);
    const four = new HashRing(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211', '10.0.0.4:11211']);
    const kept = keys.filter((key) => three.get(key) === four.get(key)).length / keys.length;
    expect(kept).toBeGreaterThan(0.68);
    expect(kept).toBeLessThan(0.82);
    // Every moved key moved to the new node.
    for (const key of keys) if (three.get(key) !== four.get(key)) expect(four.get(key)).toBe('10.0.0.4:11211');
  });

  it('does not depend on the order nodes are listed in', () => {
    const a = new HashRing(['x:1', 'y:2', 'z:3']);
    const b = new HashRing(['z:3', 'x:1', 'y:2']);
    for (const key of keys.slice(0, 500)) expect(a.get(key)).toBe(b.get(key));
  });

  it('answers undefined on an empty ring', () => {
    expect(new HashRing([]).get('k')).toBeUndefined();
  });

  it("hashes a key to its MD5's first little-endian word, text or bytes, any characters", () => {
    const reference = (key: string | Uint8Array) => createHash('md5').update(key).digest().readUInt32LE(0);
    const texts = [...keys.slice(0, 500), 'é', 'ключ', '鍵', '😀', 'a b\t\n', 'x'.repeat(250)];
    for (const key of texts) expect(hashKey(key)).toBe(reference(key));
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 255]);
    expect(hashKey(bytes)).toBe(reference(bytes));
    // A view into a larger buffer hashes only its own bytes.
    const view = new Uint8Array(new Uint8Array([9, 9, 0, 1, 2, 250, 251, 255, 9]).buffer, 2, 6);
    expect(hashKey(view)).toBe(reference(bytes));
  });

  it('routes every key to the one node of a one-node ring', () => {
    const ring = new HashRing(['10.0.0.1:11211']);
    expect(keys.every((key) => ring.get(key) === '10.0.0.1:11211')).toBe(true);
  });
});

describe('HashRing.shares', () => {
  it('gives every node its arc of the hash space, summing to 1, about even over 160 points each', () => {
    const ring = new HashRing(['a:11211', 'b:11211', 'c:11211']);
    const shares = ring.shares();
    expect([...shares.keys()]).toEqual(['a:11211', 'b:11211', 'c:11211']);
    expect([...shares.values()].reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 12);
    for (const share of shares.values()) expect(share).toBeGreaterThan(0.2);
    // A share is the fraction of keys the node gets: check it against the ring's own placement.
    const counts = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const node = ring.get(`key:${i}`) as string;
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    for (const [node, share] of shares) expect(Math.abs((counts.get(node) ?? 0) / 30_000 - share)).toBeLessThan(0.02);
    expect(new HashRing([]).shares().size).toBe(0);
  });
});
