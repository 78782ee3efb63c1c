import { Cache, InvalidKeyError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it } from 'vitest';
import { FullKeyMemo } from '../src/values/key-policy';

describe('FullKeyMemo', () => {
  it('returns prefix + key, validated on every call for keys it refused', () => {
    const memo = new FullKeyMemo('app:');
    expect(memo.of('user:1', 100, 'memory')).toBe('app:user:1');
    expect(memo.of('user:1', 100, 'memory')).toBe('app:user:1');
    for (let i = 0; i < 2; i++) {
      expect(() => memo.of('', 100, 'memory')).toThrow(InvalidKeyError);
      expect(() => memo.of('x'.repeat(200), 100, 'memory')).toThrow(InvalidKeyError);
      expect(() => memo.of('__larder:lock:a', 100, 'memory')).toThrow(InvalidKeyError);
      expect(() => memo.of(42, 100, 'memory')).toThrow(InvalidKeyError);
    }
  });

  it('re-checks remembered keys when the key limit changes', () => {
    const memo = new FullKeyMemo('app:');
    expect(memo.of('abcdef', Number.POSITIVE_INFINITY, 'memory')).toBe('app:abcdef');
    expect(() => memo.of('abcdef', 8, 'memory')).toThrow(InvalidKeyError);
  });

  it('stays correct past its bound (it starts over, it does not grow)', () => {
    const memo = new FullKeyMemo('p:');
    const wrong: string[] = [];
    for (let i = 0; i < 10_000; i++) if (memo.of(`k${i}`, 1000, 'memory') !== `p:k${i}`) wrong.push(`k${i}`);
    expect(wrong).toEqual([]);
    expect(memo.of('k1', 1000, 'memory')).toBe('p:k1');
  });

  it('stays correct on a key set far larger than it (where it pauses) and after it learns again', () => {
    const memo = new FullKeyMemo('p:');
    // One expect per round, not per call: 500,000 expect calls took most of a minute on CI.
    const check = (key: string) => memo.of(key, 1000, 'memory') === `p:${key}`;
    for (let round = 0; round < 2; round++) {
      let wrong = 0;
      for (let i = 0; i < 200_000; i++) if (!check(`k${(i * 7919) % 150_000}`)) wrong++;
      for (let i = 0; i < 50_000; i++) if (!check(`h${i % 100}`)) wrong++;
      expect(wrong, `round ${round}`).toBe(0);
      expect(() => memo.of('x'.repeat(2000), 1000, 'memory')).toThrow(InvalidKeyError);
    }
  });

  it('pauses on a key set far larger than it, not on one a little larger than a generation', () => {
    // Uniformly random reads (a seeded xorshift) of n keys.
    const pausedCalls = (n: number) => {
      const memo = new FullKeyMemo('p:');
      let paused = 0;
      let x = 2463534242;
      for (let i = 0; i < 400_000; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        memo.of(`k${(x >>> 0) % n}`, 1000, 'memory');
        if (memo.paused) paused++;
      }
      return paused;
    };
    expect(pausedCalls(150_000)).toBeGreaterThan(200_000);
    expect(pausedCalls(10_000)).toBe(0);
  });
});

describe('full keys of in-process stores', () => {
  it('keep namespaces and prefixes apart', async () => {
    const store = createChaosStore({ capabilities: { inProcess: true }, sync: true });
    const a = new Cache({ store, prefix: 'a' });
    const b = new Cache({ store, prefix: 'b' });
    const users = a.namespace('users');
    await a.set('k', 1);
    await b.set('k', 2);
    await users.set('k', 3);
    expect([await a.get('k'), await b.get('k'), await users.get('k')]).toEqual([1, 2, 3]);
    const keys: string[] = [];
    for await (const key of store.keys?.('') ?? []) keys.push(key);
    expect(keys.sort()).toEqual(['a:k', 'a:users:k', 'b:k']);
  });
});
