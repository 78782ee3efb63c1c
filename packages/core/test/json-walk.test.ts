import { SerializationError } from '@larder/core';
import { jsonRefusal, jsonSize, rawValueSize } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../src/values/codec';

// One walker decides what JSON would refuse, for the codec, sizing, copying and sessions.
describe('the JSON walker', () => {
  const cyclic = () => {
    const o: Record<string, unknown> = { a: 1, list: [] };
    (o.list as unknown[]).push({ back: o });
    return o;
  };

  it('names what is refused and where, in the codec dialect', () => {
    expect(jsonRefusal({ a: { b: [1, () => 2] } })).toEqual({ what: 'function', path: 'a.b[1]' });
    expect(jsonRefusal(new Map([['k', Symbol('s')]]))).toEqual({ what: 'symbol', path: 'k' });
    expect(jsonRefusal(new Set([1, () => 1]))).toEqual({ what: 'function', path: '[]' });
    expect(jsonRefusal(cyclic())).toEqual({ what: 'cycle', path: 'list[0].back' });
    expect(jsonRefusal(() => 1)).toEqual({ what: 'function', path: '' });
    expect(jsonRefusal({ n: 10n, d: new Date(0), u: undefined, bytes: Buffer.from('x') })).toBeUndefined();
  });

  it('in the plain JSON dialect refuses BigInt and lets toJSON speak for its object', () => {
    expect(jsonRefusal({ n: 10n }, 'json')).toEqual({ what: 'bigint', path: 'n' });
    expect(jsonRefusal({ c: { toJSON: () => 'x', f: () => 1 } }, 'json')).toBeUndefined();
    expect(jsonRefusal({ c: { f: () => 1 } }, 'json')).toEqual({ what: 'function', path: 'c.f' });
  });

  it('sizes a value as the codec would encode it, and -1 when it refuses it', () => {
    expect(jsonSize({ ab: 'xyz' })).toBe(2 + 2 + 4 + 5);
    expect(jsonSize([1, 'a'])).toBe(2 + 9 + 4);
    expect(jsonSize({ f: () => 1 })).toBe(-1);
  });

  it('the codec and raw-value sizing give the same error for the same value', () => {
    for (const value of [{ a: { b: [1, () => 2] } }, cyclic(), { s: Symbol('x') }]) {
      let fromCodec: unknown;
      let fromSizing: unknown;
      try {
        jsonCodec.encode(value, 'the-key');
      } catch (error) {
        fromCodec = error;
      }
      try {
        rawValueSize(value, 'the-key', 1_000_000);
      } catch (error) {
        fromSizing = error;
      }
      expect(fromCodec).toBeInstanceOf(SerializationError);
      expect((fromCodec as Error).message).toBe((fromSizing as Error).message);
      expect((fromCodec as Error).message).toMatch(/ at '.+' under key 'the-key'/);
    }
  });
});
