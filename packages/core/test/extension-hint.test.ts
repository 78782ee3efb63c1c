import { describe, expect, it } from 'vitest';
import { type ExtendedLife, hintKey, parseHint } from '../src/l1/extension';

// The hint key of a life extension names the key and its bounds, on the key's Redis Cluster slot:
// the key's hash tag when the plain hint would hash elsewhere (see `hintKey`).

const life: ExtendedLife = {
  writtenAt: 1_700_000_000_000,
  expiresAt: 1_700_003_600_000,
  freshUntil: 1_700_000_060_000,
};
const bounds = [life.writtenAt, life.expiresAt, life.freshUntil].map((ms) => ms.toString(36)).join('.');

describe('hintKey / parseHint', () => {
  it('tags the hint with the key when the plain form would hash elsewhere', () => {
    const root = 'app:__larder:l1:';
    const hint = hintKey(root, 'app:user:1', life);
    expect(hint).toBe(`${root}life:${bounds}{app:user:1}app:user:1`);
    expect(parseHint(root, hint)).toEqual({ full: 'app:user:1', life });
  });

  it('keeps the plain form when the prefix already carries the hash tag', () => {
    const root = '{app}:__larder:l1:';
    const hint = hintKey(root, '{app}:user:1', life);
    expect(hint).toBe(`${root}life:${bounds}:{app}:user:1`);
    expect(parseHint(root, hint)).toEqual({ full: '{app}:user:1', life });
  });

  it("keeps the plain form when the key's own tag routes it, tags a key with an unclosed brace", () => {
    const root = 'p:__larder:l1:';
    expect(hintKey(root, 'p:{user}:1', life)).toBe(`${root}life:${bounds}:p:{user}:1`);
    expect(hintKey(root, 'p:a{b', life)).toBe(`${root}life:${bounds}{p:a{b}p:a{b`);
    for (const full of ['p:{user}:1', 'p:a{b', 'p:{}x'])
      expect(parseHint(root, hintKey(root, full, life))).toEqual({ full, life });
  });

  it('keeps the plain form for a key whose hashed part holds a closing brace', () => {
    const root = 'p:__larder:l1:';
    const hint = hintKey(root, 'p:a}b', life);
    expect(hint).toBe(`${root}life:${bounds}:p:a}b`);
    expect(parseHint(root, hint)).toEqual({ full: 'p:a}b', life });
  });

  it('reads malformed hints as none', () => {
    const root = 'p:__larder:l1:';
    for (const key of [`${root}life:`, `${root}life:abc`, `${root}life:x.y{unclosed`, `${root}fence:1`, 'other'])
      expect(parseHint(root, key)).toBeUndefined();
  });
});
