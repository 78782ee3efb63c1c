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
  withExpiry,
  withHeader,
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
        expect(vector.graceInHeader ? meta?.graceAt : isGraced(decoded) ? decoded[GRACE] : undefined).toBe(
          vector.grace,
        );
        expect(isGraced(decoded) ? decoded.v : freshValue(decoded)).toEqual(vector.value);
      }
    });

    const { writtenAt, expiresAt } = vector;
    if (writtenAt !== undefined) {
      it(`writes: ${vector.name}`, () => {
        const ttl = expiresAt === undefined ? undefined : expiresAt - writtenAt;
        const plain = vector.graceInHeader
          ? withHeader(vector.body, ttl, writtenAt, vector.grace)
          : withMeta(vector.body, ttl, writtenAt);
        const stored = vector.tags.length === 0 ? plain : withSection(plain, sectionOf(vector));
        expect(stored).toBe(vector.stored);
      });
    }
  }

  it('a tag section is carried only after a header', () => {
    expect(withSection('"v"', sectionOf({ tags: ['t'], versions: [1] }))).toBeUndefined();
  });

  it("bytes (another codec's payload) carry the header and the tag section as bytes; touch keeps the logical expiry", () => {
    const body = Uint8Array.of(0xc1, 0x00, 0x01, 0xff);
    const graced = withHeader(body, 60_000, 1_000, 31_000);
    const tagged = withSection(graced, sectionOf({ tags: ['tä'], versions: [7] })) as Uint8Array;
    expect(metaOf(tagged)).toEqual({ writtenAt: 1_000, expiresAt: 61_000, graceAt: 31_000 });
    expect(stampOf(tagged)).toEqual({ tags: ['tä'], versions: [7] });
    expect([...(bodyOf(tagged) as Uint8Array)]).toEqual([...body]);
    const touched = withExpiry(tagged, 120_000, 5_000) as Uint8Array;
    expect(metaOf(touched)).toEqual({ writtenAt: 1_000, expiresAt: 125_000, graceAt: 31_000 });
    expect([...(bodyOf(touched) as Uint8Array)]).toEqual([...body]);
    // The longest header (no grace ever reached: the largest safe integer) closes within MAX_HEADER.
    const longest = withHeader('x', 4e12, 4e12, Number.MAX_SAFE_INTEGER) as string;
    expect(longest.indexOf('\u0001', 1)).toBeLessThanOrEqual(ENTRY_FORMAT.MAX_HEADER);
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
