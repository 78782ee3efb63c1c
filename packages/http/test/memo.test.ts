import { describe, expect, it } from 'vitest';
import { Memo } from '../src/memo';

/** Asks `memo` for `key`, keeping `key.toUpperCase()` on a miss; true when it was answered. */
function ask(memo: Memo<string, string>, key: string): boolean {
  if (memo.get(key) !== undefined) return true;
  memo.keep(key, key.toUpperCase());
  return false;
}

describe('Memo: the last answers by input, left out while it does not hold the inputs in use', () => {
  it('answers what it kept, and starts over when full', () => {
    const memo = new Memo<string, string>(4);
    expect(memo.keep('a', 'A')).toBe('A');
    expect(memo.get('a')).toBe('A');
    for (const key of ['b', 'c', 'd']) ask(memo, key);
    // Read often enough: full, it starts over and keeps learning.
    for (let i = 0; i < 8; i++) expect(ask(memo, 'a')).toBe(true);
    ask(memo, 'e');
    expect(memo.get('a')).toBeUndefined();
    expect(memo.get('e')).toBe('E');
  });

  it('after a fill that answered fewer than 1 call in 8, answers nothing for 16 × its size calls, then learns again', () => {
    const memo = new Memo<string, string>(64);
    // More inputs in turn than it keeps: nothing is asked again before it is full.
    for (let i = 0; i <= 64; i++) ask(memo, `k${i}`);
    expect(ask(memo, 'hot')).toBe(false);
    expect(ask(memo, 'hot')).toBe(false);
    for (let i = 0; i < 16 * 64 - 3; i++) memo.get('x');
    expect(ask(memo, 'hot')).toBe(false);
    expect(ask(memo, 'hot')).toBe(true);
  });

  it('stays on for a key set it holds (a hot input asked between new ones)', () => {
    const memo = new Memo<string, string>(64);
    let answered = 0;
    for (let i = 0; i < 4096; i++) if (ask(memo, i % 4 === 0 ? `k${i}` : 'hot')) answered++;
    expect(answered).toBeGreaterThan(3000);
  });
});
