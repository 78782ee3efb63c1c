import { channel, tracingChannel } from 'node:diagnostics_channel';

// docs/architecture.md "Observability": facade operations are traced on `larder.operation` (a
// diagnostics_channel TracingChannel) and topology changes published on `larder.topology`.
// Cost model: when nobody subscribes, a caller reads `operationChannel.hasSubscribers` once
// and takes its untraced path (no context object, no closure).

/** Which tier answered a read: the in-process L1 or the store (L2). */
export type CacheTier = 'l1' | 'l2';

/**
 * Context of one traced facade operation. Built at `start`; `hit`, `tier` and `graced` are
 * filled in when the operation settles, before `asyncStart`/`asyncEnd` are published
 * (`result` or `error` are set by the channel as usual).
 */
export interface OperationTraceContext {
  /** Facade method: `get`, `getMany`, `set`, `remember`, ... */
  readonly operation: string;
  /** Store name (`Cache.name`). */
  readonly store: string;
  /** Driver name (`memory`, `redis`, `memcached`, `dynamodb`, ...). */
  readonly driver: string;
  /** The server the store names (`host:port`, its first primary or node; `CacheStore.address`), once the store is known. */
  server?: string;
  /** Keys the operation names (0 for `clear`/`keys`, n for batches). */
  readonly keyCount: number;
  /** The key (namespace path + key), only when the store option `traceKeys` is on and the operation names one key. */
  readonly key?: string;
  /** Reads: whether it found a value; batches: how many keys it found. Unset for writes. */
  hit?: boolean | number;
  /** Reads that found a value: the tier that answered. */
  tier?: CacheTier;
  /** `remember`: true when a stale value within its grace was served. */
  graced?: boolean;
  /**
   * `remember`: ms it waited for a loader (its own run, or the flight of the same key it joined);
   * the operation's duration less this is the cache's own time. Unset when no loader ran.
   */
  loaderMs?: number;
  /** Set by the channel when the operation resolved. */
  result?: unknown;
  /** Set by the channel when the operation rejected. */
  error?: unknown;
}

/** What `larder.topology` publishes. */
export interface TopologyTraceEvent {
  /** Store name, when the driver knows it (else the driver name). */
  readonly store: string;
  readonly driver: string;
  readonly event:
    | 'node-added'
    | 'node-removed'
    | 'node-ejected'
    | 'node-readmitted'
    | 'discovery'
    | 'failover'
    | 'l1-flushed'
    | 'l1-refused';
  /** The node concerned (`host:port`), when one is. */
  readonly node?: string;
  /** Discovery (configuration) version, for `discovery`. */
  readonly version?: number;
  /** Why, for `l1-refused`: the server's reply (e.g. an ACL's NOPERM): the L1 stays down until it is accepted. */
  readonly reason?: string;
}

/** The `larder.operation` tracing channel (start, end, asyncStart, asyncEnd, error). */
export const operationChannel = tracingChannel<'larder.operation', OperationTraceContext>('larder.operation');

/** The `larder.topology` channel. */
export const topologyChannel = channel('larder.topology');

/** Publishes a topology event on `larder.topology` (nothing is done when nobody subscribes). Drivers call this. */
export function publishTopology(event: TopologyTraceEvent): void {
  if (topologyChannel.hasSubscribers) topologyChannel.publish(event);
}

/**
 * Completes a read's context from its outcome: `hit` (or the number of hits), `tier`, `graced`.
 * `l1` is true when the in-process L1 answered during the operation's synchronous part.
 */
export type HitOf = (context: OperationTraceContext, result: unknown, l1: boolean) => void;

/** Single-key reads: a hit is a value other than `undefined`, answered by the store unless the L1 answered. */
export const valueHit: HitOf = (context, result, l1) => {
  if (l1) context.tier = 'l1';
  context.hit = result !== undefined;
  if (result !== undefined) context.tier ??= 'l2';
};

/** `has`: the boolean is the hit; the L1's answer names its tier. */
export const booleanHit: HitOf = (context, result, l1) => {
  if (l1) context.tier = 'l1';
  context.hit = result === true;
  if (result === true) context.tier ??= 'l2';
};

/** Batch reads: the number of values found (a batch names its tier itself: `l1` only when the L1 found them all). */
export const countHit: HitOf = (context, result) => {
  let hits = 0;
  for (const value of result as readonly unknown[]) if (value !== undefined) hits++;
  context.hit = hits;
  if (hits > 0) context.tier ??= 'l2';
};

/** Where a trace comes from: the names of the cache and whether keys may be traced. */
export interface TraceSource {
  readonly name: string;
  readonly driver: string;
  /** The store's `address`, once known. */
  readonly server?: string | undefined;
  readonly traceKeys: boolean;
  /** How many times the cache's L1 answered so far (a change during an operation's synchronous part: the L1 answered it). */
  l1Answers?(): number;
}

/**
 * Runs `run` as one traced operation on `larder.operation`. Call it only when
 * `operationChannel.hasSubscribers` is true; `hitOf` completes the context of reads; `run` gets
 * the context (a batch names its tier on it).
 */
export function traceOperation<T>(
  source: TraceSource,
  operation: string,
  keyCount: number,
  key: string | undefined,
  hitOf: HitOf | undefined,
  run: (context: OperationTraceContext) => Promise<T>,
): Promise<T> {
  const context: { -readonly [K in keyof OperationTraceContext]: OperationTraceContext[K] } = {
    operation,
    store: source.name,
    driver: source.driver,
    keyCount,
  };
  if (source.traceKeys && key !== undefined) context.key = key;
  const server = source.server;
  if (server !== undefined) context.server = server;
  return operationChannel.tracePromise(() => {
    // An L1 answers in the operation's synchronous part: its answers are counted before and after it.
    const answers = source.l1Answers;
    const before = answers === undefined ? 0 : answers.call(source);
    const promise = run(context);
    const l1 = answers !== undefined && answers.call(source) !== before;
    // Runs before the channel's own handlers (registered later on the same promise), so the
    // context is complete when `asyncStart`/`asyncEnd` are published. The driver is read again:
    // a store given as a promise is only known once the first operation has waited for it.
    promise.then(
      (result) => {
        context.driver = source.driver;
        context.server ??= source.server;
        hitOf?.(context, result, l1);
      },
      () => {
        context.driver = source.driver;
        context.server ??= source.server;
      },
    );
    return promise;
  }, context);
}

/** `remember` (through `rememberWithStatus`): hit or graced from its status. */
export const rememberHit: HitOf = (context, result) => {
  const answer = result as { status: string; tier: CacheTier | undefined };
  context.hit = answer.status !== 'miss';
  context.graced = answer.status === 'graced';
  if (answer.tier !== undefined) context.tier = answer.tier;
};

/** An array of `items` (a one-shot iterator is read once, here); anything not iterable is passed on for the operation to reject. */
export function listed<T>(items: Iterable<T>): Iterable<T> {
  if (Array.isArray(items) || items == null || typeof (items as Iterable<T>)[Symbol.iterator] !== 'function')
    return items;
  return Array.from(items);
}
