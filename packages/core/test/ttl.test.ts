import { InvalidTtlError } from '@larder/core';
import { parseTtl } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';

describe('parseTtl', () => {
  it('takes numbers as milliseconds', () => {
    expect(parseTtl(1)).toBe(1);
    expect(parseTtl(1500)).toBe(1500);
    expect(parseTtl(0.4)).toBe(1); // rounds up: a TTL never shrinks to 0
  });

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1.5s', 1500],
    [' 2 s ', 2000],
  ])('parses %j', (input, ms) => {
    expect(parseTtl(input)).toBe(ms);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, '', '10', 'ten minutes', '-5s', '0s', '5y', null, {}, true])(
    'rejects %j with InvalidTtlError',
    (input) => {
      expect(() => parseTtl(input as never)).toThrow(InvalidTtlError);
    },
  );

  it('has a stable error code', () => {
    try {
      parseTtl(-1);
    } catch (error) {
      expect((error as InvalidTtlError).code).toBe('E_INVALID_TTL');
    }
  });
});
