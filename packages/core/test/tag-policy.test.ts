import { describe, expect, it } from 'vitest';
import { InvalidTagError } from '../src/contract/errors';
import { normalizeTags, unionTags } from '../src/tags/tag-policy';
import { TagState } from '../src/tags/tag-state';
import { createMapStore } from '../src/testing/map-store';

/** A deterministic pseudo-random source (the same lists every run). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const ALPHABET = ['a', 'b', 'B', 'products', 'product:1', 'product:10', 'é', '中', '😀', 'a b', ''];

describe('tag lists', () => {
  it('normalizeTags sorts as Array#sort does and drops repeats, for short and long lists', () => {
    const next = random(7);
    for (let round = 0; round < 2_000; round++) {
      const length = Math.floor(next() * 14);
      const tags = Array.from({ length }, () => {
        const tag = ALPHABET[Math.floor(next() * ALPHABET.length)] as string;
        return tag === '' ? `t${Math.floor(next() * 5)}` : tag;
      });
      const expected = [...new Set(tags)].sort();
      expect(normalizeTags(tags)).toEqual(expected);
      // The caller's list is left as it was.
      expect(tags).toHaveLength(length);
    }
  });

  it('refuses a tag holding a C0 or C1 control character or DEL, anywhere in it; accepts the characters around them', () => {
    for (const code of [0x00, 0x01, 0x02, 0x0a, 0x1f, 0x7f, 0x80, 0x9f]) {
      for (const tag of [
        String.fromCharCode(code),
        `a${String.fromCharCode(code)}`,
        `product:${String.fromCharCode(code)}1`,
      ]) {
        expect(() => normalizeTags([tag]), `U+${code.toString(16)} in ${JSON.stringify(tag)}`).toThrow(InvalidTagError);
      }
    }
    for (const tag of [' ', '~', '\u00a0', 'é', '中', '😀', 'a b']) expect(normalizeTags([tag])).toEqual([tag]);
  });

  it('unionTags of two normalized lists is their normalized union', () => {
    const a = normalizeTags(['z', 'b', 'a']);
    const b = normalizeTags(['c', 'a', 'y']);
    expect(unionTags(a, b)).toEqual(['a', 'b', 'c', 'y', 'z']);
    expect(unionTags(undefined, [])).toBeUndefined();
  });
});

describe('TagState.keys', () => {
  const state = () => new TagState(createMapStore('map', false), 'app:', (call) => call);

  it('names each tag counter under the prefix, the same string each time', () => {
    const tags = state();
    const first = tags.keys(['products', 'category:1']);
    expect(first).toEqual(['app:__larder:tag:products', 'app:__larder:tag:category:1']);
    expect(tags.keys(['products'])[0]).toBe(first[0]);
  });

  it('stays right past its memo bound, and for a tag that looks like a counter key', () => {
    const tags = state();
    for (let i = 0; i < 25_000; i++) expect(tags.keys([`t${i}`])[0]).toBe(`app:__larder:tag:t${i}`);
    const key = tags.keys(['x'])[0] as string;
    expect(tags.keys([key])[0]).toBe(`app:__larder:tag:${key}`);
  });
});
