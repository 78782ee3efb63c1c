import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import { resourceScope } from '../src/key';

// key.ts `resourceScope`: the larder scope name of a resource's responses is always one
// `cache.scope()` takes, and two prefixes or two resources never share one.
describe('resourceScope', () => {
  const cache = new Cache({ store: createMemoryStore(), prefix: 'app:' });

  it('is `http:<prefix>g.<hash>` for a plain prefix; prefixes and resources keep scopes apart', () => {
    const name = resourceScope('app:rc:', '/page?q=1');
    expect(name).toMatch(/^http:app:rc:g\.[A-Za-z0-9_-]{43}$/);
    expect(resourceScope('app:rc:', '/page?q=2')).not.toBe(name);
    expect(resourceScope('app:other:', '/page?q=1')).not.toBe(name);
    expect(cache.scope(name).scopeName).toBe(name);
  });

  it('hashes a prefix too long for a scope name, or one holding control characters', async () => {
    for (const prefix of ['p'.repeat(300), 'a\u0001b:', 'a\u0085b:']) {
      const name = resourceScope(prefix, '/page');
      expect(name).toMatch(/^http#[A-Za-z0-9_-]{43}g\.[A-Za-z0-9_-]{43}$/);
      const scope = cache.scope(name);
      await scope.set('k', 1, '1m');
      await scope.drop();
      expect(await cache.get('k')).toBeUndefined();
    }
    expect(resourceScope('a\u0001b:', '/page')).not.toBe(resourceScope('a\u0002b:', '/page'));
  });
});
