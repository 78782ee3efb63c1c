import { type HttpRequest, ResponseCacheEngine, type ResponseCacheStats } from '../engine';
import { originFrom } from '../key';
import type { KeyRequest, ResponseCacheOptions } from '../options';
import { replayed } from '../replay';
import type { HandlerRun } from '../run';
import { readUpTo, replayedResponse, requestHeaders, responseHeaders, toHeaders, withHeaders } from './convert';

/** A Fetch-style handler: a `Request` in, a `Response` out. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** The Web binding: wraps a handler call with the response cache. */
export interface WebResponseCache {
  /** Answers `request` from the cache, or through `handler` (with the revalidation's conditionals when it revalidates). */
  (request: Request, handler: FetchHandler): Promise<Response>;
  /** Retires every cached response of `url` (all variants, all hosts when `url` is relative). Resolves true if the URL had entries. */
  invalidate(url: string): Promise<boolean>;
  /** Resolves once every cache write, invalidation and background revalidation started has settled. */
  settled(): Promise<void>;
  /** Counters (see `ResponseCacheStats`). */
  stats(): ResponseCacheStats;
}

/** What a framework binding changes in the Web one. */
export interface WebBinding {
  /**
   * Whether `stale-while-revalidate` may call the handler again in the background with a copy of
   * the request; false where a handler can run only once per request (a middleware's `next`): the
   * request then revalidates itself. @default true
   */
  background?: boolean;
}

/** The request as the engine sees it. */
export function webRequest(request: Request): HttpRequest {
  const url = new URL(request.url);
  const target = url.pathname + url.search;
  const headers = requestHeaders(request.headers);
  const method = request.method.toUpperCase();
  return {
    method,
    url: target,
    headers,
    origin: originFrom(target, url.host, url.protocol === 'https:'),
    keyRequest: { method, url: target, originalUrl: target, headers } satisfies KeyRequest,
  };
}

/**
 * The response cache over Web `Request`/`Response` (Hono, any Fetch-style handler): the same
 * rules, options and `Cache-Status` as the `node:http` binding. An unsafe request's response is
 * returned only once its URI is invalidated (read-your-writes); `stale-while-revalidate` sends a
 * copy of the request through the same handler in the background.
 */
export function webResponseCache(options: ResponseCacheOptions<Response>, binding: WebBinding = {}): WebResponseCache {
  const engine = new ResponseCacheEngine(options);
  const background = binding.background ?? true;
  const o = engine.options;
  const copies = new WeakSet<Request>();

  const handle = (async (request: Request, handler: FetchHandler): Promise<Response> => {
    const req = webRequest(request);
    const refresher = !background || copies.has(request) ? undefined : () => () => refresh(request, handler);
    const step = await engine.begin(req, refresher);
    switch (step.kind) {
      case 'replay':
        return replayedResponse(replayed(req.headers, step.entry, step.options));
      case 'failed':
        throw step.error;
      case 'pass': {
        const after = step.invalidates ? engine.unsafe(req) : undefined;
        const response = await handler(request);
        const out = withHeaders(response, { 'X-Cache': 'MISS', 'Cache-Status': step.cacheStatus });
        const locations = [response.headers.get('location'), response.headers.get('content-location')];
        await after?.(response.status, locations);
        return out;
      }
      case 'run':
        return run(step.run, request, req, handler);
    }
  }) as WebResponseCache;

  /** RFC 5861 §3: the same GET without conditionals or Range, through the cache and the handler; its response is dropped. */
  async function refresh(request: Request, handler: FetchHandler): Promise<void> {
    const headers = new Headers(request.headers);
    for (const name of ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']) {
      headers.delete(name);
    }
    const copy = new Request(request.url, { method: 'GET', headers });
    copies.add(copy);
    try {
      const response = await handle(copy, handler);
      await response.body?.cancel();
    } catch {
      // A failed background revalidation leaves the stale entry as it was.
    }
  }

  async function run(hr: HandlerRun, request: Request, req: HttpRequest, handler: FetchHandler): Promise<Response> {
    // The revalidation's conditionals (if any) are on `req.headers`: the handler gets them.
    const asked = new Request(request, { headers: toHeaders(req.headers) });
    let response: Response;
    try {
      response = await handler(asked);
    } catch (error) {
      // RFC 5861 §4: a handler that throws is a 500 to `stale-if-error`.
      if (!hr.intercepts(500)) {
        hr.restoreConditionals();
        hr.done(undefined, () => []);
        throw error;
      }
      response = new Response(null, { status: 500 });
    }
    const tags = () => o.tags?.(req.keyRequest, response) ?? [];
    const headers = responseHeaders(response.headers);
    if (hr.intercepts(response.status)) {
      const answer = hr.intercepted(response.status, headers, tags);
      hr.done(undefined, tags);
      await response.body?.cancel();
      return replayedResponse(replayed(req.headers, answer.entry, answer.options));
    }
    const read = await readUpTo(response.body, o.maxBodyBytes);
    const whole = 'whole' in read ? read.whole : undefined;
    const head = hr.head(response.status, headers, whole !== undefined, !response.headers.has('date'));
    const out = new Response(
      whole === undefined ? (read as { stream: ReadableStream }).stream : bodyOf(response.status, whole),
      response,
    );
    out.headers.set('X-Cache', 'MISS');
    out.headers.set('Cache-Status', head.cacheStatus);
    if (head.date !== undefined) out.headers.set('Date', head.date);
    const declared = response.headers.get('content-length');
    // A body shorter or longer than it said is not the response the handler meant.
    const captured = whole !== undefined && (declared === null || Number(declared) === whole.length);
    hr.done(captured ? { status: response.status, headers, body: whole } : undefined, tags);
    return out;
  }

  handle.invalidate = (url: string) => engine.invalidate(url);
  handle.settled = () => engine.settled();
  handle.stats = () => engine.stats();
  return handle;
}

/** A status that has no body (RFC 9110 §6.4.1) gets `null`. */
function bodyOf(status: number, body: Buffer): Uint8Array | null {
  return status === 204 || status === 304 || (status >= 100 && status < 200) ? null : new Uint8Array(body);
}
