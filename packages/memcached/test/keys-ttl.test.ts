import { describe, expect, it } from 'vitest';
import {
  counterExtras,
  decodeCounter,
  encodeRequest,
  encodeRequests,
  Opcode,
  storageExtras,
} from '../src/binary-protocol';
import { isValidMemcachedKey, toMemcachedKey } from '../src/keys';
import { MAX_RELATIVE_EXPIRATION_S, toExpiration } from '../src/ttl';

describe('toMemcachedKey', () => {
  it('keeps valid keys as they are', () => {
    expect(toMemcachedKey('larder:user:1')).toBe('larder:user:1');
    expect(toMemcachedKey('ünïcödé:ключ')).toBe('ünïcödé:ключ');
    expect(toMemcachedKey('k'.repeat(250))).toBe('k'.repeat(250));
  });

  it('hashes long keys and keys with whitespace or control bytes, stably, with a readable prefix', () => {
    const long = `larder:${'x'.repeat(300)}`;
    const hashed = toMemcachedKey(long);
    expect(Buffer.byteLength(hashed)).toBeLessThanOrEqual(250);
    expect(hashed.startsWith('larder:xxx')).toBe(true);
    expect(hashed).toBe(toMemcachedKey(long));
    expect(isValidMemcachedKey(hashed)).toBe(true);
    const spaced = toMemcachedKey('larder:hello world');
    expect(spaced).toMatch(/^larder:hello_world#[\w-]{43}$/);
    expect(toMemcachedKey('a\nb')).not.toBe(toMemcachedKey('a\rb'));
    expect(toMemcachedKey('tab\there')).toMatch(/^tab_here#/);
    expect(toMemcachedKey('del\u007f')).toMatch(/^del_#/);
    expect(toMemcachedKey('é'.repeat(200))).toMatch(/^é+#/);
    expect(Buffer.byteLength(toMemcachedKey('é'.repeat(200)))).toBeLessThanOrEqual(250);
  });
});

describe('toMemcachedKey is injective', () => {
  const bytes = (key: string) => Buffer.from(toMemcachedKey(key)).toString('hex');

  it('a lone surrogate is not the replacement character (nor another lone surrogate)', () => {
    const keys = ['x\uD800', 'x\uFFFD', 'x\uDC00', 'x\uD800\uD800', 'x\uD800 ', 'x\uFFFD ', 'x\u{1F600}'];
    expect(new Set(keys.map(bytes)).size).toBe(keys.length);
    // What is sent is well-formed, stable, and keeps a readable prefix.
    const hashed = toMemcachedKey('user:\uD800');
    expect(hashed).toMatch(/^user:_#[\w-]{43}$/);
    expect(isValidMemcachedKey(hashed)).toBe(true);
    expect(toMemcachedKey('user:\uD800')).toBe(hashed);
    expect(isValidMemcachedKey('x\uD800')).toBe(false);
  });

  it('a literal key never equals a hashed key', () => {
    const hashed = toMemcachedKey('user 1');
    expect(hashed).toMatch(/^user_1#[\w-]{43}$/);
    expect(toMemcachedKey(hashed)).not.toBe(hashed);
    expect(toMemcachedKey(hashed)).toMatch(/^user_1#[\w-]{43}#[\w-]{43}$/);
    // Only keys shaped like a hashed key are encoded: other keys with '#' pass as they are.
    expect(toMemcachedKey('tag#1')).toBe('tag#1');
    expect(toMemcachedKey(`a#${'b'.repeat(42)}`)).toBe(`a#${'b'.repeat(42)}`);
    expect(toMemcachedKey(`a#${'b'.repeat(43)}`)).not.toBe(`a#${'b'.repeat(43)}`);
  });

  it('keys that differ only after byte 250, or by a space, do not collide', () => {
    const base = 'k'.repeat(250);
    expect(toMemcachedKey(`${base}a`)).not.toBe(toMemcachedKey(`${base}b`));
    expect(toMemcachedKey(`${base}a`).startsWith('k'.repeat(200))).toBe(true);
    const keys = ['a b', 'a_b', 'a  b', 'a\tb', 'ab', 'a b '];
    expect(new Set(keys.map(toMemcachedKey)).size).toBe(keys.length);
  });
});

describe('toExpiration', () => {
  const now = 1_700_000_000_000;
  it('is 0 (never) without a TTL', () => expect(toExpiration(undefined, now)).toBe(0));
  it('rounds ms up to whole seconds', () => {
    expect(toExpiration(1, now)).toBe(1);
    expect(toExpiration(1000, now)).toBe(1);
    expect(toExpiration(1001, now)).toBe(2);
  });
  it('keeps up to 30 days relative, sends longer TTLs as absolute Unix time', () => {
    expect(toExpiration(MAX_RELATIVE_EXPIRATION_S * 1000, now)).toBe(MAX_RELATIVE_EXPIRATION_S);
    expect(toExpiration(MAX_RELATIVE_EXPIRATION_S * 1000 + 1000, now)).toBe(now / 1000 + MAX_RELATIVE_EXPIRATION_S + 1);
    expect(toExpiration(365 * 86_400_000, now)).toBe(now / 1000 + 365 * 86_400);
  });
});

describe('binary framing', () => {
  it('frames quiet gets and a noop back to back with one opaque', () => {
    const buf = encodeRequests(
      [
        { opcode: Opcode.GETKQ, key: Buffer.from('a') },
        { opcode: Opcode.GETKQ, key: Buffer.from('bc') },
        { opcode: Opcode.NOOP },
      ],
      7,
    );
    expect(buf.length).toBe(24 * 3 + 3);
    expect([buf[0], buf[1], buf.readUInt16BE(2), buf.readUInt32BE(8), buf.readUInt32BE(12)]).toEqual([
      0x80, 0x0d, 1, 1, 7,
    ]);
    expect(buf.toString('latin1', 24, 25)).toBe('a');
    expect(buf[25 + 1]).toBe(0x0d);
    expect(buf[25 + 26 + 1]).toBe(0x0a);
  });

  it('frames string keys and values as their UTF-8 bytes, with extras and CAS in place', () => {
    const cas = Buffer.from('0102030405060708', 'hex');
    const extras = storageExtras(600);
    const fromStrings = encodeRequest({ opcode: Opcode.SET, key: 'ключ', extras, value: '{"é":1}', cas }, 9);
    const fromBuffers = encodeRequest(
      { opcode: Opcode.SET, key: Buffer.from('ключ'), extras, value: Buffer.from('{"é":1}'), cas },
      9,
    );
    expect(fromStrings.equals(fromBuffers)).toBe(true);
    expect(fromStrings.readUInt16BE(2)).toBe(8); // key bytes
    expect(fromStrings.readUInt32BE(8)).toBe(8 + 8 + 8); // key + extras + value bytes
    expect(fromStrings.subarray(16, 24).equals(cas)).toBe(true);
    expect(encodeRequest({ opcode: Opcode.GET, key: 'k' }, 1).subarray(16, 24).equals(Buffer.alloc(8))).toBe(true);
  });

  it('reuses the last storage extras only for the same expiration and flags', () => {
    const a = storageExtras(600);
    expect(storageExtras(600)).toBe(a);
    const b = storageExtras(601);
    expect(b).not.toBe(a);
    expect([b.readUInt32BE(0), b.readUInt32BE(4)]).toEqual([0, 601]);
    expect(storageExtras(601, 5).readUInt32BE(0)).toBe(5);
    expect(storageExtras(600).readUInt32BE(4)).toBe(600);
  });

  it('encodes and decodes 64-bit counters exactly', () => {
    const extras = counterExtras(2n ** 40n + 3n, 2n ** 63n, 60);
    expect(extras.readBigUInt64BE(0)).toBe(2n ** 40n + 3n);
    expect(extras.readBigUInt64BE(8)).toBe(2n ** 63n);
    expect(extras.readUInt32BE(16)).toBe(60);
    const answer = Buffer.alloc(8);
    answer.writeBigUInt64BE(2n ** 64n - 1n);
    expect(decodeCounter(answer)).toBe(2n ** 64n - 1n);
    expect(() => decodeCounter(Buffer.alloc(4))).toThrow(RangeError);
  });
});
