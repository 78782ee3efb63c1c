import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, type StoredResponse } from '../src/entry';

const entry = (over: Partial<StoredResponse> = {}): StoredResponse => {
  const body = over.body ?? Buffer.from('{"a":1}');
  return {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      etag: 'W/"7-abc"',
      link: ['</a>; rel=a', '</b>; rel=b'],
    },
    body,
    length: body.length,
    storedAt: 1_700_000_000_123,
    expiresAt: 1_700_000_300_456.5,
    age: 7,
    shared: true,
    gen: 'gen-1',
    ...over,
  };
};

describe('stored response encoding', () => {
  it('round-trips status, headers (repeated ones included), times, age, sharing, generation, tags and body', () => {
    for (const sample of [
      entry(),
      entry({ tags: ['product:1', 'ünïcode'], shared: false }),
      entry({ body: Buffer.alloc(0), headers: {}, status: 206 }),
      entry({ headers: { 'x-empty': '', 'x-latin1': 'caf\u00e9' }, body: Buffer.from([0, 10, 255, 13]) }),
    ]) {
      const bytes = encodeEntry(sample);
      expect(bytes[0]).toBe(2);
      expect(decodeEntry(bytes)).toEqual(sample);
      expect(decodeEntry(new Uint8Array(bytes))).toEqual(sample);
    }
  });

  it('falls back to the JSON layout for a header value that is not latin1 without line breaks, and reads it back', () => {
    const odd = entry({ headers: { 'x-odd': 'snow \u2603', 'x-break': 'a\nb' } });
    const bytes = encodeEntry(odd);
    expect(bytes[0]).toBe(1);
    expect(decodeEntry(bytes)).toEqual(odd);
  });

  it('reads nothing from another version, a truncated entry or a non-byte value', () => {
    const bytes = encodeEntry(entry());
    expect(decodeEntry(Buffer.concat([Buffer.from([3]), bytes.subarray(1)]))).toBeUndefined();
    expect(decodeEntry(bytes.subarray(0, 30))).toBeUndefined();
    expect(decodeEntry('text')).toBeUndefined();
    expect(decodeEntry({ t: 'v' })).toBeUndefined();
  });
});
