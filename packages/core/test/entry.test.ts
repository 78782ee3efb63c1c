import { jsonCodec } from '@larder/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  freshValue,
  GRACE,
  GraceCopies,
  gracedEntry,
  isFresh,
  isGraced,
  isLivePayload,
  storeTtl,
} from '../src/values/entry';

const start = new Date('2030-01-01T00:00:00Z').getTime();

afterEach(() => {
  vi.useRealTimers();
});

describe('entry model', () => {
  it('a graced entry is fresh until its logical expiry, then reads as a miss', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start);
    const entry = gracedEntry({ n: 1 }, 60_000);
    expect(entry).toEqual({ [GRACE]: start + 60_000, v: { n: 1 } });
    expect(isGraced(entry)).toBe(true);
    expect(isFresh(entry)).toBe(true);
    expect(freshValue(entry)).toEqual({ n: 1 });
    vi.setSystemTime(start + 60_000);
    expect(isFresh(entry)).toBe(false);
    expect(freshValue(entry)).toBeUndefined();
  });

  it('plain values are returned as they are', () => {
    for (const value of [0, '', null, false, { v: 1 }, [1], { grace: 1 }]) {
      expect(isGraced(value)).toBe(false);
      expect(freshValue(value)).toBe(value);
    }
  });

  it('the store keeps a graced entry for ttl + grace, a plain one for its ttl', () => {
    expect(storeTtl(1000, 500)).toBe(1500);
    expect(storeTtl(1000, 0)).toBe(1000);
    expect(storeTtl(undefined, 0)).toBeUndefined();
  });

  it('isLivePayload: false only for a graced entry past its logical expiry, with and without a codec', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start);
    const entry = gracedEntry('v', 1000);
    const text = jsonCodec.encode(entry, 'k');
    const bytes = new TextEncoder().encode(text as string);
    expect(isLivePayload(text, jsonCodec, 'k')).toBe(true);
    expect(isLivePayload(bytes, jsonCodec, 'k')).toBe(true);
    expect(isLivePayload(entry as never, undefined, 'k')).toBe(true);
    vi.setSystemTime(start + 1000);
    expect(isLivePayload(text, jsonCodec, 'k')).toBe(false);
    expect(isLivePayload(bytes, jsonCodec, 'k')).toBe(false);
    expect(isLivePayload(entry as never, undefined, 'k')).toBe(false);
    expect(isLivePayload('"plain"', jsonCodec, 'k')).toBe(true);
    expect(isLivePayload('{not json', jsonCodec, 'k')).toBe(true); // get reports the decoding error
  });

  it('GraceCopies serves an entry within its grace only, and keeps the 1000 kept last (at most 2000)', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start);
    const copies = new GraceCopies();
    const entry = gracedEntry('v', 1000);
    copies.keep('a', entry, 500);
    expect(copies.within('a')).toBe(entry);
    expect(copies.within('b')).toBeUndefined();
    vi.setSystemTime(start + 1499);
    expect(copies.within('a')).toBe(entry);
    vi.setSystemTime(start + 1500);
    expect(copies.within('a')).toBeUndefined();
    vi.setSystemTime(start);
    for (let i = 0; i < 2000; i++) copies.keep(`k${i}`, entry, 500);
    expect(copies.within('a')).toBeUndefined(); // the oldest went first
    for (let i = 1000; i < 2000; i++) expect(copies.within(`k${i}`)).toBe(entry);
  });
});
