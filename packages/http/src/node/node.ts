import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HttpRequest, ResponseCacheEngine, type ResponseCacheStats, type Step } from '../engine';
import { originFrom } from '../key';
import type { KeyRequest, ResponseCacheOptions } from '../options';
import { type Replayed, replayed } from '../replay';
import type { HandlerRun } from '../run';
import { captureResponse } from './capture';
import { holdCompletion } from './hold';

/** A connect/Express-style middleware on `node:http`. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** The middleware, with a helper to drop a URL's cached responses. */
export interface ResponseCacheMiddleware extends Middleware {
  /** Retires every cached response of `url` (all variants, all hosts when `url` is relative). Resolves true if the URL had entries. */
  invalidate(url: string): Promise<boolean>;
  /** Resolves once every cache write and invalidation this middleware started has settled (tests, shutdown). */
  settled(): Promise<void>;
  /** Counters (see `ResponseCacheStats`). */
  stats(): ResponseCacheStats;
}

/** What a framework binding adds to the `node:http` one. */
export interface NodeBinding {
  /**
   * RFC 5861 §3: a function sending a copy of `req` through the app in the background (its
   * response going nowhere), or `undefined` when there is no app to send it through (the request
   * then revalidates itself, as it does for a copy itself).
   */
  refresher?(req: IncomingMessage): (() => Promise<void>) | undefined;
  /** Called when the cache answers `req` itself (the handler will not run): a framework that must be told (Fastify's `reply.hijack()`). */
  onAnswer?(req: IncomingMessage, res: ServerResponse): void;
}

/** The request as the engine sees it. */
export function nodeRequest(req: IncomingMessage): HttpRequest {
  const target = req.url ?? '/';
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    url: (req as KeyRequest).originalUrl ?? target,
    headers: req.headers,
    origin: originFrom(target, req.headers.host, encrypted),
    keyRequest: req as KeyRequest,
  };
}

/** The stored header names a replay's own headers replace (lower case → the name in `Replayed.added`). */
const REPLACED: ReadonlyMap<string, string> = new Map([
  ['date', 'Date'],
  ['content-range', 'Content-Range'],
]);

/**
 * Sends a replayed response on `res`: the stored headers but `removed`, then the cache's own, in one
 * `writeHead` (a flat list: Node writes it straight out when nothing was set on `res` before, and
 * merges it over what was, as `setHeader` would).
 */
export function sendReplayed(res: ServerResponse, answer: Replayed): void {
  const { stored, added, removed } = answer;
  const list: (string | string[])[] = [];
  for (const name in stored) {
    const replaced = REPLACED.get(name);
    if (replaced !== undefined && added[replaced] !== undefined) continue;
    if (removed.length === 0 || !removed.includes(name)) list.push(name, stored[name] as string | string[]);
  }
  for (const name in added) list.push(name, added[name] as string);
  for (const name of removed) res.removeHeader(name);
  res.writeHead(answer.status, list as string[]);
  if (answer.body === undefined) res.end();
  else res.end(answer.body);
}

/**
 * The response cache on `node:http` (Express, Connect, a plain server): caches GET responses as a
 * shared cache (RFC 9111) and answers GET and HEAD from them, with `X-Cache: HIT|MISS` and RFC 9211
 * `Cache-Status`. Fails open: a cache that errs or is slower than `lookupBudget` only sends
 * requests to the handler.
 */
export function nodeResponseCache(
  options: ResponseCacheOptions<ServerResponse>,
  binding: NodeBinding = {},
): ResponseCacheMiddleware {
  const engine = new ResponseCacheEngine(options);
  const o = engine.options;
  const refresher = binding.refresher;

  const middleware = ((req, res, next) => {
    const request = nodeRequest(req);
    const step = engine.begin(request, refresher && (() => refresher(req)));
    if (!(step instanceof Promise)) return act(step, request, req, res, next);
    step.then(
      (found) => act(found, request, req, res, next),
      (error: unknown) => failed(res, next, error),
    );
  }) as ResponseCacheMiddleware;

  function act(
    step: Step,
    request: HttpRequest,
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ) {
    // `X-Cache: MISS` goes on every response the handler makes (pass, run, errors); a hit sets HIT.
    switch (step.kind) {
      case 'replay':
        binding.onAnswer?.(req, res);
        return sendReplayed(res, replayed(req.headers, step.entry, step.options));
      case 'failed':
        return failed(res, next, step.error);
      case 'pass':
        res.setHeader('X-Cache', 'MISS');
        res.setHeader('Cache-Status', step.cacheStatus);
        if (step.invalidates) holdUnsafe(request, res);
        return next();
      case 'run':
        run(step.run, req, res);
        return next();
    }
  }

  /** Hands an error to the framework with `X-Cache: MISS` when the headers are still unsent. */
  function failed(res: ServerResponse, next: (err?: unknown) => void, error: unknown): void {
    if (!res.headersSent) res.setHeader('X-Cache', 'MISS');
    next(error);
  }

  /** The completion of an unsafe request's response waits for its URI's invalidation (see `holdCompletion`). */
  function holdUnsafe(request: HttpRequest, res: ServerResponse): void {
    const after = engine.unsafe(request);
    if (!after) return;
    let started = false;
    const invalidate = (): Promise<unknown> | undefined => {
      if (started) return undefined;
      started = true;
      // The status is final: the headers are out, or go out with this call.
      return after(res.statusCode, [res.getHeader('location'), res.getHeader('content-location')]);
    };
    holdCompletion(res, invalidate);
    // A response cut short after its status went out (the client left, the handler destroyed it)
    // still says the resource changed: its invalidation runs in the background.
    res.once('close', () => {
      if (res.headersSent) invalidate();
    });
  }

  /** Runs the handler on `res` with the run recording, intercepting and storing its response. */
  function run(handlerRun: HandlerRun, req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('X-Cache', 'MISS');
    // The headers set before the handler ran: only an error answered by a stale entry needs them.
    const before = handlerRun.mayAnswerError() ? new Set(res.getHeaderNames()) : undefined;
    const tags = () => o.tags?.(req as KeyRequest, res) ?? [];
    captureResponse(res, o.maxBodyBytes, {
      intercept: (status) => handlerRun.intercepts(status),
      onIntercepted(status, headers) {
        const answer = handlerRun.intercepted(status, headers, tags);
        // The error response's own headers (an error page's CSP, its type) are not the entry's.
        if (status !== 304 && before)
          for (const name of res.getHeaderNames()) if (!before.has(name)) res.removeHeader(name);
        sendReplayed(res, replayed(req.headers, answer.entry, answer.options));
      },
      onHead(status, headers, complete) {
        const head = handlerRun.head(status, headers, complete, res.sendDate);
        // The Date Node would add, set here so that the hits replay the one this response has.
        if (head.date !== undefined) res.setHeader('Date', head.date);
        res.setHeader('Cache-Status', head.cacheStatus);
      },
      onDone: (captured) => handlerRun.done(captured, tags),
    });
  }

  middleware.invalidate = (url: string) => engine.invalidate(url);
  middleware.settled = () => engine.settled();
  middleware.stats = () => engine.stats();
  return middleware;
}
