import type { CacheStore, Payload, StoreCapabilities, TtlMs } from '../contract/store';
import { createMapStore, type SyncMethods } from './map-store';

/** Store operations the chaos store counts and can break. */
export type ChaosOperation =
  | 'get'
  | 'set'
  | 'delete'
  | 'getMany'
  | 'setMany'
  | 'deleteMany'
  | 'add'
  | 'increment'
  | 'pull'
  | 'touch'
  | 'compareAndDelete'
  | 'keys'
  | 'clear'
  | 'close';

const OPTIONAL: readonly ChaosOperation[] = [
  'getMany',
  'setMany',
  'deleteMany',
  'add',
  'increment',
  'pull',
  'touch',
  'compareAndDelete',
  'keys',
  'clear',
  'close',
];

/** Options of `createChaosStore`. */
export interface ChaosStoreOptions {
  /** Store to wrap; by default a small in-memory store (millisecond TTLs) that behaves like a remote one. */
  store?: CacheStore;
  /** Driver name reported in errors. @default 'chaos' (or the wrapped store's name) */
  driver?: string;
  /** Capability overrides (e.g. `{ inProcess: true }`, `{ maxKeyBytes: 64 }`). */
  capabilities?: Partial<StoreCapabilities>;
  /** Optional methods to leave out, to test the facade's emulations and `UnsupportedOperationError`s. */
  without?: readonly ChaosOperation[];
  /**
   * Also offer the in-process fast path `getSync`/`setSync` (see `SyncStoreMethods`; the facade
   * uses it only with `capabilities.inProcess`). Counted as `get`/`set`; `fail` applies, `hang`
   * and `slow` cannot (a synchronous call cannot wait). Needs the built-in backend. @default false
   */
  sync?: boolean;
}

/** What to break: every operation when `ops` is omitted. */
export interface ChaosRule {
  /** Operations affected. @default all */
  ops?: readonly ChaosOperation[];
}

/** A `CacheStore` that fails, hangs or slows down on demand, and counts every call. */
export interface ChaosStore extends CacheStore {
  /** Calls per operation since creation (or `resetCalls`), including failed and hanging ones. */
  readonly calls: Readonly<Record<ChaosOperation, number>>;
  /** Calls currently held by `hang`. */
  readonly hanging: number;
  /** Makes matching calls reject with `error` (default: a plain `Error`, as a client would throw), `times` times or until `heal`. */
  fail(rule?: ChaosRule & { error?: unknown; times?: number }): this;
  /** Makes matching calls never settle until `heal` (then they run normally). */
  hang(rule?: ChaosRule): this;
  /** Delays matching calls by `ms`. */
  slow(ms: number, rule?: ChaosRule): this;
  /** Removes every rule and lets hanging calls proceed. */
  heal(): this;
  /** True when the key holds a live value: a test helper reading the wrapped store directly (no rule applies, nothing counted; `CacheStore` itself has no `has`). */
  has(key: string): Promise<boolean>;
  /** Sets every counter back to 0. */
  resetCalls(): void;
  /** Total calls across operations. */
  totalCalls(): number;
}

interface FailRule {
  ops: readonly ChaosOperation[] | undefined;
  error: unknown;
  times: number;
}

const matches = (ops: readonly ChaosOperation[] | undefined, op: ChaosOperation) =>
  ops === undefined || ops.includes(op);

const zeroCalls = (): Record<ChaosOperation, number> => ({
  get: 0,
  set: 0,
  delete: 0,
  getMany: 0,
  setMany: 0,
  deleteMany: 0,
  add: 0,
  increment: 0,
  pull: 0,
  touch: 0,
  compareAndDelete: 0,
  keys: 0,
  clear: 0,
  close: 0,
});

/**
 * A chaos driver for facade and integration tests (after bentocache's `chaos_cache`): wraps a
 * store, or runs its own in-memory one, and fails, hangs or slows chosen operations on demand.
 * Not an `inProcess` store by default, so the facade applies its timeouts to it.
 */
export function createChaosStore(options: ChaosStoreOptions = {}): ChaosStore {
  const inner = options.store ?? createMapStore(options.driver ?? 'chaos', options.capabilities?.rawValues === true);
  const calls = zeroCalls();
  let fails: FailRule[] = [];
  let hangs: (readonly ChaosOperation[] | undefined)[] = [];
  let slows: { ms: number; ops: readonly ChaosOperation[] | undefined }[] = [];
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  let hanging = 0;

  const newGate = () => {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    return { promise, open };
  };

  async function chaos(op: ChaosOperation): Promise<void> {
    calls[op]++;
    if (hangs.some((ops) => matches(ops, op))) {
      gate ??= newGate();
      hanging++;
      try {
        await gate.promise;
      } finally {
        hanging--;
      }
    }
    const slow = slows.find((rule) => matches(rule.ops, op));
    if (slow) await new Promise((resolve) => setTimeout(resolve, slow.ms));
    failIfRuled(op);
  }

  /** Throws when a `fail` rule with calls left matches `op`. */
  function failIfRuled(op: ChaosOperation): void {
    const rule = fails.find((r) => matches(r.ops, op) && r.times > 0);
    if (rule) {
      rule.times--;
      throw rule.error ?? new Error(`chaos: ${op} failed`);
    }
  }

  const without = new Set(options.without ?? []);
  const has = (op: ChaosOperation) =>
    !without.has(op) && typeof (inner as unknown as Record<string, unknown>)[op] === 'function';
  const store = inner as Required<CacheStore>;

  const capabilities: StoreCapabilities = {
    ...inner.capabilities,
    ...(has('add') ? {} : { atomicAdd: false }),
    ...options.capabilities,
  };

  const chaosStore: ChaosStore = {
    driver: options.driver ?? inner.driver,
    capabilities,
    get calls() {
      return calls;
    },
    get hanging() {
      return hanging;
    },
    fail(rule = {}) {
      fails.push({ ops: rule.ops, error: rule.error, times: rule.times ?? Number.POSITIVE_INFINITY });
      return this;
    },
    hang(rule = {}) {
      hangs.push(rule.ops);
      return this;
    },
    slow(ms, rule = {}) {
      slows.push({ ms, ops: rule.ops });
      return this;
    },
    heal() {
      fails = [];
      hangs = [];
      slows = [];
      gate?.open();
      gate = undefined;
      return this;
    },
    resetCalls() {
      Object.assign(calls, zeroCalls());
    },
    totalCalls() {
      return Object.values(calls).reduce((a, b) => a + b, 0);
    },
    async has(key) {
      return (await inner.get(key)) !== undefined;
    },
    async get(key) {
      await chaos('get');
      return store.get(key);
    },
    async set(key, payload, ttlMs) {
      await chaos('set');
      return store.set(key, payload, ttlMs);
    },
    async delete(key) {
      await chaos('delete');
      return store.delete(key);
    },
  };
  const optional: Record<string, (...args: never[]) => unknown> = {
    async getMany(keys: readonly string[]) {
      await chaos('getMany');
      return store.getMany(keys);
    },
    async setMany(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs) {
      await chaos('setMany');
      return store.setMany(entries, ttlMs);
    },
    async deleteMany(keys: readonly string[]) {
      await chaos('deleteMany');
      return store.deleteMany(keys);
    },
    async add(key: string, payload: Payload, ttlMs: TtlMs) {
      await chaos('add');
      return store.add(key, payload, ttlMs);
    },
    async increment(key: string, delta: number, ttlMs: TtlMs) {
      await chaos('increment');
      return store.increment(key, delta, ttlMs);
    },
    async pull(key: string) {
      await chaos('pull');
      return store.pull(key);
    },
    async touch(key: string, ttlMs: TtlMs) {
      await chaos('touch');
      return store.touch(key, ttlMs);
    },
    async compareAndDelete(key: string, expected: Payload) {
      await chaos('compareAndDelete');
      return store.compareAndDelete(key, expected);
    },
    async *keys(prefix: string) {
      await chaos('keys');
      yield* store.keys(prefix);
    },
    async clear(prefix: string) {
      await chaos('clear');
      return store.clear(prefix);
    },
    async close() {
      await chaos('close');
      return store.close();
    },
  };
  for (const op of OPTIONAL) if (has(op)) (chaosStore as unknown as Record<string, unknown>)[op] = optional[op];
  // Raw values carry no metadata: `rememberWithStatus` asks the store when a hit was written (a
  // metadata read, not a store call: no chaos). Payload entries answer from their header.
  const written = (inner as Partial<SyncMethods>).writtenAt;
  if (options.capabilities?.rawValues === true && typeof written === 'function')
    Object.assign(chaosStore, { writtenAt: (key: string) => written.call(inner, key) });
  if (options.sync) {
    const syncInner = inner as CacheStore & SyncMethods;
    if (!syncInner.getSync || !syncInner.setSync)
      throw new TypeError('createChaosStore: `sync` needs the built-in backend');
    const failSync = (op: ChaosOperation) => {
      calls[op]++;
      failIfRuled(op);
    };
    Object.assign(chaosStore, {
      getSync(key: string) {
        failSync('get');
        return syncInner.getSync(key);
      },
      setSync(key: string, payload: Payload, ttlMs: TtlMs) {
        failSync('set');
        syncInner.setSync(key, payload, ttlMs);
      },
    });
  }
  return chaosStore;
}
