import { describe, expect, it } from 'vitest';
import type { SessionData } from '../src/index';
import { followExpiry, requestedExpiry } from '../src/sessions/expiry';

const NOW = 1_800_000_000_000;
const TTL = 86_400_000;

describe('requestedExpiry', () => {
  it('takes expires, else maxAge, else originalMaxAge after an invalid expires, else the ttl', () => {
    expect(requestedExpiry({ expires: new Date(NOW + 5000), maxAge: 9000 }, NOW, TTL)).toBe(NOW + 5000);
    expect(requestedExpiry({ expires: new Date(NOW + 5000).toISOString() }, NOW, TTL)).toBe(NOW + 5000);
    expect(requestedExpiry({ maxAge: 9000 }, NOW, TTL)).toBe(NOW + 9000);
    expect(requestedExpiry({ expires: new Date(Number.NaN), maxAge: 9000 }, NOW, TTL)).toBe(NOW + 9000);
    // express-session's Cookie derives maxAge from an invalid Date as NaN: originalMaxAge is next.
    expect(requestedExpiry({ expires: new Date(Number.NaN), maxAge: Number.NaN, originalMaxAge: 7000 }, NOW, TTL)).toBe(
      NOW + 7000,
    );
    expect(requestedExpiry({ expires: 'not a date', maxAge: Number.NaN }, NOW, TTL)).toBe(NOW + TTL);
    expect(requestedExpiry(null, NOW, TTL)).toBe(NOW + TTL);
    expect(requestedExpiry({ expires: null, maxAge: null }, NOW, TTL)).toBe(NOW + TTL);
  });

  it('refuses a negative, zero, NaN or infinite maxAge with InvalidTtlError', () => {
    for (const maxAge of [-1, 0, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => requestedExpiry({ maxAge }, NOW, TTL)).toThrow(expect.objectContaining({ code: 'E_INVALID_TTL' }));
    }
  });
});

describe('followExpiry', () => {
  const session = (cookie: SessionData['cookie']): SessionData => ({ user: 'ann', cookie });

  it('gives the cookie the later of its stored expires and the expiry known to this process', () => {
    const s = session({ expires: new Date(NOW + 1000).toISOString(), originalMaxAge: 1500 });
    expect(followExpiry(s, NOW + 1400, NOW)).toBe(true);
    expect(s.cookie?.expires).toBe(new Date(NOW + 1400).toISOString());
    const t = session({ expires: new Date(NOW + 1000).toISOString(), originalMaxAge: 1500 });
    expect(followExpiry(t, NOW + 200, NOW)).toBe(true);
    expect(t.cookie?.expires).toBe(new Date(NOW + 1000).toISOString());
  });

  it('a rolling cookie whose known expiry passed (pushed by another instance) reads as now + originalMaxAge', () => {
    const s = session({ expires: new Date(NOW - 500).toISOString(), originalMaxAge: 1500 });
    expect(followExpiry(s, NOW - 500, NOW)).toBe(true);
    expect(s.cookie?.expires).toBe(new Date(NOW + 1500).toISOString());
  });

  it('a fixed expires that passed is over, even if the backend still holds it (coarse TTL precision)', () => {
    expect(
      followExpiry(session({ expires: new Date(NOW - 10).toISOString(), originalMaxAge: null }), NOW - 10, NOW),
    ).toBe(false);
  });

  it('a cookie without expires, or no cookie, is left to the backend TTL', () => {
    const s = session({ expires: null, originalMaxAge: null });
    expect(followExpiry(s, NOW - 1, NOW)).toBe(true);
    expect(s.cookie?.expires).toBeNull();
    const none: SessionData = { user: 'ann' };
    expect(followExpiry(none, NOW - 1, NOW)).toBe(true);
    expect('cookie' in none).toBe(false);
  });
});
