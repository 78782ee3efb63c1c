import { jsonCodec } from '@larder/core';
import { ENTRY_FORMAT } from '@larder/core/driver';
import { ENTRY_VECTORS } from '@larder/test-suite';
import { describe, expect, it } from 'vitest';
import { freshValue, GRACE, isGraced, isSoftStale, softStale } from '../src/values/entry';
import {
  bodyOf,
  decodeEntry,
  Judged,
  metaOf,
  sectionOf,
  stampOf,
  storedOf,
  verdictOf,
  withMeta,
  withSection,
} from '../src/values/entry-format';

// The stored entry format's test vectors (shared with the Redis scripts' test) against core's parser and writer.
describe('the stored entry format', () => {
  it('exports its marks and header layout to drivers', () => {
    expect(ENTRY_FORMAT).toMatchObject({
      HEADER_MARK: '\u0001',
      TAGS_MARK: '\u0002',
      PAIR_MARK: '\u0003',
      NEXT_MARK: '\u0004',
      HEADER_SEPARATOR: ',',
      HEADER_RADIX: 36,
      MAX_HEADER: 32,
      GRACE_FIELD: GRACE,
    });
    expect(Object.isFrozen(ENTRY_FORMAT)).toBe(true);
  });

  for (const vector of ENTRY_VECTORS) {
    it(`reads: ${vector.name}`, () => {
      for (const stored of [vector.stored, new Uint8Array(Buffer.from(vector.stored))]) {
        const meta = metaOf(stored);
        expect(meta?.writtenAt).toBe(vector.writtenAt);
        expect(meta?.expiresAt).toBe(vector.expiresAt);
        const stamp = stampOf(stored);
        expect(stamp?.tags ?? []).toEqual(vector.tags);
        expect(stamp?.versions ?? []).toEqual(vector.versions);
        const body = bodyOf(stored);
        expect(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')).toBe(vector.body);
        const decoded = jsonCodec.decode(body, 'k');
        expect(isGraced(decoded) ? decoded[GRACE] : undefined).toBe(vector.grace);
        expect(isGraced(decoded) ? decoded.v : freshValue(decoded)).toEqual(vector.value);
      }
    });

    const { writtenAt, expiresAt } = vector;
    if (writtenAt !== undefined) {
      it(`writes: ${vector.name}`, () => {
        const ttl = expiresAt === undefined ? undefined : expiresAt - writtenAt;
        const plain = withMeta(vector.body, ttl, writtenAt) as string;
        const stored = vector.tags.length === 0 ? plain : withSection(plain, sectionOf(vector));
        expect(stored).toBe(vector.stored);
      });
    }
  }

  it('a tag section is carried only after a header', () => {
    expect(withSection('"v"', sectionOf({ tags: ['t'], versions: [1] }))).toBeUndefined();
  });

  it('a read verdict travels beside the stored bytes, never in them', () => {
    const tagged = ENTRY_VECTORS.find((vector) => vector.tags.length > 0 && vector.grace === undefined);
    if (tagged === undefined) throw new Error('the vectors hold no plain tagged entry');
    const stored = tagged.stored;
    for (const payload of [stored, new Uint8Array(Buffer.from(stored))]) {
      // No verdict: the bare payload (what an untagged or current read hands on) decodes to its value.
      expect(storedOf(payload)).toBe(payload);
      expect(verdictOf(payload)).toBeUndefined();
      expect(freshValue(decodeEntry(payload, jsonCodec, 'k', softStale))).toEqual(tagged.value);
      const gone = new Judged(payload, 'gone');
      expect(storedOf(gone)).toBe(payload);
      expect(verdictOf(gone)).toBe('gone');
      expect(decodeEntry(gone, jsonCodec, 'k', softStale)).toBeUndefined();
      const soft = decodeEntry(new Judged(payload, 'soft'), jsonCodec, 'k', softStale);
      expect(isGraced(soft) && isSoftStale(soft) ? soft.v : 'not stale').toEqual(tagged.value);
    }
    // The verdict is data: the payload judged is the stored one, byte for byte.
    expect(new Judged(stored, 'soft').payload).toBe(stored);
  });
});
