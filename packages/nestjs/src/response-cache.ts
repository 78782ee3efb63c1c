import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Cache, ConfigError } from '@larder/core';
import {
  backgroundRequest,
  type Dispatch,
  isBackground,
  nodeResponseCache,
  type ResponseCacheMiddleware,
  type ResponseCacheOptions,
  type ResponseCacheStats,
} from '@larder/http';
import { Inject, Injectable, type NestMiddleware, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LARDER_CACHE } from './wiring';

/** The injection token of the response cache's options (`LarderModule.forRoot({ responseCache })`). */
export const LARDER_RESPONSE_CACHE_OPTIONS = 'LARDER_RESPONSE_CACHE_OPTIONS';

/** Options of the response cache: `@larder/express`'s `responseCache` options; `cache` defaults to the module's. */
export type NestResponseCacheOptions = Omit<ResponseCacheOptions<ServerResponse>, 'cache'> & { cache?: Cache };

/** What the platform's app instance offers to send a request copy through it (Express `handle`, Fastify `routing`). */
interface PlatformApp {
  handle?: Dispatch;
  routing?: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * The response cache of the app (`@larder/http`'s `node:http` binding, the rules of
 * `@larder/express`'s `responseCache`), used by `LarderResponseCacheMiddleware`. Inject it for
 * `invalidate(url)`, `settled()` and `stats()`.
 */
@Injectable()
export class LarderResponseCache {
  readonly #rc: ResponseCacheMiddleware | undefined;

  constructor(
    @Inject(LARDER_CACHE) cache: Cache,
    @Inject(HttpAdapterHost) adapterHost: HttpAdapterHost,
    @Optional() @Inject(LARDER_RESPONSE_CACHE_OPTIONS) options: NestResponseCacheOptions | null | undefined,
  ) {
    if (!options) return;
    this.#rc = nodeResponseCache(
      { ...options, cache: options?.cache ?? cache },
      // RFC 5861 §3: the stale entry answers while a copy of the request goes through the whole app.
      { refresher: (req) => (isBackground(req) ? undefined : refresher(req, adapterHost)) },
    );
  }

  /** Answers from the cache, or runs the route with its response recorded (a connect-style middleware). */
  handle(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    this.#configured()(req, res, next);
  }

  /** Retires every cached response of `url` (all variants; all hosts when relative). Resolves true if it had entries. */
  invalidate(url: string): Promise<boolean> {
    return this.#configured().invalidate(url);
  }

  /** Resolves once every cache write and invalidation started so far has settled (tests, shutdown). */
  settled(): Promise<void> {
    return this.#configured().settled();
  }

  /** Whether `LarderModule.forRoot` was given `responseCache` options. */
  get configured(): boolean {
    return this.#rc !== undefined;
  }

  #configured(): ResponseCacheMiddleware {
    if (this.#rc === undefined) {
      throw new ConfigError(
        'the response cache needs options: LarderModule.forRoot({ cache, responseCache: { ttl } })',
        'responseCache',
      );
    }
    return this.#rc;
  }

  /** The response cache's counters. */
  stats(): ResponseCacheStats {
    return this.#configured().stats();
  }
}

/** A copy of `req` through the platform's app (Express or Fastify), or none when the adapter offers no way in. */
function refresher(req: IncomingMessage, adapterHost: HttpAdapterHost): (() => Promise<void>) | undefined {
  const app = adapterHost.httpAdapter?.getInstance<PlatformApp>();
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  if (typeof app?.handle === 'function')
    return backgroundRequest(req, url, (copy, res, done) => app.handle?.(copy, res, done));
  if (typeof app?.routing === 'function') return backgroundRequest(req, url, (copy, res) => app.routing?.(copy, res));
  return undefined;
}

/**
 * The response cache as Nest middleware, for the routes it is applied to:
 * `consumer.apply(LarderResponseCacheMiddleware).forRoutes(...)` in a module's `configure`.
 * Middleware rather than an interceptor: see the README.
 */
@Injectable()
export class LarderResponseCacheMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  constructor(@Inject(LarderResponseCache) private readonly responseCache: LarderResponseCache) {
    // At the app's start rather than on its first request.
    if (!responseCache.configured) responseCache.stats();
  }

  /** Nest's middleware entry point. */
  use(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    this.responseCache.handle(req, res, next);
  }
}
