import { describe, expect, it } from 'vitest';
import { httpDate, imfDate } from '../src/dates';

// RFC 9110 §5.6.7: the three forms a recipient accepts, read the same way each time they come back.
describe('httpDate', () => {
  const at = Date.UTC(1994, 10, 6, 8, 49, 37);

  it('reads IMF-fixdate, RFC 850 and asctime, on the first read and on every later one', () => {
    for (let round = 0; round < 3; round++) {
      expect(httpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(at);
      expect(httpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(at);
      expect(httpDate('Sun Nov  6 08:49:37 1994')).toBe(at);
    }
  });

  it('is NaN for what is not an HTTP-date, again when asked again, and for a long text', () => {
    for (let round = 0; round < 3; round++) {
      expect(httpDate('0')).toBeNaN();
      expect(httpDate('yesterday')).toBeNaN();
      expect(httpDate(`Sun, 06 Nov 1994 08:49:37 GMT${' '.repeat(100)}x`)).toBeNaN();
    }
    expect(httpDate(` Sun, 06 Nov 1994 08:49:37 GMT${' '.repeat(40)}`)).toBe(at);
  });

  it('reads past more distinct dates than it keeps', () => {
    for (let i = 0; i < 1000; i++) expect(httpDate(new Date(at + i * 1000).toUTCString())).toBe(at + i * 1000);
  });
});

describe('imfDate', () => {
  it('is Date#toUTCString, within a second, across seconds and back in time', () => {
    const base = Date.UTC(2026, 10, 27, 1, 2, 3);
    for (const offset of [0, 1, 999, 1000, 1500, 61_000, -5_000, 0, 86_400_000, 0]) {
      expect(imfDate(base + offset)).toBe(new Date(base + offset).toUTCString());
    }
  });
});
