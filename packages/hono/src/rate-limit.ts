import type { RateLimitDecision } from '@larder/core';
import { type RateLimiterLike, rateLimitHeaders } from '@larder/http';
import type { Context, MiddlewareHandler } from 'hono';

/** Options of `rateLimit()`: those of `@larder/express`'s, with Hono's `Context` for the request. */
export interface HonoRateLimitOptions {
  /** The limiter, e.g. `cache.rateLimiter({ limit: 100, window: '1m', algorithm: 'sliding' })`. */
  limiter: RateLimiterLike;
  /** The key a request counts against, e.g. `(c) => c.req.header('x-api-key') ?? 'anon'`. */
  key: (c: Context) => string | Promise<string>;
  /** Units a request weighs (1 to the limit). @default 1 */
  cost?: number | ((c: Context) => number | Promise<number>);
  /** Requests that neither count nor get headers (e.g. health checks). */
  skip?: (c: Context) => boolean | Promise<boolean>;
  /** The policy name in the `RateLimit` and `RateLimit-Policy` headers. @default 'default' */
  policy?: string;
  /** Answers a request that is over the limit (its headers are added after). @default a 429 with a short text body */
  limited?: (c: Context, decision: RateLimitDecision) => Response | Promise<Response>;
}

/** What the middleware sets on the context: the request's decision, as `c.get('rateLimit')`. */
export type RateLimitVariables = { rateLimit: RateLimitDecision };

/**
 * Rate limits routes with a larder limiter, as `@larder/express`'s `rateLimit` does: one decision
 * per request (one store round trip), the IETF `RateLimit-Policy` and `RateLimit` headers on every
 * counted response, and over the limit a 429 with `Retry-After` (seconds); the decision is on
 * `c.get('rateLimit')`. Bad options are a `ConfigError`; bad input at run time (an empty key, a
 * cost above the limit) throws its typed error to Hono's `onError`.
 */
export function rateLimit(options: HonoRateLimitOptions): MiddlewareHandler<{ Variables: RateLimitVariables }> {
  const headers = rateLimitHeaders(options);
  const { limiter, key, cost, skip, limited = tooManyRequests } = options;
  return async (c, next) => {
    if (skip && (await skip(c))) return next();
    const units = typeof cost === 'function' ? await cost(c) : cost;
    const decision = await limiter.hit(await key(c), units === undefined ? undefined : { cost: units });
    c.set('rateLimit', decision);
    const stamp = (response: Response) => {
      response.headers.set('RateLimit-Policy', headers.policy);
      response.headers.set('RateLimit', headers.rateLimit(decision));
      if (!decision.allowed) response.headers.set('Retry-After', headers.retryAfter(decision));
    };
    if (!decision.allowed) {
      c.res = await limited(c, decision);
      stamp(c.res);
      return c.res;
    }
    await next();
    // A handler may return a Response whose headers are immutable (e.g. one from fetch): copy it then.
    try {
      stamp(c.res);
    } catch {
      c.res = new Response(c.res.body, c.res);
      stamp(c.res);
    }
  };
}

function tooManyRequests(c: Context): Response {
  return c.text('Too Many Requests', 429);
}
