import { describe, expect, it } from 'vitest';
import { type BodyRef, decodeEntry, encodeBody, encodeHead, type StoredResponse } from '../src/entry';
import { HeadMemo, wrapHead } from '../src/heads';
import { legacyV1, legacyV2 } from './legacy-entries';

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

const REF: BodyRef = { id: 'AbCdEfGh-_12', until: 1_700_000_900_000 };

/** Head and body values as the store keeps them. */
function stored(sample: StoredResponse, ref = REF): { head: Buffer; body: Buffer } {
  const { body, ...rest } = sample;
  return { head: encodeHead(rest, ref), body: encodeBody(ref.id, body) };
}

describe('stored response encoding: a head and a body', () => {
  it('round-trips status, headers (repeated ones included), times, age, sharing, generation, tags, body and its ref', () => {
    for (const sample of [
      entry(),
      entry({ tags: ['product:1', 'ünïcode'], shared: false }),
      entry({ body: Buffer.alloc(0), headers: {}, status: 206 }),
      entry({ headers: { 'x-empty': '', 'x-latin1': 'caf\u00e9' }, body: Buffer.from([0, 10, 255, 13]) }),
    ]) {
      const { head, body } = stored(sample);
      expect(head[0]).toBe(3);
      expect(decodeEntry(head, body)).toEqual({ ...sample, bodyRef: REF });
      expect(decodeEntry(new Uint8Array(head), new Uint8Array(body))).toEqual({ ...sample, bodyRef: REF });
    }
  });

  it('keeps the body out of the head: a 256 KiB response has a head of a few hundred bytes', () => {
    const { head, body } = stored(entry({ body: Buffer.alloc(256 * 1024, 120) }));
    expect(head.length).toBeLessThan(300);
    expect(body.length).toBe(256 * 1024 + 2 + REF.id.length);
  });

  it('falls back to the JSON head for a header value that is not latin1 without line breaks, and reads it back', () => {
    const odd = entry({ headers: { 'x-odd': 'snow \u2603', 'x-break': 'a\nb' }, tags: ['t'] });
    const { head, body } = stored(odd);
    expect(head[0]).toBe(4);
    expect(decodeEntry(head, body)).toEqual({ ...odd, bodyRef: REF });
  });

  it('is a miss when the body is missing, belongs to another head, or is not a body', () => {
    const { head } = stored(entry());
    expect(decodeEntry(head, undefined)).toBeUndefined();
    expect(decodeEntry(head, encodeBody('another-id00', Buffer.from('{"b":2}')))).toBeUndefined();
    expect(decodeEntry(head, encodeBody('AbCdEfGh-_1', Buffer.from('2AbCdEf')))).toBeUndefined();
    expect(decodeEntry(head, Buffer.from('{"a":1}'))).toBeUndefined();
    expect(decodeEntry(head, 'text')).toBeUndefined();
    const { head: odd } = stored(entry({ headers: { 'x-odd': '\u2603' } }));
    expect(decodeEntry(odd, encodeBody('another-id00', Buffer.from('x')))).toBeUndefined();
  });

  it('reads nothing from another version, a truncated or padded head, or a non-byte value', () => {
    const { head, body } = stored(entry({ tags: ['a'] }));
    expect(decodeEntry(Buffer.concat([Buffer.from([5]), head.subarray(1)]), body)).toBeUndefined();
    for (const end of [4, 30, 40, head.length - 1]) expect(decodeEntry(head.subarray(0, end), body)).toBeUndefined();
    expect(decodeEntry(Buffer.concat([head, Buffer.from([0])]), body)).toBeUndefined();
    const { head: odd } = stored(entry({ headers: { 'x-odd': '\u2603' } }));
    expect(decodeEntry(odd.subarray(0, odd.length - 1), body)).toBeUndefined();
    expect(decodeEntry('text', body)).toBeUndefined();
    expect(decodeEntry({ t: 'v' }, body)).toBeUndefined();
  });

  it('reads an entry an earlier version stored as one value (versions 2 and 1) as nothing (a miss)', () => {
    for (const sample of [entry(), entry({ tags: ['product:1'], shared: false })]) {
      expect(decodeEntry(legacyV2(sample))).toBeUndefined();
      expect(decodeEntry(legacyV2(sample), encodeBody(REF.id, Buffer.from('other')))).toBeUndefined();
    }
    expect(decodeEntry(legacyV1(entry()))).toBeUndefined();
  });
});

describe('HeadMemo: heads decoded once per key and stored text', () => {
  it('answers as decodeEntry, a new entry each time, the body checked every time', () => {
    const memo = new HeadMemo();
    const sample = entry();
    const { head, body } = stored(sample);
    const wrapped = wrapHead(head);
    const first = memo.entry(wrapped, body, 'k');
    expect(first).toEqual({ ...sample, bodyRef: REF });
    const second = memo.entry({ ...wrapped }, body, 'k');
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    // A body of another head, or none: a miss, whatever the memo holds.
    expect(memo.entry(wrapped, encodeBody('another-id00', Buffer.from('x')), 'k')).toBeUndefined();
    expect(memo.entry(wrapped, undefined, 'k')).toBeUndefined();
    // Another head's text at the same key is another entry.
    const other = stored(entry({ status: 404 }), { id: 'other-id0000', until: 1 });
    expect(memo.entry(wrapHead(other.head), other.body, 'k')?.status).toBe(404);
    // An unwrapped head (bytes) and garbage, as decodeEntry.
    expect(memo.entry(head, body, 'k')).toEqual(first);
    expect(memo.entry({ t: 'b', b: 'garbage' }, body, 'k')).toBeUndefined();
    expect(memo.entry({ t: 'v', v: [], g: 'scope' }, body, 'k')).toBeUndefined();
  });
});
