import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cache } from '@larder/core';
import { ConfigError } from '@larder/core';
import { backgroundRequest, isBackground } from './background';
import { captureResponse } from './capture';
import { Flights } from './flights';
import {
  badTarget,
  baseKey,
  defaultResource,
  digest,
  generationKey,
  type Origin,
  originOf,
  requestFor,
  sameVariant,
  variantKey,
  varyValues,
} from './key';
import { type KeyRequest, type ResponseCacheOptions, resolveResponseCacheOptions } from './options';
import { PendingWork, Revalidations } from './pending';
import { planRequest, replayable, type Storable, type StoreContext, serveDecision, storeDecision } from './policy';
import { cacheTagHeader } from './purge';
import { replay } from './replay';
import { askConditionally, keepUntil, refreshed, type Stale, staleOf } from './stale';
import { cacheStatus, type Detail, type Forward } from './status';
import { type Lookup, ResponseStore } from './store';
import { Invalidations } from './unsafe';

export { cacheTagHeader, invalidate } from './purge';
export { cacheStatus } from './status';

/** A connect/Express middleware. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Counters of a `responseCache` since it was made, and the requests waiting on another's response now. */
export interface ResponseCacheStats {
  hits: number;
  misses: number;
  /** Responses written to the cache. */
  stored: number;
  /** Requests answered with a concurrent request's response (single-flight). */
  collapsed: number;
  /** Requests the handler answered because the cache was down or over its lookup budget. */
  unavailable: number;
  /** Requests now waiting on a concurrent request's response. */
  waiting: number;
}

/** The middleware, with a helper to drop a URL's cached responses. */
export interface ResponseCacheMiddleware extends Middleware {
  /** Retires every cached response of `url` (all variants, all hosts when `url` is relative). Resolves true if the URL had entries. */
  invalidate(url: string): Promise<boolean>;
  /** Resolves once every cache write and invalidation this middleware started has settled (tests, shutdown). */
  settled(): Promise<void>;
  /** Counters (see `ResponseCacheStats`). */
  stats(): ResponseCacheStats;
}

/** Where a request's entries live. */
interface Target {
  origin: Origin;
  resource: string;
  base: string;
  generation: string;
}

/**
 * Caches GET responses as a shared cache (RFC 9111) and answers GET and HEAD from them, with
 * `X-Cache: HIT|MISS` and RFC 9211 `Cache-Status`. The rules live in policy.ts;
 * this file moves requests and bytes between them, the handler and the store. Fails open: a
 * cache that errs or is slower than `lookupBudget` only sends requests to the handler.
 */
export function responseCache(options: ResponseCacheOptions): ResponseCacheMiddleware {
  const o = resolveResponseCacheOptions(options);
  const store = new ResponseStore(o.cache.namespace(o.prefix), o.ttlMs, o.budgetMs);
  const keyOf = o.key ?? defaultResource;
  const flights = new Flights();
  const pending = new PendingWork();
  const track = pending.track;
  const revalidations = new Revalidations(track);
  const counters = { hits: 0, misses: 0, stored: 0, collapsed: 0, unavailable: 0, waiting: 0 };
  const retire = (resource: string) => flights.retire(resource);
  const unsafe = new Invalidations(store, o.budgetMs, o.ttlMs, retire, track);

  const middleware = ((req, res, next) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const plan = planRequest({ method, headers: req.headers }, o.methods);
    // `X-Cache: MISS` goes on every response the handler makes (pass, lead, errors); a hit sets HIT.
    if (plan.pass) {
      res.setHeader('X-Cache', 'MISS');
      res.setHeader('Cache-Status', cacheStatus({ fwd: plan.fwd, detail: plan.detail }));
      if (plan.invalidates) unsafe.onSuccess(req, res, keyOf);
      return next();
    }
    const bad = badTarget((req as KeyRequest).originalUrl ?? req.url ?? '/');
    if (bad) return pass(res, next, 'bypass', bad);
    let target: Target;
    try {
      target = targetOf(req);
    } catch (error) {
      return failed(res, next, error);
    }
    if (!store.available()) return unavailable(res, next);
    store.lookup(target.base, target.generation, req.headers).then(
      (found) => {
        try {
          afterLookup(req, res, next, target, plan.head, found);
        } catch (error) {
          failed(res, next, error);
        }
      },
      (error: unknown) => failed(res, next, error),
    );
  }) as ResponseCacheMiddleware;

  /** Hands an error to Express with `X-Cache: MISS` when the headers are still unsent. */
  function failed(res: ServerResponse, next: (err?: unknown) => void, error: unknown): void {
    if (!res.headersSent) res.setHeader('X-Cache', 'MISS');
    next(error);
  }

  function targetOf(req: IncomingMessage): Target {
    const origin = originOf(req);
    const resource = keyOf(req as KeyRequest);
    if (typeof resource !== 'string') {
      throw new ConfigError(`responseCache key must return a string, got ${typeof resource}`, 'key');
    }
    return {
      origin,
      resource,
      base: baseKey(origin, resource, o.vary, req.headers),
      generation: generationKey(resource),
    };
  }

  function afterLookup(
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
    target: Target,
    head: boolean,
    found: Lookup,
  ) {
    if (found.kind === 'unavailable') return unavailable(res, next);
    const now = Date.now();
    let fwd: Forward = found.fwd;
    let notServed: Detail | undefined;
    let stale: Stale | undefined;
    if (found.kind === 'found' && found.entry) {
      const entry = found.entry;
      const decision = serveDecision(entry, { method: head ? 'HEAD' : 'GET', headers: req.headers }, now, found.fwd);
      if (decision.serve) {
        counters.hits++;
        const status = cacheStatus({ hit: true, ttl: (entry.expiresAt - now) / 1000 });
        return replay(req, res, entry, { status, head, range: decision.range, now });
      }
      fwd = decision.fwd;
      notServed = decision.detail;
      if (!head && req.headers.range === undefined)
        stale = staleOf(entry, { method: 'GET', headers: req.headers }, now, o.staleWindows);
      // RFC 5861 §3: within `stale-while-revalidate` the stale entry answers at once.
      const refresh = stale && now <= stale.revalidateUntil && !isBackground(req) ? backgroundRequest(req) : undefined;
      if (refresh) {
        counters.hits++;
        const variant = found.head ? variantKey(target.base, found.head.v, req.headers) : target.base;
        const key = `${variant} ${digest(req.headers.authorization)}`;
        revalidations.run(key, refresh);
        const status = cacheStatus({ hit: true, fwd: 'stale', detail: 'stale-while-revalidate' });
        return replay(req, res, entry, { status, head: false, now });
      }
    }
    counters.misses++;
    // A HEAD has no body to keep and a Range request only part of one: neither fills nor waits.
    if (head) return pass(res, next, fwd, notServed ?? 'head');
    if (req.headers.range !== undefined) return pass(res, next, fwd, 'range');
    // Only requests with the same key and the same credentials may share one handler run.
    const flightKey = `${target.base} ${digest(req.headers.authorization)}`;
    const flight = flights.get(flightKey);
    if (!flight) return lead(req, res, next, target, found, fwd, notServed, flightKey, stale);
    counters.waiting++;
    flight.done
      .then((result) => {
        counters.waiting--;
        if (result && !flight.invalidated && sameVariant(result.vary, req.headers, result.values)) {
          const decision = serveDecision(result.entry, { method: 'GET', headers: req.headers }, Date.now(), fwd);
          if (decision.serve && !decision.range) {
            counters.collapsed++;
            const status = cacheStatus({ fwd, collapsed: true });
            return replay(req, res, result.entry, { status, head: false, now: Date.now() });
          }
        }
        // Another variant, or nothing shareable: this request runs its own handler.
        lead(req, res, next, target, found, fwd, notServed, undefined, stale);
      })
      .catch((error: unknown) => failed(res, next, error));
  }

  function storeContext(now: number, target: Target): StoreContext {
    return {
      statuses: o.statuses,
      ttlMs: o.ttlMs,
      now,
      keyed: o.vary,
      origin: target.origin,
      maxBodyBytes: o.maxBodyBytes,
    };
  }

  /**
   * Runs the handler, records its response and stores it if the rules allow. With a stale entry:
   * asks conditionally when it has a validator, and answers with the entry a 304 (refreshed,
   * RFC 9111 §4.3.4) or an error within its `stale-if-error` window (RFC 5861 §4).
   */
  function lead(
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
    target: Target,
    found: Lookup,
    fwd: Forward,
    notServed: Detail | undefined,
    flightKey: string | undefined,
    stale?: Stale,
  ): void {
    const flight = flights.start(target.resource, flightKey);
    const settle = flight.settle;
    res.setHeader('X-Cache', 'MISS');
    let decision: Storable | undefined;
    const before = new Set(res.getHeaderNames());
    const restore = stale?.validate ? askConditionally(req.headers, stale.entry) : undefined;
    captureResponse(res, o.maxBodyBytes, {
      intercept: (status) =>
        stale !== undefined &&
        ((status === 304 && stale.validate) || (status >= 500 && Date.now() <= stale.errorUntil)),
      onIntercepted(status, headers) {
        restore?.();
        const now = Date.now();
        let entry = (stale as Stale).entry;
        let stored = false;
        if (status === 304) {
          const fresh = refreshed(entry, headers, { method: 'GET', headers: req.headers }, storeContext(now, target));
          const tagged = fresh && taggedView(req, res, fresh.entry.headers['cache-tag']);
          if (fresh && tagged !== null && store.available() && !flight.invalidated && found.kind !== 'unavailable') {
            entry = { ...fresh.entry, gen: entry.gen };
            settle({ entry, vary: fresh.vary, values: varyValues(fresh.vary, req.headers) });
            // The entry format keeps the body with the headers: the refresh rewrites the whole entry.
            const fill = store.fill({
              base: target.base,
              generation: target.generation,
              seen: found,
              vary: fresh.vary,
              headers: req.headers,
              entry: fresh.entry,
              tagged,
              keepUntil: keepUntil(fresh.entry, o.ttlMs, o.staleWindows),
            });
            track(fill.then((done) => void (done && counters.stored++)));
            stored = true;
          }
        } else {
          // The error response's own headers (an error page's CSP, its type) are not the entry's.
          for (const name of res.getHeaderNames()) if (!before.has(name)) res.removeHeader(name);
        }
        const value = cacheStatus({ fwd: 'stale', fwdStatus: status, stored });
        replay(req, res, entry, { status: value, head: false, now, xCache: 'MISS' });
      },
      onHead(status, headers, complete) {
        restore?.();
        const rule = storeDecision(
          { method: 'GET', headers: req.headers },
          { status, headers },
          storeContext(Date.now(), target),
        );
        let value: string;
        if (!rule.store) value = cacheStatus({ fwd, detail: rule.detail });
        else if (!store.available()) value = cacheStatus({ fwd, detail: 'unavailable' });
        else {
          decision = rule;
          value = cacheStatus({ fwd, stored: complete, detail: notServed });
          // The Date Node would add, set here so that the hits replay the one this response has.
          if (headers.date === undefined && res.sendDate) {
            headers.date = new Date().toUTCString();
            res.setHeader('Date', headers.date);
          }
        }
        res.setHeader('Cache-Status', value);
      },
      onDone(captured) {
        flights.end(flightKey, flight);
        if (!captured || !decision || flight.invalidated || found.kind === 'unavailable') return settle(undefined);
        const tagged = taggedView(req, res, captured.headers['cache-tag']);
        // Bad tags (or a tags function that threw): not stored, the response went out as it was.
        if (tagged === null) return settle(undefined);
        const storedAt = Date.now();
        const headers = replayable(captured.headers);
        // RFC 9110 §6.6.1: a response kept without a Date gets the time it was received.
        if (headers.date === undefined) headers.date = new Date(storedAt).toUTCString();
        const entry = {
          status: captured.status,
          headers,
          body: captured.body,
          length: captured.body.length,
          storedAt,
          expiresAt: decision.expiresAt,
          age: decision.age,
          shared: decision.shared,
        };
        settle({ entry: { ...entry, gen: '' }, vary: decision.vary, values: varyValues(decision.vary, req.headers) });
        const fill = store.fill({
          base: target.base,
          generation: target.generation,
          seen: found,
          vary: decision.vary,
          headers: req.headers,
          entry,
          tagged,
          keepUntil: keepUntil(entry, o.ttlMs, o.staleWindows),
        });
        track(fill.then((stored) => void (stored && counters.stored++)));
      },
    });
    next();
  }

  /** The view that stores a response with its tags (`tags` option + `Cache-Tag` header); `undefined`: untagged; `null`: bad tags. */
  function taggedView(req: IncomingMessage, res: ServerResponse, header: unknown): Cache | undefined | null {
    try {
      const tags = [...(o.tags?.(req, res) ?? []), ...cacheTagHeader(header)];
      return tags.length === 0 ? undefined : store.tagged(tags);
    } catch {
      return null;
    }
  }

  function pass(res: ServerResponse, next: (err?: unknown) => void, fwd: Forward, detail?: Detail): void {
    res.setHeader('X-Cache', 'MISS');
    res.setHeader('Cache-Status', cacheStatus({ fwd, detail }));
    next();
  }

  function unavailable(res: ServerResponse, next: (err?: unknown) => void): void {
    counters.unavailable++;
    pass(res, next, 'uri-miss', 'unavailable');
  }

  middleware.invalidate = async (url: string) => {
    const resource = keyOf(requestFor(url));
    retire(resource);
    return store.invalidate(generationKey(resource));
  };
  middleware.settled = () => pending.settled();
  middleware.stats = () => ({ ...counters });
  return middleware;
}
