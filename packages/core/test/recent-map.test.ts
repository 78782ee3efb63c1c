import { describe, expect, it } from 'vitest';
import { RecentMap } from '../src/util/recent-map';

describe('RecentMap', () => {
  it('keeps at least the max keys set last and at most twice as many', () => {
    const map = new RecentMap<string, number>(100);
    for (let i = 0; i < 1_000; i++) {
      map.set(`k${i}`, i);
      expect(map.size).toBeLessThanOrEqual(200);
      // The 100 set last are all held.
      for (let j = Math.max(0, i - 99); j <= i; j += 33) expect(map.get(`k${j}`)).toBe(j);
    }
    expect(map.has('k0')).toBe(false);
    expect(map.get('k0')).toBeUndefined();
  });

  it('a key set again moves to the newer generation: no stale value shadows it, the size counts it once', () => {
    const map = new RecentMap<string, string>(3);
    map.set('a', 'old');
    map.set('b', 'b');
    map.set('c', 'c'); // the newer generation fills: a, b and c become the older one
    map.set('a', 'new');
    expect(map.get('a')).toBe('new');
    expect(map.size).toBe(3);
    map.set('d', 'd');
    map.set('e', 'e'); // a, d and e become the older one; b and c are dropped
    expect(map.get('a')).toBe('new');
    expect(map.has('b')).toBe(false);
  });

  it('holds undefined as a value; delete and clear drop from both generations', () => {
    const map = new RecentMap<string, number | undefined>(2);
    map.set('u', undefined);
    expect(map.has('u')).toBe(true);
    map.set('x', 1); // u and x become the older generation
    map.set('y', 2);
    expect(map.delete('x')).toBe(true);
    expect(map.delete('x')).toBe(false);
    expect(map.get('y')).toBe(2);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.has('u')).toBe(false);
  });

  it('answers a key set again with its newest value in either generation, null and undefined included', () => {
    const map = new RecentMap<string, number | null | undefined>(2);
    map.set('k', 1);
    map.set('n', null); // k and n become the older generation
    map.set('k', undefined); // k moves to the newer one
    expect(map.get('k')).toBeUndefined();
    expect(map.has('k')).toBe(true);
    expect(map.get('n')).toBeNull();
    map.set('n', 3);
    expect(map.get('n')).toBe(3);
  });
});
