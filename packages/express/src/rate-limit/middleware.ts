import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RateLimitDecision } from '@larder/core';
import { type RateLimiterLike, rateLimitHeaders } from '@larder/http';

export type { RateLimiterLike } from '@larder/http';

/** Options of `rateLimit()`. */
export interface RateLimitOptions<Req extends IncomingMessage = IncomingMessage> {
  /** The limiter, e.g. `cache.rateLimiter({ limit: 100, window: '1m', algorithm: 'sliding' })`. */
  limiter: RateLimiterLike;
  /** The key a request counts against, e.g. `(req) => req.ip`. */
  key: (req: Req) => string | Promise<string>;
  /** Units a request weighs (1 to the limit). @default 1 */
  cost?: number | ((req: Req) => number | Promise<number>);
  /** Requests that neither count nor get headers (e.g. health checks). */
  skip?: (req: Req) => boolean | Promise<boolean>;
  /** The policy name in the `RateLimit` and `RateLimit-Policy` headers. @default 'default' */
  policy?: string;
  /** Answers a request that is over the limit (after the headers are set). @default a 429 with a short text body */
  limited?: (req: Req, res: ServerResponse, decision: RateLimitDecision) => void;
}

/** A middleware (express, connect, or plain `node:http`). */
export type RateLimitMiddleware<Req extends IncomingMessage = IncomingMessage> = (
  req: Req,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/** The decision of the request, on `res.locals.rateLimit` (express) when there is `res.locals`. */
type WithLocals = ServerResponse & { locals?: Record<string, unknown> };

/**
 * Rate limits a route with a larder limiter: one decision per request (one store round trip),
 * the IETF `RateLimit-Policy` and `RateLimit` headers on every counted response
 * (draft-ietf-httpapi-ratelimit-headers: `"<policy>";q=<limit>;w=<window s>` and
 * `"<policy>";r=<remaining>;t=<reset s>`), and over the limit a 429 with `Retry-After` (seconds).
 * Bad input (an empty key, a cost above the limit) goes to `next(error)` with its typed error.
 */
export function rateLimit<Req extends IncomingMessage = IncomingMessage>(
  options: RateLimitOptions<Req>,
): RateLimitMiddleware<Req> {
  const { limiter, key, cost, skip, limited = tooManyRequests } = options;
  const headers = rateLimitHeaders(options);

  // Resolves true when the request goes on (next is called outside, so its own errors are not caught here).
  const decide = async (req: Req, res: ServerResponse): Promise<boolean> => {
    if (skip && (await skip(req))) return true;
    const units = typeof cost === 'function' ? await cost(req) : cost;
    const decision = await limiter.hit(await key(req), units === undefined ? undefined : { cost: units });
    const locals = (res as WithLocals).locals;
    if (locals) locals.rateLimit = decision;
    if (!res.headersSent) {
      res.setHeader('RateLimit-Policy', headers.policy);
      res.setHeader('RateLimit', headers.rateLimit(decision));
    }
    if (decision.allowed) return true;
    if (!res.headersSent) res.setHeader('Retry-After', headers.retryAfter(decision));
    limited(req, res, decision);
    return false;
  };
  return (req, res, next) => {
    decide(req, res).then((goOn) => goOn && next(), next);
  };
}

function tooManyRequests(_req: IncomingMessage, res: ServerResponse): void {
  if (res.headersSent) return void res.end();
  res.statusCode = 429;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end('Too Many Requests');
}
