import { describe, expect, it } from 'vitest';
import { ProtocolError, readResponse } from '../src/response-reader';

/** A response frame: magic 0x81, then the fields memcached sends. */
function frame(opts: {
  opcode?: number;
  status?: number;
  opaque?: number;
  cas?: bigint;
  extras?: string;
  key?: string;
  value?: string;
  bodyLength?: number;
}): Buffer {
  const extras = Buffer.from(opts.extras ?? '');
  const key = Buffer.from(opts.key ?? '');
  const value = Buffer.from(opts.value ?? '');
  const header = Buffer.alloc(24);
  header[0] = 0x81;
  header[1] = opts.opcode ?? 0x0d;
  header.writeUInt16BE(key.length, 2);
  header[4] = extras.length;
  header.writeUInt16BE(opts.status ?? 0, 6);
  header.writeUInt32BE(opts.bodyLength ?? extras.length + key.length + value.length, 8);
  header.writeUInt32BE(opts.opaque ?? 0, 12);
  header.writeBigUInt64BE(opts.cas ?? 0n, 16);
  return Buffer.concat([header, extras, key, value]);
}

describe('readResponse', () => {
  it('reads header fields, extras, key, value and CAS of consecutive responses', () => {
    const first = frame({
      opcode: 0x0d,
      opaque: 0xfffffffe,
      cas: 42n,
      extras: 'flag',
      key: 'larder:k1',
      value: '{"a":1}',
    });
    const second = frame({ opcode: 0x0a, opaque: 9 });
    const buffer = Buffer.concat([first, second]);
    const one = readResponse(buffer, 0)!;
    expect(one.header).toMatchObject({
      opcode: 0x0d,
      status: 0,
      opaque: 0xfffffffe,
      totalBodyLength: first.length - 24,
    });
    expect(one.header.cas.readBigUInt64BE(0)).toBe(42n);
    expect(one.extras.toString()).toBe('flag');
    expect(one.key.toString()).toBe('larder:k1');
    expect(one.val.toString()).toBe('{"a":1}');
    const two = readResponse(buffer, first.length)!;
    expect(two.header).toMatchObject({ opcode: 0x0a, opaque: 9, totalBodyLength: 0 });
    expect([two.key.length, two.extras.length, two.val.length]).toEqual([0, 0, 0]);
  });

  it('reads a status and its error text', () => {
    const response = readResponse(frame({ opcode: 0x01, status: 0x03, value: 'Too large.' }), 0)!;
    expect(response.header.status).toBe(3);
    expect(response.val.toString()).toBe('Too large.');
  });

  it('waits (undefined) while the header or the body is incomplete', () => {
    const whole = frame({ key: 'k', value: 'value' });
    for (let length = 0; length < whole.length; length++)
      expect(readResponse(whole.subarray(0, length), 0)).toBeUndefined();
    expect(readResponse(whole, 0)).toBeDefined();
  });

  it('throws a ProtocolError on a wrong magic byte or a body shorter than key + extras', () => {
    const garbage = Buffer.from('SERVER_ERROR out of memory\r\n....');
    expect(() => readResponse(garbage, 0)).toThrow(ProtocolError);
    expect(() => readResponse(frame({ key: 'longkey', extras: 'flag', bodyLength: 5 }), 0)).toThrow(ProtocolError);
  });
});
