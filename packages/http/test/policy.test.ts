import { describe, expect, it } from 'vitest';
import { badTarget, normalizeHost, varyValues } from '../src/key';
import {
  acceptsCoding,
  ageOf,
  directives,
  forwardedElsewhere,
  freshnessLifetime,
  initialAge,
  planRequest,
  replayable,
  serveDecision,
  storeDecision,
} from '../src/policy';
import { parseRange, rangeMayUse } from '../src/range';

// The rules as pure functions: the edges the HTTP tests do not reach one by one.
const GET_HEAD = new Set(['GET', 'HEAD']);
const context = {
  statuses: new Set([200]),
  ttlMs: 60_000,
  now: 1_000_000,
  keyed: [] as string[],
  origin: { scheme: 'http', host: 'a.example' },
  maxBodyBytes: 1024,
};

describe('responseCache policy', () => {
  it('parses Cache-Control with quoted commas; a repeated freshness directive keeps the shorter', () => {
    const cc = directives('private="set-cookie, x-a", max-age=60, MAX-AGE=5');
    expect(cc.get('private')).toBe('set-cookie, x-a');
    expect(cc.get('max-age')).toBe('5');
    expect(cc.has('x-a')).toBe(false);
    // Kept parses answer the same; a long value is parsed each time.
    expect(directives('private="set-cookie, x-a", max-age=60, MAX-AGE=5')).toEqual(cc);
    expect(directives(['max-age=5', 'public']).get('max-age')).toBe('5');
    const long = `max-age=7, x-pad="${'p'.repeat(300)}"`;
    expect(directives(long).get('max-age')).toBe('7');
    expect(directives(long)).toEqual(directives(long));
    expect(directives(undefined).size).toBe(0);
  });

  it('freshness: s-maxage, else max-age, else Expires − Date; invalid values are stale', () => {
    expect(freshnessLifetime(directives('max-age=0, s-maxage=30'), {}, 0)).toBe(30_000);
    expect(freshnessLifetime(directives('max-age=abc'), {}, 0)).toBe(0);
    expect(freshnessLifetime(directives('s-maxage'), {}, 0)).toBe(0);
    const date = 'Thu, 01 Jan 2026 00:00:00 GMT';
    expect(freshnessLifetime(directives(undefined), { date, expires: 'Thu, 01 Jan 2026 00:00:10 GMT' }, 0)).toBe(
      10_000,
    );
    expect(freshnessLifetime(directives(undefined), { expires: '0' }, 0)).toBe(0);
    expect(freshnessLifetime(directives(undefined), { expires: 'Thursday, 01-Jan-26 00:00:10 GMT', date }, 0)).toBe(
      10_000,
    );
    expect(freshnessLifetime(directives(undefined), { expires: 'Thu Jan  1 00:00:10 2026', date }, 0)).toBe(10_000);
    expect(freshnessLifetime(directives(undefined), {}, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('Age: the first member of a list; an invalid value is undefined (not stored); capped at 2^31 (RFC 9111 §5.1, §1.2.2)', () => {
    expect(ageOf(undefined)).toBe(0);
    expect(ageOf('7200, 0')).toBe(7200);
    expect(ageOf(['7200', '0'])).toBe(7200);
    expect(ageOf(' , 5')).toBe(5);
    expect(ageOf(12)).toBe(12);
    expect(ageOf('99999999999')).toBe(2 ** 31);
    for (const bad of ['abc', '-5', '1.5', '', 'abc, 5']) expect(ageOf(bad), bad).toBeUndefined();
  });

  it('corrected initial age: max(apparent age, Age + response delay), whole seconds (RFC 9111 §4.2.3)', () => {
    const at = Date.parse('Thu, 01 Jan 2026 01:00:00 GMT');
    const date = (offsetS: number) => new Date(at + offsetS * 1000).toUTCString();
    expect(initialAge(0, date(-3600), at, at)).toBe(3600);
    expect(initialAge(7200, date(-3600), at, at)).toBe(7200);
    expect(initialAge(0, date(3600), at, at)).toBe(0);
    expect(initialAge(0, [date(-10), date(-99)], at, at)).toBe(10);
    for (const none of [undefined, 'yesterday', '']) expect(initialAge(5, none, at, at), String(none)).toBe(5);
    // The handler took 2.5 s: that delay adds to Age (not to the apparent age).
    expect(initialAge(5, undefined, at + 2500, at)).toBe(7);
    expect(initialAge(0, date(0), at + 999, at + 999)).toBe(0);
    expect(initialAge(2 ** 31, date(-10), at + 5000, at)).toBe(2 ** 31);
    // Through storeDecision: a Date 100 s back takes 100 s off max-age=600.
    const now = at;
    const stored = storeDecision(
      { method: 'GET', headers: {} },
      { status: 200, headers: { 'cache-control': 'max-age=600', date: date(-100) } },
      { ...context, ttlMs: 3_600_000, now },
    );
    expect(stored).toMatchObject({ store: true, age: 100, expiresAt: now + 500_000 });
  });

  it('Accept-Encoding: q=0 refuses, * accepts, no header means identity only', () => {
    expect(acceptsCoding('gzip, br', 'gzip')).toBe(true);
    expect(acceptsCoding('gzip;q=0, br', 'gzip')).toBe(false);
    expect(acceptsCoding('*', 'br')).toBe(true);
    expect(acceptsCoding('*, gzip;q=0', 'gzip')).toBe(false);
    expect(acceptsCoding(undefined, 'gzip')).toBe(false);
    expect(acceptsCoding(undefined, 'identity')).toBe(true);
    expect(acceptsCoding('x-gzip', 'gzip')).toBe(true);
    expect(acceptsCoding('gzip', 'gzip, br')).toBe(false);
  });

  it('ranges: one satisfiable byte range only; If-Range needs an exact strong validator', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-200', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=95-200', 100)).toEqual({ start: 95, end: 99 });
    for (const bad of ['bytes=100-', 'bytes=5-1', 'bytes=0-1,3-4', 'items=0-1', 'bytes=-0', 'bytes=-']) {
      expect(parseRange(bad, 100), bad).toBeUndefined();
    }
    expect(rangeMayUse('"v1"', '"v1"', undefined)).toBe(true);
    expect(rangeMayUse('W/"v1"', 'W/"v1"', undefined)).toBe(false);
    expect(rangeMayUse('"v1"', 'W/"v1"', undefined)).toBe(false);
    const lastModified = 'Thu, 01 Jan 2026 00:00:00 GMT';
    expect(rangeMayUse(lastModified, undefined, lastModified)).toBe(true);
    expect(rangeMayUse('Thu, 01 Jan 2026 00:00:01 GMT', undefined, lastModified)).toBe(false);
  });

  it('forwarded host or scheme other than the request’s own, unless keyed; Forwarded (RFC 7239) too', () => {
    const origin = { scheme: 'http', host: 'a.example' };
    expect(forwardedElsewhere({ 'x-forwarded-host': 'a.example:80' }, origin, [])).toBe(false);
    expect(forwardedElsewhere({ 'x-forwarded-host': 'evil.example, a.example' }, origin, [])).toBe(true);
    expect(forwardedElsewhere({ 'x-forwarded-host': 'evil.example' }, origin, ['x-forwarded-host'])).toBe(false);
    expect(forwardedElsewhere({ 'x-forwarded-proto': 'https' }, origin, [])).toBe(true);
    expect(forwardedElsewhere({ forwarded: 'for=1.2.3.4;host="evil.example";proto=http' }, origin, [])).toBe(true);
    expect(forwardedElsewhere({ forwarded: 'for=1.2.3.4;proto=http' }, origin, [])).toBe(false);
  });

  it('requests: methods, no-store, no-cache, Pragma only without Cache-Control', () => {
    expect(planRequest({ method: 'PATCH', headers: {} }, GET_HEAD)).toEqual({
      pass: true,
      fwd: 'method',
      invalidates: true,
    });
    expect(planRequest({ method: 'OPTIONS', headers: {} }, GET_HEAD)).toMatchObject({ invalidates: false });
    expect(
      planRequest({ method: 'GET', headers: { pragma: 'no-cache', 'cache-control': 'max-age=0' } }, GET_HEAD),
    ).toEqual({ pass: false, head: false });
    expect(planRequest({ method: 'HEAD', headers: {} }, new Set(['GET']))).toMatchObject({ fwd: 'method' });
  });

  it('storing: the first refusing rule names the detail; Age shortens the lifetime', () => {
    const get = (headers = {}) => ({ method: 'GET', headers });
    const ok = storeDecision(get(), { status: 200, headers: { 'cache-control': 'max-age=10', age: '4' } }, context);
    expect(ok).toEqual({ store: true, expiresAt: context.now + 6000, age: 4, shared: false, vary: [] });
    expect(storeDecision(get(), { status: 200, headers: { 'content-length': '2048' } }, context)).toEqual({
      store: false,
      detail: 'too-large',
    });
    const partial = { status: 206, headers: { 'content-range': 'bytes 0-9/100' } };
    expect(storeDecision(get(), partial, { ...context, statuses: new Set([206]) })).toMatchObject({ detail: 'range' });
    const whole = { status: 206, headers: { 'content-range': 'bytes 0-99/100' } };
    expect(storeDecision(get(), whole, { ...context, statuses: new Set([206]) })).toMatchObject({ store: true });
    // §3, §4.2.2: a status outside RFC 9110 §15.1's heuristic set needs explicit freshness or `public`.
    const redirects = { ...context, statuses: new Set([302, 307, 501]) };
    expect(storeDecision(get(), { status: 302, headers: {} }, redirects)).toEqual({
      store: false,
      detail: 'no-freshness',
    });
    for (const headers of [{ 'cache-control': 'max-age=5' }, { 'cache-control': 'public' }]) {
      expect(storeDecision(get(), { status: 307, headers }, redirects)).toMatchObject({ store: true });
    }
    // An invalid Expires is explicit freshness too: already stale (§5.3).
    expect(storeDecision(get(), { status: 307, headers: { expires: '0' } }, redirects)).toEqual({
      store: false,
      detail: 'stale',
    });
    expect(storeDecision(get(), { status: 501, headers: {} }, redirects)).toMatchObject({ store: true });
    const auth = get({ authorization: 'Basic x' });
    expect(storeDecision(auth, { status: 200, headers: { 'cache-control': 's-maxage=5' } }, context)).toMatchObject({
      store: true,
      shared: true,
    });
  });

  it('serving: a stored 206 never answers a Range; an entry without `shared` never answers Authorization', () => {
    const entry = { status: 206, headers: {}, expiresAt: 2, shared: false, length: 10 };
    expect(serveDecision(entry, { method: 'GET', headers: { range: 'bytes=0-1' } }, 1, 'uri-miss')).toMatchObject({
      serve: false,
      detail: 'range',
    });
    expect(serveDecision(entry, { method: 'GET', headers: {} }, 1, 'uri-miss')).toEqual({ serve: true });
    expect(serveDecision(entry, { method: 'GET', headers: { authorization: 'x' } }, 1, 'uri-miss')).toMatchObject({
      detail: 'authorization',
    });
    expect(serveDecision(entry, { method: 'GET', headers: {} }, 2, 'uri-miss')).toEqual({ serve: false, fwd: 'stale' });
  });

  it('replays neither hop-by-hop headers nor those Connection names, but Date; keys and targets', () => {
    // Date stays: a cache keeps the origin's (RFC 9110 §6.6.1).
    expect(replayable({ connection: 'x-a, Keep-Alive', 'x-a': '1', 'x-b': '2', 'keep-alive': 't', date: 'd' })).toEqual(
      { 'x-b': '2', date: 'd' },
    );
    expect(varyValues(['x-a', 'x-b'], { 'x-a': '' })).toEqual(['', null]);
    expect(normalizeHost('A.Example:443', 'https')).toBe('a.example');
    expect(normalizeHost('a.example:443', 'http')).toBe('a.example:443');
    expect(badTarget('/ok?q=%41%2F')).toBeUndefined();
    expect(badTarget('/x%0D%0A')).toBe('uri-control');
    expect(badTarget(`/${'a'.repeat(9000)}`)).toBe('uri-too-long');
  });
});
