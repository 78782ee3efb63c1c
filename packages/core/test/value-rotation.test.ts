import { randomBytes } from 'node:crypto';
import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import type { CacheStore } from '../src/driver';
import { Cache, ConfigError, type EncryptOptions } from '../src/index';

// Key rotation with hashed key names, step by step as the core README "Encryption" gives it:
// pin the name key, list the new key second, then first, then drop the old one.
const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const PREFIX = 'rot:';

/** The README's steps: each configuration serves beside the one before it during a rolling deploy. */
const STEPS: [string, EncryptOptions][] = [
  ['one key, hashKeys: true', { keys: [k1], hashKeys: true }],
  ['the name key pinned to that key', { keys: [k1], hashKeys: k1.key }],
  ['the new key listed second', { keys: [k1, k2], hashKeys: k1.key }],
  ['the new key first', { keys: [k2, k1], hashKeys: k1.key.toString('base64') }],
  ['the old key dropped', { keys: [k2], hashKeys: k1.key }],
];

const over = (store: CacheStore, encrypt: EncryptOptions) => new Cache({ store, prefix: PREFIX, encrypt });

async function names(store: CacheStore): Promise<string> {
  const found: string[] = [];
  for await (const name of store.keys?.('') ?? []) found.push(name);
  return found.join(' ');
}

describe('key rotation with hashKeys', () => {
  it('loses no entry, counter or tag across the README steps, with each step beside the one before', async () => {
    const store = createMemoryStore({ useCodec: true });
    let previous: Cache | undefined;
    const written: string[] = [];
    for (const [i, [step, encrypt]] of STEPS.entries()) {
      const cache = over(store, encrypt);
      // Dropping the old key comes after entries written with it expired or were rewritten.
      if (i === STEPS.length - 1) for (const key of written) await (previous as Cache).set(key, `value of ${key}`);
      for (const key of written) expect(await cache.get(key), `${key} at step '${step}'`).toBe(`value of ${key}`);
      expect(await cache.increment('user:ada@example.com:visits'), step).toBe(i + 1);
      const key = `user:${i}@example.com`;
      await cache.tags(['customer:1']).set(key, `value of ${key}`);
      written.push(key);
      if (previous !== undefined) {
        // The two configurations of a rolling deploy see each other's writes, counters and tags.
        expect(await previous.get(key), step).toBe(`value of ${key}`);
        await previous.tags(['customer:7']).set('shared', i);
        expect(await cache.get('shared'), step).toBe(i);
        await cache.invalidateTags(['customer:7']);
        expect(await previous.get('shared'), step).toBeUndefined();
        await previous.set(key, `value of ${key}`);
      }
      expect(await names(store), step).not.toMatch(/ada|example|user|customer|shared/);
      previous = cache;
    }
    expect(await (previous as Cache).get('user:ada@example.com:visits')).toBe(STEPS.length);
  });

  it('hashKeys: true beside a second key is a ConfigError that says what to do and shows no key', () => {
    const store = createMemoryStore({ useCodec: true });
    let error: unknown;
    try {
      over(store, { keys: [k1, k2], hashKeys: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(/hashKeys.*key of its own/);
    for (const bad of [randomBytes(16), 'short', 42]) {
      let refused: unknown;
      try {
        over(store, { keys: [k1], hashKeys: bad as never });
      } catch (e) {
        refused = e;
      }
      expect(refused, String(bad)).toBeInstanceOf(ConfigError);
      expect(String((refused as Error).message)).not.toContain(k1.key.toString('base64'));
    }
  });
});
