import { describe, expect, it } from 'vitest';
import { type BodyRef, decodeEntry, encodeBody, type StoredResponse } from '../src/entry';
import { encodeHead, type StoredHead } from '../src/head';
import { HeadMemo } from '../src/heads';
import { legacyV1, legacyV2, legacyV3Head, legacyWrapped } from './legacy-entries';

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

/** Head and body values as the store keeps them (the head as core's JSON codec gives it back). */
function stored(sample: StoredResponse, ref = REF): { head: StoredHead; body: Buffer } {
  const { body, ...rest } = sample;
  return { head: JSON.parse(JSON.stringify(encodeHead(rest, ref, rest.gen))), body: encodeBody(ref.id, body) };
}

describe('stored response encoding: a head and a body', () => {
  it('round-trips status, headers (repeated ones, any text), times, age, sharing, generation, tags, body and its ref', () => {
    for (const sample of [
      entry(),
      entry({ tags: ['product:1', 'ünïcode'], shared: false }),
      entry({ body: Buffer.alloc(0), headers: {}, status: 206 }),
      entry({ headers: { 'x-empty': '', 'x-latin1': 'caf\u00e9' }, body: Buffer.from([0, 10, 255, 13]) }),
      entry({ headers: { 'x-odd': 'snow \u2603', 'x-break': 'a\nb', __proto__: 'p' }, tags: ['t'] }),
    ]) {
      const { head, body } = stored(sample);
      expect(head.t).toBe('h');
      // Headers as text, but where a value holds a line break.
      expect(head.x === undefined).toBe('x-break' in sample.headers);
      expect(decodeEntry(head, body)).toEqual({ ...sample, bodyRef: REF });
      expect(decodeEntry(head, new Uint8Array(body))).toEqual({ ...sample, bodyRef: REF });
    }
  });

  it('in process, a head carries its body bytes: they round-trip, and no body value is read', () => {
    for (const sample of [
      entry(),
      entry({ body: Buffer.alloc(0), headers: {} }),
      entry({ body: Buffer.from(Array.from({ length: 256 }, (_, i) => i)), tags: ['t'] }),
    ]) {
      const head = encodeHead(sample, REF, sample.gen, true, true);
      expect(head.b).toBe(sample.body);
      expect(head.h).toBe(sample.headers);
      // As the memory store gives it back: a copy, a Buffer or another Uint8Array over the bytes.
      for (const b of [Buffer.from(sample.body), new Uint8Array(sample.body)]) {
        expect(decodeEntry({ ...head, b })).toEqual({ ...sample, bodyRef: REF });
        expect(decodeEntry({ ...head, b }, encodeBody('another-id00', Buffer.from('x')))).toEqual({
          ...sample,
          bodyRef: REF,
        });
      }
    }
    for (const b of [42, null, 'text', ['x'], { a: 1 }])
      expect(decodeEntry({ ...encodeHead(entry(), REF, 'g', true, true), b })).toBeUndefined();
  });

  it('keeps the body out of the head: a 256 KiB response has a head of a few hundred bytes', () => {
    const { head, body } = stored(entry({ body: Buffer.alloc(256 * 1024, 120) }));
    expect(JSON.stringify(head).length).toBeLessThan(300);
    expect(body.length).toBe(256 * 1024 + 2 + REF.id.length);
  });

  it('gives every head written its own n, in this process and across processes', () => {
    const { head: a } = stored(entry());
    const { head: b } = stored(entry());
    expect(a.n).not.toBe(b.n);
    expect(a.n.split('.')[0]).toBe(b.n.split('.')[0]);
    expect(a.n.split('.')[0]?.length).toBeGreaterThanOrEqual(12);
  });

  it('is a miss when the body is missing, belongs to another head, or is not a body', () => {
    const { head } = stored(entry());
    expect(decodeEntry(head, undefined)).toBeUndefined();
    expect(decodeEntry(head, encodeBody('another-id00', Buffer.from('{"b":2}')))).toBeUndefined();
    expect(decodeEntry(head, encodeBody('AbCdEfGh-_1', Buffer.from('2AbCdEf')))).toBeUndefined();
    expect(decodeEntry(head, Buffer.from('{"a":1}'))).toBeUndefined();
    expect(decodeEntry(head, 'text')).toBeUndefined();
  });

  it('reads nothing from a head with a field missing or of another type, or from a value that is not a head', () => {
    const { head, body } = stored(entry({ tags: ['a'] }));
    expect(decodeEntry(head, body)).toBeDefined();
    const m = (over: Record<number, string>) =>
      head.m
        .split(',')
        .map((part, i) => over[i] ?? part)
        .join(',');
    const broken: Record<string, unknown>[] = [
      ...Object.keys(head)
        .filter((name) => name !== 'tags')
        .map((name) => ({ ...head, [name]: undefined })),
      { ...head, t: 'b' },
      { ...head, n: 1 },
      { ...head, m: 7 },
      { ...head, m: `${head.m},1` },
      { ...head, m: m({ 0: '200.5' }) },
      { ...head, m: m({ 0: '99' }) },
      { ...head, m: m({ 0: '1000' }) },
      { ...head, m: m({ 1: 'x' }) },
      { ...head, m: m({ 3: '-1' }) },
      { ...head, m: m({ 4: '2' }) },
      { ...head, m: m({ 5: 'Infinity' }) },
      { ...head, g: 1 },
      { ...head, id: null },
      { ...head, tags: 'a' },
      { ...head, tags: [1] },
      { ...head, x: 1 },
      { ...head, x: 'name-without-value' },
      { ...head, x: 'a\n1\nb' },
      { ...head, h: {} },
      { ...head, x: undefined, h: null },
      { ...head, x: undefined, h: ['a'] },
      { ...head, x: undefined, h: { a: 1 } },
      { ...head, x: undefined, h: { a: ['x', 2] } },
    ];
    for (const value of broken) expect(decodeEntry(value, body)).toBeUndefined();
    for (const value of ['text', 7, null, [head], { t: 'v', v: [], g: 'scope' }, Buffer.from(JSON.stringify(head))]) {
      expect(decodeEntry(value, body)).toBeUndefined();
    }
  });

  it("reads the head's numbers as Number reads each: plain digits, fractions, 16 digits and more, signs, spaces", () => {
    const { head, body } = stored(entry());
    const parts = head.m.split(',');
    const read = (at: number, text: string) => {
      const decoded = decodeEntry({ ...head, m: parts.map((part, i) => (i === at ? text : part)).join(',') }, body);
      return decoded && [decoded.status, decoded.storedAt, decoded.expiresAt, decoded.age][at];
    };
    for (const text of ['1700000000123', '999999999999999', '1234567890123456', '90071992547409931', '1.5', '1e3']) {
      expect(read(1, text)).toBe(Number(text));
    }
    for (const text of ['0', '007', '7', ' 7', '+7', '7 ', '']) expect(read(3, text)).toBe(Number(text));
    expect(read(0, '304')).toBe(304);
    // A part more or fewer is a broken head.
    for (const m of [`,${head.m}`, `${head.m},`, head.m.replace(',', ',,'), '']) {
      expect(decodeEntry({ ...head, m }, body)).toBeUndefined();
    }
  });

  it('reads an entry an earlier version stored as one value (versions 2 and 1) as nothing (a miss)', () => {
    for (const sample of [entry(), entry({ tags: ['product:1'], shared: false })]) {
      expect(decodeEntry(legacyV2(sample))).toBeUndefined();
      expect(decodeEntry(legacyV2(sample), encodeBody(REF.id, Buffer.from('other')))).toBeUndefined();
    }
    expect(decodeEntry(legacyV1(entry()))).toBeUndefined();
  });

  it('reads a head as version 3 stored it (binary, or its base64 in `{ t: "b" }`) as nothing (a miss)', () => {
    const { body: _body, ...sample } = entry({ tags: ['a'] });
    const old = legacyV3Head(sample, REF);
    const body = encodeBody(REF.id, Buffer.from('{"a":1}'));
    expect(decodeEntry(old, body)).toBeUndefined();
    expect(decodeEntry(legacyWrapped(old), body)).toBeUndefined();
  });
});

describe('HeadMemo: whole responses by key and head', () => {
  it('answers as decodeEntry; a head read again answers from the memo only while its n is the one kept', () => {
    const memo = new HeadMemo();
    const sample = entry();
    const { head, body } = stored(sample);
    const first = memo.entry(head, body, 'k');
    expect(first).toEqual({ ...sample, bodyRef: REF });
    expect(memo.known({ ...head }, 'k')).toEqual(first);
    // A body of another head, or none: a miss, whatever the memo holds; the key then knows no body.
    expect(memo.entry(head, encodeBody('another-id00', Buffer.from('x')), 'k')).toBeUndefined();
    expect(memo.knowsBodyAt('k')).toBe(false);
    expect(memo.entry(head, body, 'k')).toEqual(first);
    // A head written again (a 304's refresh: the same body, new headers) is another head.
    const refreshed = stored({ ...sample, headers: { etag: 'W/"7-abc"', 'x-refreshed': '1' } });
    expect(memo.known(refreshed.head, 'k')).toBeUndefined();
    expect(memo.entry(refreshed.head, body, 'k')?.headers['x-refreshed']).toBe('1');
    // Garbage and vary heads, as decodeEntry.
    for (const value of [undefined, 'text', { t: 'v', v: [], g: 'scope' }, { ...refreshed.head, n: head.n }]) {
      expect(memo.known(value, 'k')).toBeUndefined();
    }
    expect(memo.entry({ t: 'b', b: 'garbage' }, body, 'k')).toBeUndefined();
    expect(memo.entry({ t: 'v', v: [], g: 'scope' }, body, 'k')).toBeUndefined();
  });
});
