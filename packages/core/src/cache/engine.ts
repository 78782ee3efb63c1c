import { type ResolvedL1Options, resolveL1Options } from '../config/l1-options';
import type { RememberDefaults } from '../config/remember-defaults';
import { BackendError, ConfigError, describe, isLarderError, type LarderError } from '../contract/errors';
import type { CacheStore, TtlMs } from '../contract/store';
import type { L1Description, StoreDescription } from '../contract/store-description';
import { SingleFlight } from '../util/single-flight';
import { type Codec, jsonCodec } from '../values/codec';
import { GraceCopies, type GracedEntry } from '../values/entry';
import { EntryCodec } from '../values/entry-codec';
import { metaOf } from '../values/entry-format';
import { checkKeyBytes, FullKeyMemo, toFullKey, withSeparator } from '../values/key-policy';
import { parseTtl, type Ttl } from '../values/ttl';
import { isInputError } from '../values/value-policy';
import { type Binding, bindStore, limit } from './binding';
import type { CacheEventName, CacheListener, CacheStats } from './events';
import { OperationEvents } from './operation-events';
import type { LockBackend } from './operations/lock';
import type { CacheOptions } from './options';
import { checkRememberDefaults } from './remember/option-parsers';
import type { StoreHealth } from './store-breaker';
import { View } from './view';

/** What `call` resolves when a store call failed and the `'miss'` policy let it go. */
export const FAILED: unique symbol = Symbol('larder.failed');

const DEFAULT_TIMEOUT_MS = 5000;
const noop = () => {};

/**
 * The private engine of a cache, shared by the cache, its namespaces and its `withOptions` views
 * (docs/architecture.md, "The engine"): the store, the settings, the timeout and failure policy,
 * events and stats, the L1 and `remember`'s single-flight. Operation modules call its methods and
 * never see its fields; what differs per `Cache` object (prefix, error policy) is its `View`.
 */
export class Engine {
  readonly #name: string;
  readonly #driverHint: string;
  readonly #traceKeys: boolean;
  readonly #basePrefix: string;
  readonly #codec: Codec;
  readonly #values: EntryCodec;
  readonly #defaultTtlMs: TtlMs;
  readonly #configuredTimeoutMs: number;
  readonly #l1Options: ResolvedL1Options | undefined;
  /** Hits, misses, writes, deletes and errors: counted, and emitted to listeners. */
  readonly events = new OperationEvents(() => this.#binding?.tiered === true);
  readonly #flights = new SingleFlight();
  readonly #graceCopies = new GraceCopies();
  readonly #ready: Promise<Binding>;
  #binding: Binding | undefined;
  #closed: Promise<void> | undefined;
  /** The view of the cache the options describe (no namespace, the configured error policy). */
  readonly #root: View;
  /** Locks through the store (`lock()`, `remember`'s `lock`), shared by every view. */
  readonly #locks: LockBackend;
  readonly #failFast: boolean; // the `breaker` option: store calls fail at once while the store is down
  readonly #createdAt = Date.now();
  readonly #rememberDefaults: RememberDefaults | undefined;

  /**
   * Validates the options (`ConfigError`, `InvalidTtlError`) and binds the store now, or once its
   * promise resolves; `locks` builds the lock backend over the engine and its root view.
   */
  constructor(options: CacheOptions, locks: (engine: Engine, root: View) => LockBackend) {
    if (options === null || typeof options !== 'object' || options.store == null) {
      throw new ConfigError('new Cache(options) needs a `store` (a CacheStore or a promise of one)', 'store');
    }
    const given = options.prefix ?? '';
    if (typeof given !== 'string') throw new ConfigError(`prefix must be a string, got ${describe(given)}`, 'prefix');
    const onError = options.onError ?? 'throw';
    if (onError !== 'throw' && onError !== 'miss') {
      throw new ConfigError(`onError must be 'throw' or 'miss', got ${describe(onError)}`, 'onError');
    }
    this.#name = options.name ?? 'default';
    this.#driverHint = typeof options.driver === 'string' ? options.driver : 'unknown';
    this.#traceKeys = options.traceKeys === true;
    // 'app' would clear 'apple:' too: a non-empty prefix always ends with the ':' separator.
    this.#basePrefix = withSeparator(given);
    this.#root = new View(this.#basePrefix, '', onError);
    // A codec named by a string was resolved by `Cache` (value-pipeline.ts).
    this.#codec = (options.codec as Codec | undefined) ?? jsonCodec;
    this.#values = new EntryCodec(
      this.#codec,
      () => this.#binding,
      () => this.driver,
    );
    this.#defaultTtlMs = options.ttl === undefined ? undefined : parseTtl(options.ttl);
    this.#configuredTimeoutMs = options.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseTtl(options.timeout);
    this.#l1Options = options.l1 === undefined ? undefined : resolveL1Options(options.l1);
    this.#locks = locks(this, this.#root);
    if (options.remember !== undefined) checkRememberDefaults(options.remember);
    this.#rememberDefaults = options.remember;
    this.#failFast = options.breaker === true;
    const store = options.store;
    if (typeof (store as PromiseLike<CacheStore>).then === 'function') {
      this.#ready = Promise.resolve(store).then((resolved) => this.#bind(resolved));
      this.#ready.catch(noop); // surfaced by every operation instead
    } else {
      this.#ready = Promise.resolve(this.#bind(store as CacheStore));
    }
  }

  /** Store name given in the options (`'default'` when none). */
  get name(): string {
    return this.#name;
  }

  /** The driver's name: the store's once known, before that the `driver` option (`'unknown'` without one). */
  get driver(): string {
    return this.#binding?.driver ?? this.#driverHint;
  }

  /** The server the store names (`CacheStore.address`: its first primary or node), when it names one. */
  get server(): string | undefined {
    return this.#binding?.store.address;
  }

  /** Whether keys go into `larder.operation` trace contexts (`traceKeys` option). */
  get traceKeys(): boolean {
    return this.#traceKeys;
  }

  /** The `timeout` option in ms (the bound of calls the facade times itself). */
  get timeoutMs(): number {
    return this.#configuredTimeoutMs;
  }

  /** Times the L1 answered a read so far (0 without one): tracing names the tier with it. */
  l1Answers(): number {
    return this.#binding?.reads.answers ?? 0;
  }

  /** The store prefix (namespaces add their path after it). */
  get basePrefix(): string {
    return this.#basePrefix;
  }

  /** The store, once known; rejects when the store promise rejected or the store is invalid. */
  store(): Promise<CacheStore> {
    return this.#ready.then((binding) => binding.store);
  }

  /** Resolves to the binding once the store is known (rejects like `store()`). */
  ready(): Promise<Binding> {
    return this.#ready;
  }

  /** The binding if the store is already known (the synchronous fast paths). */
  get binding(): Binding | undefined {
    return this.#binding;
  }

  /** The validated full key (prefix + namespace + key); memoized for in-process stores and L1s. */
  full(view: View, key: string): string {
    const binding = this.#binding;
    if (binding === undefined) return toFullKey(view.prefix, key, Number.POSITIVE_INFINITY, 'unknown');
    if (!binding.memoKeys) return toFullKey(view.prefix, key, binding.maxKeyBytes, binding.driver);
    const keys = view.fullKeys;
    keys.memo ??= new FullKeyMemo(view.prefix);
    return keys.memo.of(key, binding.maxKeyBytes, binding.driver);
  }

  /** Checks a full key the facade builds itself (locks) against the store's key limit. */
  checkKey(full: string, key: string): void {
    const binding = this.#binding;
    checkKeyBytes(full, key, binding?.maxKeyBytes ?? Number.POSITIVE_INFINITY, this.driver);
  }

  /** `ttl` in ms, else the default TTL. */
  ttlMs(ttl: Ttl | undefined): TtlMs {
    return ttl === undefined ? this.#defaultTtlMs : parseTtl(ttl);
  }

  /** Starts a store call under the timeout; failures reject as they are (see `call` for the policy). */
  async send<T>(operation: string, start: (store: CacheStore) => Promise<T>): Promise<T> {
    const binding = this.#binding ?? (await this.#ready);
    return limit(binding, start(binding.store), operation);
  }

  /**
   * Starts a store call and awaits it under the timeout; on failure (a rejection, or a throw
   * while starting) applies the view's error policy: rejects, or resolves `FAILED` under `'miss'`.
   */
  async call<T>(
    view: View,
    operation: string,
    key: string | undefined,
    start: (store: CacheStore) => Promise<T>,
  ): Promise<T | typeof FAILED> {
    const binding = this.#binding ?? (await this.#ready);
    try {
      return await limit(binding, start(binding.store), operation);
    } catch (error) {
      return this.failed(view, operation, key, error, FAILED);
    }
  }

  /** Applies the error policy: input errors and `'throw'` reject; `'miss'` resolves `fallback`. Reports either way. */
  failed<F>(view: View, operation: string, key: string | undefined, error: unknown, fallback: F): F {
    const wrapped = this.report(view, operation, key, error);
    if (view.onError === 'throw' || isInputError(wrapped)) throw wrapped;
    return fallback;
  }

  /** `failed` for the synchronous fast paths: the policy's answer as a promise. */
  syncFailed<F>(view: View, operation: string, key: string, error: unknown, fallback: F): Promise<F> {
    try {
      return Promise.resolve(this.failed(view, operation, key, error, fallback));
    } catch (rejected) {
      return Promise.reject(rejected);
    }
  }

  /** Counts and emits an error; returns it as a LarderError (as given when `wrap` is false: a loader's own error). */
  report(view: View, operation: string, key: string | undefined, error: unknown, wrap = true): LarderError {
    const wrapped = wrap ? asLarderError(error, this.driver, operation) : (error as LarderError);
    this.events.errored(view, operation, key, wrapped);
    return wrapped;
  }

  /** Encodes values into stored payloads and back (codec, entry model, metadata header). */
  get values(): EntryCodec {
    return this.#values;
  }

  /** Whether an L1 is in front of the store (known once the store is). */
  get tiered(): boolean {
    return this.#binding?.tiered === true;
  }

  /** Runs `fn` as the one flight of `full` in this process, or joins the one running. */
  flight<T>(full: string, fn: () => Promise<T>): Promise<T> {
    return this.#flights.run(full, fn);
  }

  /** Whether a flight of `full` is running. */
  inFlight(full: string): boolean {
    return this.#flights.has(full);
  }

  /** Keeps the last graced entry seen of `full`, served by `remember` within its grace while the backend fails. */
  keepGraced(full: string, entry: GracedEntry, graceMs: number): void {
    this.#graceCopies.keep(full, entry, graceMs);
  }

  /** The kept graced entry of `full` while within its grace, else `undefined`. */
  gracedCopy(full: string): GracedEntry | undefined {
    return this.#graceCopies.within(full);
  }

  /** The store's health as every store call's outcome tells it (up until the store is bound). */
  health(): StoreHealth {
    return this.#binding?.breaker.health() ?? { state: 'up', since: this.#createdAt, failFast: this.#failFast };
  }

  /** Defaults of every `remember` of this cache (the `remember` option), when given. */
  get rememberDefaults(): RememberDefaults | undefined {
    return this.#rememberDefaults;
  }

  /** Locks through the store, shared by every view. */
  get locks(): LockBackend {
    return this.#locks;
  }

  /** The view of the cache the options describe: no namespace, the configured error policy. */
  get root(): View {
    return this.#root;
  }

  /** Adds an event listener (shared by every view). */
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): void {
    this.events.on(event, listener);
  }

  /** Removes an event listener. */
  off<E extends CacheEventName>(event: E, listener: CacheListener<E>): void {
    this.events.off(event, listener);
  }

  /** Counters since creation, with hits per tier when there is an L1. */
  stats(): CacheStats {
    const stats = this.events.snapshot();
    const l1 = this.#binding?.reads.hits;
    if (l1 !== undefined) stats.tiers = { l1, l2: stats.hits - l1 };
    return stats;
  }

  /** The store's own description (`mode: 'unknown'` when it gives none), with the L1's and the breaker's when the cache has them. */
  async describe(): Promise<StoreDescription> {
    const { store, reads, breaker } = await this.#ready;
    const description = (await store.describe?.()) ?? {
      driver: store.driver,
      topology: { mode: 'unknown', nodes: [] },
    };
    const l1 = reads.describe();
    return { ...description, ...(l1 && { l1 }), ...(breaker.health().failFast && { breaker: breaker.describe() }) };
  }

  /** The L1's description, or `undefined` without one. */
  async describeL1(): Promise<L1Description | undefined> {
    await this.#ready.catch(noop);
    return this.#binding?.reads.describe();
  }

  /** Whether an L1 is in front of the store, once the store is known (`false` when it is not valid). */
  async hasL1(): Promise<boolean> {
    await this.#ready.catch(noop);
    return this.tiered;
  }

  /** Stops the L1, leaving the store open. */
  async closeL1(): Promise<void> {
    await this.#ready.catch(noop);
    await this.#binding?.reads.close();
  }

  /** Validates the store and derives the binding from it (see `bindStore`). */
  #bind(store: CacheStore): Binding {
    this.#binding = bindStore(store, {
      name: this.#name,
      basePrefix: this.#basePrefix,
      codec: this.#codec,
      timeoutMs: this.#configuredTimeoutMs,
      l1: this.#l1Options,
      decode: this.#values.decode,
      meta: metaOf,
      health: (health) => this.events.emit(health.state, health),
      failFast: this.#failFast,
    });
    return this.#binding;
  }

  /** Stops the L1 and closes the store, once for every view. */
  close(): Promise<void> {
    this.#closed ??= this.#ready.then(async ({ store, reads, breaker }) => {
      breaker.stop();
      // The store closes even if stopping the L1 fails: its connections must not outlive the cache.
      try {
        await reads.close();
      } finally {
        await store.close?.();
      }
    }, noop);
    return this.#closed;
  }
}

/** Returns `error` if it is a LarderError, else a `BackendError` wrapping it. */
export function asLarderError(error: unknown, driver: string, operation: string): LarderError {
  if (isLarderError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(`${driver} ${operation} failed: ${message}`, driver, { cause: error });
}
