import type { OutgoingHttpHeaders } from 'node:http';
import type { Cache } from '@larder/core';
import { imfDate } from './dates';
import type { HttpRequest, ResponseCacheStats } from './engine';
import type { StoredResponse } from './entry';
import type { Flight, Flights } from './flights';
import { type Origin, varyValues } from './key';
import type { ResolvedResponseCacheOptions } from './options';
import { replayable, type Storable, type StoreContext, storeDecision } from './policy';
import { cacheTagHeader } from './purge';
import type { ReplayOptions } from './replay';
import { askConditionally, keepUntil, refreshed, type Stale } from './stale';
import { cacheStatus, type Detail, type Forward } from './status';
import type { Lookup, ResponseStore } from './store';

/** Where a request's entries live. */
export interface Target {
  origin: Origin;
  resource: string;
  base: string;
}

/** What a run shares with the engine that started it. */
export interface RunContext {
  options: ResolvedResponseCacheOptions<never>;
  store: ResponseStore;
  flights: Flights;
  track: (work: Promise<unknown>) => void;
  counters: ResponseCacheStats;
}

/** A response as the handler produced it, recorded whole. */
export interface CapturedResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

/** Why the handler runs, as the lookup found it. */
export interface RunReason {
  fwd: Forward;
  notServed: Detail | undefined;
  /** The stale entry it may revalidate or answer an error with. */
  stale: Stale | undefined;
}

/**
 * One handler run for a request the cache could not answer: the binding reports what the handler
 * does (`head`, then `done`; or `intercepts` / `intercepted` for a revalidation's 304 or an error
 * a stale entry answers), and the run decides, stores (RFC 9111 §3, §4.3.4, RFC 5861 §4) and
 * shares the result with the requests waiting on it.
 */
export class HandlerRun {
  readonly #flight: Flight;
  /** When the handler was asked (RFC 9111 §4.2.3 `request_time`: its run time counts in the response's age). */
  readonly #askedAt = Date.now();
  #decision: Storable | undefined;
  /** See `pinned`. */
  #scoped: Cache | undefined;
  #restore: (() => void) | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly req: HttpRequest,
    private readonly target: Target,
    private readonly found: Lookup,
    private readonly reason: RunReason,
    private readonly flightKey: string | undefined,
  ) {
    this.#flight = ctx.flights.start(target.resource, flightKey);
    // §4.3.1: a stale entry with a validator: the handler is asked conditionally.
    const stale = reason.stale;
    this.#restore = stale?.validate ? askConditionally(req.headers, stale.entry) : undefined;
  }

  /** The resource's scope as pinned before the handler runs (`ResponseStore.pin`); `undefined`: the run stores nothing. */
  pinned(scoped: Cache | undefined): void {
    this.#scoped = scoped;
  }

  /** Whether an error response may be kept from the client (a stale entry with a `stale-if-error` window). */
  mayAnswerError(): boolean {
    return (this.reason.stale?.errorUntil ?? 0) > 0;
  }

  /** Whether a response heading out with `status` is kept from the client (a revalidation's 304, an error within `stale-if-error`). */
  intercepts(status: number): boolean {
    const stale = this.reason.stale;
    return (
      stale !== undefined && ((status === 304 && stale.validate) || (status >= 500 && Date.now() <= stale.errorUntil))
    );
  }

  /**
   * The intercepted response ended (`status`, `headers`): the stale entry answers instead — refreshed
   * from a 304's headers (and stored) — and this is how to replay it. `tags` gives the binding's tags.
   */
  intercepted(
    status: number,
    headers: OutgoingHttpHeaders,
    tags: () => readonly string[],
  ): { entry: StoredResponse; options: ReplayOptions } {
    this.restoreConditionals();
    const now = Date.now();
    const stale = this.reason.stale as Stale;
    let entry = stale.entry;
    let stored = false;
    if (status === 304) {
      const view = { method: 'GET', headers: this.req.headers };
      const fresh = refreshed(entry, headers, view, this.#storeContext(now));
      // §4.3.3: the request is answered with the stored response as the 304 updated it, kept or not.
      entry = fresh.entry;
      // `null`: not kept (not storable, or bad tags).
      const tagged = fresh.store ? this.#taggedView(tags, fresh.entry.headers['cache-tag']) : null;
      const store = this.ctx.store;
      if (tagged !== null && store.available() && !this.#flight.invalidated && this.#scoped) {
        this.#flight.settle({ entry, vary: fresh.vary, values: varyValues(fresh.vary, this.req.headers) });
        // The refreshed entry keeps the `bodyRef` the lookup read: only its head is rewritten.
        this.#fill(this.#scoped, fresh.entry, fresh.vary, tagged);
        stored = true;
      }
    }
    const value = cacheStatus({ fwd: 'stale', fwdStatus: status, stored });
    return { entry, options: { status: value, head: false, now, xCache: 'MISS' } };
  }

  /**
   * The handler's response heads out (`status`, `headers`; `complete`: its whole body is known):
   * returns its `Cache-Status`. `addDate`: the binding will add a `Date`; it is set in `headers`
   * here (and returned) so that the hits replay the one this response has.
   */
  head(
    status: number,
    headers: OutgoingHttpHeaders,
    complete: boolean,
    addDate: boolean,
  ): { cacheStatus: string; date?: string } {
    this.restoreConditionals();
    const { fwd, notServed } = this.reason;
    const rule = storeDecision(
      { method: 'GET', headers: this.req.headers },
      { status, headers },
      this.#storeContext(Date.now()),
    );
    if (!rule.store) return { cacheStatus: cacheStatus({ fwd, detail: rule.detail }) };
    // Not stored when the store is down, or the resource's scope could not be pinned.
    if (!this.ctx.store.available() || !this.#scoped)
      return { cacheStatus: cacheStatus({ fwd, detail: 'unavailable' }) };
    this.#decision = rule;
    const value = cacheStatus({ fwd, stored: complete, detail: notServed });
    if (headers.date === undefined && addDate) {
      headers.date = imfDate(Date.now());
      return { cacheStatus: value, date: headers.date };
    }
    return { cacheStatus: value };
  }

  /** The response ended: `captured` when it finished whole within `maxBodyBytes`; stores it if `head` allowed. */
  done(captured: CapturedResponse | undefined, tags: () => readonly string[]): void {
    const flight = this.#flight;
    this.ctx.flights.end(this.flightKey, flight);
    const decision = this.#decision;
    const scoped = this.#scoped;
    if (!captured || !decision || flight.invalidated || !scoped) {
      flight.settle(undefined);
      return;
    }
    const tagged = this.#taggedView(tags, captured.headers['cache-tag']);
    // Bad tags (or a tags function that threw): not stored, the response went out as it was.
    if (tagged === null) {
      flight.settle(undefined);
      return;
    }
    const storedAt = Date.now();
    const headers = replayable(captured.headers);
    // RFC 9110 §6.6.1: a response kept without a Date gets the time it was received.
    if (headers.date === undefined) headers.date = imfDate(storedAt);
    const entry = {
      status: captured.status,
      headers,
      body: captured.body,
      length: captured.body.length,
      storedAt,
      expiresAt: decision.expiresAt,
      age: decision.age,
      shared: decision.shared,
      gen: '',
    };
    flight.settle({
      entry,
      vary: decision.vary,
      values: varyValues(decision.vary, this.req.headers),
    });
    this.#fill(scoped, entry, decision.vary, tagged);
  }

  /** Puts the client's own conditionals back on the request (once the handler has answered). */
  restoreConditionals(): void {
    this.#restore?.();
    this.#restore = undefined;
  }

  #fill(scoped: Cache, entry: Omit<StoredResponse, 'gen'>, vary: string[], tagged: Cache | undefined): void {
    const { store, options, counters, track } = this.ctx;
    const found = this.found as Lookup & { kind: 'found' | 'miss' };
    const fill = store.fill({
      base: this.target.base,
      scoped,
      seen: found,
      vary,
      headers: this.req.headers,
      entry,
      tagged,
      keepUntil: keepUntil(entry, options.ttlMs, options.staleWindows),
    });
    track(fill.then((done) => void (done && counters.stored++)));
  }

  #storeContext(now: number): StoreContext {
    const o = this.ctx.options;
    return {
      statuses: o.statuses,
      ttlMs: o.ttlMs,
      now,
      requestTime: this.#askedAt,
      keyed: o.vary,
      origin: this.target.origin,
      maxBodyBytes: o.maxBodyBytes,
    };
  }

  /** The pinned scope with the response's tags (`tags` + `Cache-Tag`); `undefined`: untagged (or nothing to store); `null`: bad tags. */
  #taggedView(tags: () => readonly string[], header: unknown): Cache | undefined | null {
    try {
      const all = [...tags(), ...cacheTagHeader(header)];
      return all.length === 0 || !this.#scoped ? undefined : this.#scoped.tags(all);
    } catch {
      return null;
    }
  }
}
