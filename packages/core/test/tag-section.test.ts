import { describe, expect, it } from 'vitest';
import { META_MARK, sectionMatches, sectionOf, TAGS_MARK } from '../src/values/entry-format';

const PREFIX = 'p:__larder:tag:';
const BODY = '{"a":1}';
/** A stored tagged entry: header, tag section, JSON body. */
const entry = (tags: string[], versions: number[]) =>
  `${META_MARK}mwv0,mwv1${META_MARK}${TAGS_MARK}${sectionOf({ tags, versions })}${TAGS_MARK}${BODY}`;
/** What a getMany of the entry and its hinted counters answers. */
const read = (payload: string, counters: (string | undefined)[]) => [payload, ...counters];
const keys = (tags: string[]) => tags.map((tag) => PREFIX + tag);

describe('sectionMatches: the fast check of a hinted read', () => {
  const V = [1048576 * 4_123_456_789, 1048576 * 17, 1048576];
  const payload = entry(['a', 'category:3', 'product:42'], V);

  it('true only when the section names exactly the hinted keys, in order, with each counter as recorded', () => {
    const counters = V.map(String);
    expect(sectionMatches(payload, PREFIX, keys(['a', 'category:3', 'product:42']), read(payload, counters))).toBe(
      true,
    );
  });

  it('false (judge the slow way) for a moved or missing counter, another tag, fewer or more tags, no section', () => {
    const hint = keys(['a', 'category:3', 'product:42']);
    const same = V.map(String);
    const cases: [string, string[], (string | undefined)[]][] = [
      ['a counter moved (soft)', hint, [same[0], String((V[1] as number) + 1), same[2]]],
      ['a counter moved to a prefix of the version text', hint, [same[0], String(V[1]).slice(0, -1), same[2]]],
      ['a counter missing', hint, [same[0], undefined, same[2]]],
      ['an empty counter', hint, ['', same[1], same[2]]],
      ['another tag of the same length', keys(['b', 'category:3', 'product:42']), same],
      ['a tag that is a prefix of the stored one', keys(['a', 'category:', 'product:42']), same],
      ['fewer hinted keys', keys(['a', 'category:3']), same.slice(0, 2)],
      ['more hinted keys', keys(['a', 'category:3', 'product:42', 'z']), [...same, '1']],
      ['no hinted keys', [], []],
    ];
    for (const [label, hinted, counters] of cases) {
      expect({ label, match: sectionMatches(payload, PREFIX, hinted, read(payload, counters)) }).toEqual({
        label,
        match: false,
      });
    }
    expect(sectionMatches(`${META_MARK}mwv0,mwv1${META_MARK}${BODY}`, PREFIX, hint, read(payload, same))).toBe(false);
    expect(sectionMatches(BODY, PREFIX, hint, read(BODY, same))).toBe(false);
  });
});
