import { describe, expect, it } from 'vitest';
import { type BinaryResponse, encodeRequests, Opcode } from '../src/binary-protocol';
import { encodeQuietGets, matchAnswers, sameKey } from '../src/quiet-gets';
import { readResponse } from '../src/response-reader';

/** A GETKQ hit as the reader gives it (only the key matters for matching). */
const hit = (key: string, value = key.toUpperCase()): BinaryResponse =>
  ({ header: { opcode: Opcode.GETKQ, status: 0 }, key: Buffer.from(key), val: Buffer.from(value) }) as BinaryResponse;

function matched(keys: string[], answers: BinaryResponse[]): [number, string][] {
  const out: [number, string][] = [];
  matchAnswers(keys, answers, (index, answer) => out.push([index, answer.val.toString()]));
  return out;
}

describe('encodeQuietGets', () => {
  it('frames the same bytes as GETKQ requests + NOOP through encodeRequests', () => {
    const keys = ['larder:a', 'ключ:é', 'k'.repeat(250), 'larder:a'];
    const expected = encodeRequests(
      [...keys.map((key) => ({ opcode: Opcode.GETKQ, key: Buffer.from(key) })), { opcode: Opcode.NOOP }],
      0xfffffffe,
    );
    expect(encodeQuietGets(keys, 0xfffffffe).equals(expected)).toBe(true);
  });

  it('is a lone NOOP for no keys', () => {
    expect(encodeQuietGets([], 7).equals(encodeRequests([{ opcode: Opcode.NOOP }], 7))).toBe(true);
  });
});

describe('sameKey', () => {
  it('compares UTF-8 bytes with a key', () => {
    expect(sameKey(Buffer.from('larder:k1'), 'larder:k1')).toBe(true);
    expect(sameKey(Buffer.from('larder:k1'), 'larder:k2')).toBe(false);
    expect(sameKey(Buffer.from('larder:k10'), 'larder:k1')).toBe(false);
    expect(sameKey(Buffer.from('larder:k1'), 'larder:k10')).toBe(false);
    expect(sameKey(Buffer.from('ключ:é'), 'ключ:é')).toBe(true);
    expect(sameKey(Buffer.from('ключ:e'), 'ключ:é')).toBe(false);
    expect(sameKey(Buffer.from('é'), 'Ã©')).toBe(false); // same UTF-16 length as the bytes, other text
    expect(sameKey(Buffer.from('é'), '\u00c3')).toBe(false);
  });
});

describe('matchAnswers', () => {
  it('gives each hit to its key, skipping misses (quiet gets answer only hits)', () => {
    expect(matched(['a', 'b', 'c', 'd'], [hit('b'), hit('d')])).toEqual([
      [1, 'B'],
      [3, 'D'],
    ]);
  });

  it('gives the n-th answer for a duplicate key to its n-th position', () => {
    expect(matched(['a', 'b', 'a'], [hit('a', '1'), hit('a', '2')])).toEqual([
      [0, '1'],
      [2, '2'],
    ]);
  });

  it('matches answers read in place by the LarderServer reader (keys compared without a view)', () => {
    const frame = (key: string, value: string) => {
      const k = Buffer.from(key);
      const header = Buffer.alloc(24);
      header[0] = 0x81;
      header[1] = Opcode.GETKQ;
      header.writeUInt16BE(k.length, 2);
      header[4] = 4;
      header.writeUInt32BE(4 + k.length + value.length, 8);
      return Buffer.concat([header, Buffer.alloc(4), k, Buffer.from(value)]);
    };
    const bytes = Buffer.concat([frame('k10', '1'), frame('ключ', '2'), frame('k1', '3')]);
    const answers: BinaryResponse[] = [];
    for (let at = 0, answer = readResponse(bytes, 0); answer; answer = readResponse(bytes, at)) {
      answers.push(answer);
      at += 24 + answer.header.totalBodyLength;
    }
    expect(matched(['k1', 'k10', 'x', 'ключ', 'k1'], answers)).toEqual([
      [1, '1'],
      [3, '2'],
      [4, '3'],
    ]);
  });

  it('still matches answers out of request order, and skips keys it did not ask for', () => {
    expect(matched(['a', 'b', 'c'], [hit('c'), hit('zz'), hit('a')])).toEqual([
      [2, 'C'],
      [0, 'A'],
    ]);
  });
});
