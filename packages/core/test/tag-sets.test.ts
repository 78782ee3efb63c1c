import { describe, expect, it } from 'vitest';
import { TagSets } from '../src/tags/tag-sets';

describe('TagSets', () => {
  it('answers one set, with one array of counter keys, for every call with the same tags', () => {
    const sets = new TagSets('p:tag:');
    const first = sets.of(['a', 'b']);
    expect(first.keys).toEqual(['p:tag:a', 'p:tag:b']);
    expect(sets.of(['a', 'b'])).toBe(first);
    // Another list, and a list that is a prefix of the first, are sets of their own.
    expect(sets.of(['a', 'c']).keys).toEqual(['p:tag:a', 'p:tag:c']);
    expect(sets.of(['a'])).not.toBe(first);
    expect(sets.of(['a']).keys).toEqual(['p:tag:a']);
    expect(sets.of([]).keys).toEqual([]);
  });

  it('starts over past 10,000 lists, and still answers each list its keys', () => {
    const sets = new TagSets('p:tag:');
    const first = sets.of(['x', 'own:0']);
    for (let i = 1; i <= 10_000; i++) sets.of(['x', `own:${i}`]);
    const again = sets.of(['x', 'own:0']);
    expect(again).not.toBe(first);
    expect(again.keys).toEqual(first.keys);
    expect(sets.of(['x', 'own:0'])).toBe(again);
  });
});
