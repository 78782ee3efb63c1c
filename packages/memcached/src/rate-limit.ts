import { BackendError, UnsupportedOperationError } from '@larder/core';
import { type RateLimitReply, type RateLimitRequest, RecentMap } from '@larder/core/driver';
import { counterExtras, decodeCounter, Opcode, Status } from './binary-protocol';
import { sendCreatingIncrement } from './counters';
import { toMemcachedKey } from './keys';
import type { Requests } from './requests';

const DRIVER = 'memcached';
/** Longest window memcached takes as relative seconds (a larger expiry is an absolute time, on the app's clock). */
const MAX_WINDOW_S = 30 * 24 * 3600;
/** Window starts remembered for `resetMs`: at least the 10,000 opened last (`RecentMap`). */
const MAX_REMEMBERED = 10_000;
/** DECR's expiration that means "do not create a missing key". */
const NO_CREATE = 0xffff_ffff;

/**
 * Rate limits on memcached: the fixed window only, as one binary INCR with an initial value and
 * an expiry. A missing key is created holding the hit's cost with the window as its expiry, and
 * an existing one keeps its expiry: so memcached's own clock opens and closes every window, and
 * the app servers' clocks play no part. A hit is admitted when the count it returns is within
 * the limit. Costs every hit (INCR cannot be conditional): a hit that did not fit still counts
 * until the window ends, so after a denial a smaller cost does not fit either (with cost 1,
 * nothing changes: the limit was reached anyway).
 * Not done: the sliding window and the token bucket need the time inside the window, which
 * memcached cannot give in the same round trip — they are refused, not approximated.
 * Memcached cannot report a key's remaining life either: `resetMs` is exact when this process
 * opened the window, and the whole window (an upper bound) otherwise.
 */
export class MemcachedRateLimits {
  /** When this process saw each window open (monotonic ms), by memcached key. */
  private readonly opened = new RecentMap<string, number>(MAX_REMEMBERED);

  constructor(private readonly requests: Requests) {}

  /** One decision (see the class comment). */
  async decide(key: string, request: RateLimitRequest): Promise<RateLimitReply> {
    const seconds = windowSeconds(request);
    const mkey = toMemcachedKey(key);
    const { limit, cost } = request;
    if (request.op === 'reset') {
      this.opened.delete(mkey);
      const response = await this.requests.send('rateLimit', mkey, { opcode: Opcode.DELETE, key: mkey }, true);
      if (response.header.status !== Status.OK && response.header.status !== Status.KEY_NOT_FOUND)
        throw this.requests.statusError('rateLimit', response);
      return { allowed: true, remaining: limit, resetMs: 0, retryAfterMs: 0 };
    }
    if (request.op === 'peek') {
      const response = await this.requests.send('rateLimit', mkey, { opcode: Opcode.GET, key: mkey }, true);
      if (response.header.status === Status.KEY_NOT_FOUND)
        return { allowed: true, remaining: limit, resetMs: 0, retryAfterMs: 0 };
      if (response.header.status !== Status.OK) throw this.requests.statusError('rateLimit', response);
      const current = counted(response.val, key);
      return this.reply(mkey, current, current + cost <= limit, limit, seconds);
    }
    const refund = request.op === 'refund';
    const extras = refund
      ? counterExtras(BigInt(cost), 0n, NO_CREATE)
      : counterExtras(BigInt(cost), BigInt(cost), seconds);
    const op = refund ? Opcode.DECREMENT : Opcode.INCREMENT;
    const response = await sendCreatingIncrement(this.requests, 'rateLimit', mkey, { opcode: op, key: mkey, extras });
    if (refund && response.header.status === Status.KEY_NOT_FOUND)
      return { allowed: true, remaining: limit, resetMs: 0, retryAfterMs: 0 };
    if (response.header.status !== Status.OK) throw this.requests.statusError('rateLimit', response);
    const count = Number(decodeCounter(response.val));
    // The INCR that created the key answers its initial value: this process opened the window.
    if (!refund && count === cost) this.remember(mkey);
    // The count includes this hit: it was admitted if it stayed within the limit.
    return this.reply(mkey, count, refund || count <= limit, limit, seconds);
  }

  /** The reply when `count` units are counted now. */
  private reply(mkey: string, count: number, allowed: boolean, limit: number, seconds: number): RateLimitReply {
    const resetMs = count === 0 ? 0 : this.resetMs(mkey, seconds * 1000);
    return { allowed, remaining: Math.max(0, limit - count), resetMs, retryAfterMs: allowed ? 0 : resetMs };
  }

  private remember(mkey: string): void {
    this.opened.set(mkey, performance.now());
  }

  private resetMs(mkey: string, windowMs: number): number {
    const opened = this.opened.get(mkey);
    if (opened === undefined) return windowMs;
    const left = Math.ceil(opened + windowMs - performance.now());
    if (left > 0) return left;
    this.opened.delete(mkey);
    return windowMs;
  }
}

/** The window in whole seconds, or UnsupportedOperationError for what memcached cannot do exactly. */
function windowSeconds(request: RateLimitRequest): number {
  if (request.algorithm !== 'fixed') {
    throw new UnsupportedOperationError(
      `the '${request.algorithm}' rate limit algorithm`,
      DRIVER,
      'it needs the time inside the window, which memcached cannot give in the same round trip (use the fixed window, or Redis)',
    );
  }
  const seconds = request.windowMs / 1000;
  if (!Number.isInteger(seconds) || seconds > MAX_WINDOW_S) {
    throw new UnsupportedOperationError(
      `a rate limit window of ${request.windowMs}ms`,
      DRIVER,
      'memcached expires items in whole seconds, up to 30 days',
    );
  }
  return seconds;
}

/** A counter's value as GET returns it (memcached keeps counters as decimal text). */
function counted(value: Buffer, key: string): number {
  const text = value.toString('latin1');
  if (!/^\d{1,20}$/.test(text))
    throw new BackendError(`memcached rate limit of '${key}': the stored value is not a counter`, DRIVER);
  return Number(text);
}
