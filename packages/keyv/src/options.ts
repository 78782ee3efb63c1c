/** Which Keyv storage contract a `KeyvLarder` speaks. */
export type KeyvContract = 5 | 6;

/** Options of `new KeyvLarder(cache, options)`. */
export interface KeyvLarderOptions {
  /**
   * The Keyv major version that drives the adapter. `5`: `set(key, value, ttl)` takes a relative
   * TTL and `deleteMany` resolves one boolean (Keyv 5's contract; Keyv 6 accepts such an adapter
   * through its `KeyvBridgeAdapter`). `6`: the adapter declares `capabilities.expires`, so Keyv 6
   * uses it directly and passes an absolute expiry time; `deleteMany` resolves a boolean per key.
   * `createKeyv` picks it from the Keyv class it constructs.
   * @default 5
   */
  contract?: KeyvContract;
  /** Namespace before Keyv sets its own (Keyv assigns `store.namespace` when it is constructed). @default undefined */
  namespace?: string;
  /** `disconnect()` also closes the `Cache` (only when nothing else uses it: a manager's store is shared). @default false */
  closeOnDisconnect?: boolean;
}

/** Options of `createKeyv(cache, options)`. */
export interface CreateKeyvOptions extends Omit<KeyvLarderOptions, 'contract' | 'namespace'> {
  /** Keyv namespace: keys live under `<cache prefix><namespace>:`, and `clear()` removes only those. @default 'keyv' */
  namespace?: string;
  /** Keyv's default TTL in milliseconds for `set` calls without one. @default undefined (the Cache's default TTL, else none) */
  ttl?: number;
  /**
   * The Keyv class to construct, when the app's `keyv` is not the one this package resolves
   * (e.g. both 5 and 6 are installed). Keyv 6 is recognised by its `resolveStore` method.
   * @default the `keyv` package's `Keyv`
   */
  keyv?: KeyvClass;
  /**
   * Called with every error the Keyv emits. A listener is always attached: Keyv 6 throws when it
   * emits `error` with none, which would make cache-manager's `wrap` reject during an outage.
   * The Cache's own `error` event and `stats().errors` report backend failures too.
   * @default ignore
   */
  onError?: (error: unknown) => void;
}

/** A Keyv constructor (Keyv 5 or 6): `new (options) => keyv`. */
// biome-ignore lint/suspicious/noExplicitAny: Keyv 5 and 6 type their constructors differently.
export type KeyvClass = new (options: any) => any;
