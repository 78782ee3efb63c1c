import type { IncomingHttpHeaders } from 'node:http';
import { ConfigError } from '@larder/core';
import type { StoredResponse } from './entry';
import { Flights } from './flights';
import { Invalidations } from './invalidations';
import {
  badTarget,
  baseKey,
  defaultResource,
  digest,
  type Origin,
  requestFor,
  resourceScope,
  sameVariant,
} from './key';
import { Memo } from './memo';
import {
  type KeyRequest,
  type ResolvedResponseCacheOptions,
  type ResponseCacheOptions,
  resolveResponseCacheOptions,
} from './options';
import { PendingWork, REVALIDATION_CLAIM_MS, Revalidations } from './pending';
import { planRequest, serveDecision } from './policy';
import type { ReplayOptions } from './replay';
import { HandlerRun, type Target } from './run';
import { type Stale, staleOf } from './stale';
import { cacheStatus, type Detail, type Forward } from './status';
import { type Lookup, ResponseStore, readKey } from './store';

/** A request as every binding hands it to the engine. */
export interface HttpRequest {
  /** Upper case. */
  method: string;
  /** The target as the request line had it (path + query, or the absolute form). */
  url: string;
  /** Lower-case names. A revalidation puts its conditionals here for the handler's request. */
  headers: IncomingHttpHeaders;
  origin: Origin;
  /** What the `key` function receives. */
  keyRequest: KeyRequest;
}

/** Counters of a response cache since it was made, and the requests waiting on another's response now. */
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

/** What a binding does with a request. */
export type Step =
  /** Run the handler with these headers set; `invalidates`: an unsafe method (see `afterUnsafe`). */
  | { kind: 'pass'; cacheStatus: string; invalidates: boolean }
  /** Answer from a stored response (a hit, a stale-while-revalidate hit, a collapsed request). */
  | { kind: 'replay'; entry: StoredResponse; options: ReplayOptions }
  /** Run the handler through `run`, which records and stores its response. */
  | { kind: 'run'; run: HandlerRun }
  /** Hand the error to the framework (a key function that threw). */
  | { kind: 'failed'; error: unknown };

/** How a binding revalidates in the background: a function that sends a copy of the request through the app, or `undefined` (the request then revalidates itself). */
export type Refresher = () => (() => Promise<void>) | undefined;

/**
 * The response cache of every binding: RFC 9111 as a shared cache, RFC 5861, revalidation,
 * single-flight and the store, over `HttpRequest`. A binding asks `begin` what to do with a
 * request and moves the bytes (see node.ts and web.ts). Fails open: a cache that errs or is slower
 * than `lookupBudget` only sends requests to the handler.
 */
export class ResponseCacheEngine<Res = unknown> {
  readonly options: ResolvedResponseCacheOptions<Res>;
  readonly store: ResponseStore;
  readonly keyOf: (req: KeyRequest) => string;
  readonly #flights = new Flights();
  readonly #pending = new PendingWork();
  readonly #revalidations = new Revalidations(this.#pending, (name, ttlMs) => this.store.claim(name, ttlMs));
  readonly #unsafe: Invalidations;
  readonly #scopeNames = new Memo<string, string>(1024);
  readonly #counters: ResponseCacheStats = { hits: 0, misses: 0, stored: 0, collapsed: 0, unavailable: 0, waiting: 0 };

  constructor(options: ResponseCacheOptions<Res>) {
    this.options = resolveResponseCacheOptions(options);
    const o = this.options;
    this.store = new ResponseStore(o.cache.namespace(o.prefix), o.ttlMs, o.budgetMs);
    this.keyOf = o.key ?? defaultResource;
    this.#unsafe = new Invalidations(
      this.store,
      o.budgetMs,
      o.ttlMs,
      (r) => this.#flights.retire(r),
      this.#pending.track,
    );
  }

  /** What to do with a request: synchronous when no lookup is needed. */
  begin(req: HttpRequest, refresher?: Refresher): Step | Promise<Step> {
    const plan = planRequest(req, this.options.methods);
    if (plan.pass) {
      return {
        kind: 'pass',
        cacheStatus: cacheStatus({ fwd: plan.fwd, detail: plan.detail }),
        invalidates: plan.invalidates,
      };
    }
    const bad = badTarget(req.url);
    if (bad) return pass('bypass', bad);
    let target: Target;
    try {
      target = this.#targetOf(req);
    } catch (error) {
      return { kind: 'failed', error };
    }
    const available = this.store.available();
    // An in-process store answers within this call: the step too, with no promise to wait on.
    const now = available ? this.store.lookupNow(target.base, req.headers) : undefined;
    if (now !== undefined) return this.#afterFound(req, target, plan.head, now, refresher);
    // The store is down: only what the cache's L1 holds may still answer (or rescue an error).
    const lookup = available ? this.store.lookup(target.base, req.headers) : this.store.peek(target.base, req.headers);
    if (!lookup) return this.#unavailable();
    return lookup.then(
      (found) => this.#afterFound(req, target, plan.head, found, refresher),
      (error: unknown) => ({ kind: 'failed', error }) as Step,
    );
  }

  /** `#afterLookup`, its throw as a `failed` step. */
  #afterFound(
    req: HttpRequest,
    target: Target,
    head: boolean,
    found: Lookup,
    refresher: Refresher | undefined,
  ): Step | Promise<Step> {
    try {
      return this.#afterLookup(req, target, head, found, refresher);
    } catch (error) {
      return { kind: 'failed', error };
    }
  }

  /**
   * RFC 9111 §4.4 for an unsafe request (its resource taken now, before routing can change the
   * request): a function to call with its final status and `Location`/`Content-Location` values,
   * which invalidates its URI and the same-host locations and resolves once done or after the
   * lookup budget (`undefined`: none due). `undefined` when the key function fails.
   */
  unsafe(req: HttpRequest): ((status: number, locations: readonly unknown[]) => Promise<void> | undefined) | undefined {
    let resource: string;
    try {
      resource = this.keyOf(req.keyRequest);
    } catch {
      return undefined;
    }
    if (typeof resource !== 'string') return undefined;
    const origin = req.origin;
    return (status, locations) => this.#unsafe.afterUnsafe(resource, origin, status, locations, this.keyOf);
  }

  /**
   * Retires every cached response of `url` (all variants, all hosts when `url` is relative), on
   * every instance once it resolves (a scope's drop). Resolves true if the URL had entries.
   */
  async invalidate(url: string): Promise<boolean> {
    const resource = this.keyOf(requestFor(url));
    this.#flights.retire(resource);
    return this.store.invalidate(this.#scopeOf(resource), true);
  }

  /** Resolves once every cache write and invalidation this cache started has settled. */
  settled(): Promise<void> {
    return this.#pending.settled();
  }

  /** Counters (see `ResponseCacheStats`). */
  stats(): ResponseCacheStats {
    return { ...this.#counters };
  }

  #targetOf(req: HttpRequest): Target {
    const resource = this.keyOf(req.keyRequest);
    if (typeof resource !== 'string') {
      throw new ConfigError(`responseCache key must return a string, got ${typeof resource}`, 'key');
    }
    return {
      origin: req.origin,
      resource,
      base: baseKey(req.origin, resource, this.options.vary, req.headers),
    };
  }

  /** The name of the larder scope of `resource`'s responses (a hash: kept for the last 1,024 resources). */
  #scopeOf(resource: string): string {
    return (
      this.#scopeNames.get(resource) ?? this.#scopeNames.keep(resource, resourceScope(this.store.prefix, resource))
    );
  }

  #unavailable(): Step {
    this.#counters.unavailable++;
    return pass('uri-miss', 'unavailable');
  }

  #afterLookup(
    req: HttpRequest,
    target: Target,
    head: boolean,
    found: Lookup,
    refresher?: Refresher,
  ): Step | Promise<Step> {
    if (found.kind === 'unavailable') return this.#unavailable();
    const counters = this.#counters;
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
        return { kind: 'replay', entry, options: { status, head, range: decision.range, now } };
      }
      fwd = decision.fwd;
      notServed = decision.detail;
      if (!head && req.headers.range === undefined) {
        stale = staleOf(entry, { method: 'GET', headers: req.headers }, now, this.options.staleWindows);
      }
      // RFC 5861 §3: within `stale-while-revalidate` the stale entry answers at once.
      const refresh = stale && now <= stale.revalidateUntil ? refresher?.() : undefined;
      if (refresh) {
        counters.hits++;
        const variant = readKey(target.base, found, req.headers);
        // The claim outlives the revalidation, but not the window (nothing serves it stale after).
        const claimMs = Math.max(1000, Math.min(REVALIDATION_CLAIM_MS, (stale as Stale).revalidateUntil - now));
        this.#revalidations.run(`${variant} ${digest(req.headers.authorization)}`, refresh, claimMs, now);
        const status = cacheStatus({ hit: true, fwd: 'stale', detail: 'stale-while-revalidate' });
        return { kind: 'replay', entry, options: { status, head: false, now } };
      }
    }
    counters.misses++;
    // A HEAD has no body to keep and a Range request only part of one: neither fills nor waits.
    if (head) return pass(fwd, notServed ?? 'head');
    if (req.headers.range !== undefined) return pass(fwd, 'range');
    // Only requests with the same key and the same credentials may share one handler run.
    const flightKey = `${target.base} ${digest(req.headers.authorization)}`;
    const flight = this.#flights.get(flightKey);
    // The run's flight starts at once (equal requests join it); its handler runs once the scope is
    // pinned: an invalidation after that wins over its response.
    const lead = (key: string | undefined): Step | Promise<Step> => {
      const run = new HandlerRun(this.#runContext(), req, target, found, { fwd, notServed, stale }, key);
      // A revalidation (§4.3.1) of a head this process wrote: the view it wrote it through (see `pinnedFor`).
      const written = stale?.validate && this.store.pinnedFor(readKey(target.base, found, req.headers), stale.entry);
      if (written) {
        run.pinned(written);
        return { kind: 'run', run };
      }
      // The scope's name (a hash) is made here, not per lookup: a hit never needs it.
      return this.store.pin(this.#scopeOf(target.resource)).then((scoped) => {
        run.pinned(scoped);
        return { kind: 'run', run };
      });
    };
    if (!flight) return lead(flightKey);
    counters.waiting++;
    return flight.done.then((result) => {
      counters.waiting--;
      if (result && !flight.invalidated && sameVariant(result.vary, req.headers, result.values)) {
        const decision = serveDecision(result.entry, { method: 'GET', headers: req.headers }, Date.now(), fwd);
        if (decision.serve && !decision.range) {
          counters.collapsed++;
          const status = cacheStatus({ fwd, collapsed: true });
          return { kind: 'replay', entry: result.entry, options: { status, head: false, now: Date.now() } };
        }
      }
      // Another variant, or nothing shareable: this request runs its own handler.
      return lead(undefined);
    });
  }

  #runContext() {
    return {
      options: this.options,
      store: this.store,
      flights: this.#flights,
      track: this.#pending.track,
      counters: this.#counters,
    };
  }
}

function pass(fwd: Forward, detail?: Detail): Step {
  return { kind: 'pass', cacheStatus: cacheStatus({ fwd, detail }), invalidates: false };
}
