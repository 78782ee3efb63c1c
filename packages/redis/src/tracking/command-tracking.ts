import type { InvalidationHandlers, InvalidationOptions, InvalidationSource } from '@larder/core/driver';
import { type Redis, ReplyError } from 'ioredis';
import { INVALIDATE_CHANNEL, publishRefusal, runId } from './tracking-link';

/** One L1 fed by the store's tracking: its prefix and its handlers. */
interface Attached {
  readonly prefix: string;
  readonly handlers: InvalidationHandlers;
}

/** The reserved namespace under a store prefix (fences `__larder:l1:`, tag counters `__larder:tag:`): heard by every instance. */
const RESERVED_NAMESPACE = '__larder:';
const RESP2 = { protocol: 2, autoResubscribe: false, enableOfflineQueue: true, lazyConnect: false } as const;
const CONNECTION_DOWN = ['close', 'reconnecting', 'end'] as const;

/**
 * `tracking` for a store whose reads and writes all go through one command connection (single
 * node, Sentinel primary, no replica reads): the command connection itself runs `CLIENT TRACKING
 * ON REDIRECT <subscriber id> BCAST PREFIX <p>... NOLOOP`, and one RESP2 subscriber per store
 * receives `__redis__:invalidate`. NOLOOP keeps Redis from echoing this store's own writes (one
 * message per write, most of what tracking cost a SET); since it hides them from every L1 of the
 * store in this process, the store reports its writes here (`wrote`, `cleared`) and they reach
 * every attached L1 like a server invalidation. Every read and write of the store shares the
 * connection, so a write acknowledged after a read was sent is also answered after it: reporting
 * on acknowledgement cancels any read in flight that could have seen the old value.
 *
 * Armed only while both connections are ready and tracking was turned on after the latest
 * connect of either (a reconnected command connection has lost tracking; a reconnected
 * subscriber has a new id), on one server (`run_id`, for a Sentinel failover between the two
 * connects). Until then every attached L1 is down (flushed and bypassed). A new prefix not
 * covered by the armed ones re-arms (the L1s are flushed once).
 */
export class CommandTracking {
  readonly #attached = new Set<Attached>();
  #subscriber: Redis | undefined;
  #armed = false;
  #prefixes: string[] = [];
  #generation = 0;
  #arming: Promise<void> | undefined;
  #again = false;
  /** Store name of the first L1 attached, for topology events. */
  #store = 'redis';
  readonly #onDown = () => this.#down();
  readonly #onReady = () => this.#arm();

  /** With `readers`: the connection that tracks the fleet's fences and tag counters by broadcast (see `#armOnce`). */
  #announcer: Redis | undefined;

  /** `readers`: Redis's default tracking on the command connection (only keys it read); else BCAST of the prefixes. */
  constructor(
    readonly command: Redis,
    readonly readers = false,
  ) {}

  /** An invalidation source for one L1 (prefix `options.prefix`) fed by this store's tracking. */
  source(options: InvalidationOptions): InvalidationSource {
    let entry: Attached | undefined;
    return {
      mode: 'tracking',
      tracksReads: this.readers,
      start: (handlers) => {
        handlers.onState(false);
        if (this.#attached.size === 0) this.#store = options.store;
        entry = { prefix: options.prefix, handlers };
        this.#attach(entry);
      },
      close: async () => {
        const attached = entry;
        entry = undefined;
        if (attached !== undefined) await this.#detach(attached);
      },
    };
  }

  /** True while invalidations flow to the attached L1s. */
  get armed(): boolean {
    return this.#armed;
  }

  /** The store wrote (or deleted, or may have written) `keys` through the command connection: every attached L1 drops them. */
  wrote(keys: readonly string[]): void {
    this.#invalidate(keys, true);
  }

  /** The store cleared every key under `prefix`: every attached L1 drops them. */
  cleared(prefix: string): void {
    for (const attached of this.#attached) attached.handlers.onFlush(prefix);
  }

  #attach(entry: Attached): void {
    const first = this.#attached.size === 0;
    this.#attached.add(entry);
    if (first) {
      for (const event of CONNECTION_DOWN) this.command.on(event, this.#onDown);
      this.command.on('ready', this.#onReady);
      const subscriber = this.command.duplicate(RESP2) as Redis;
      subscriber.on('error', () => {});
      for (const event of CONNECTION_DOWN) subscriber.on(event, this.#onDown);
      subscriber.on('ready', this.#onReady);
      subscriber.on('messageBuffer', (channel: Buffer, message: unknown) => this.#message(channel, message));
      this.#subscriber = subscriber;
      if (this.readers) {
        const announcer = this.command.duplicate(RESP2) as Redis;
        announcer.on('error', () => {});
        for (const event of CONNECTION_DOWN) announcer.on(event, this.#onDown);
        announcer.on('ready', this.#onReady);
        this.#announcer = announcer;
      }
      this.#arm();
      return;
    }
    if (this.#prefixes.some((prefix) => entry.prefix.startsWith(prefix))) {
      if (this.#armed) entry.handlers.onState(true);
      return;
    }
    // Not covered: turn tracking off and on again with the new prefix too.
    this.#down();
    this.#prefixes = [];
    this.#arm();
  }

  async #detach(entry: Attached): Promise<void> {
    if (!this.#attached.delete(entry) || this.#attached.size > 0) return;
    this.#generation++;
    this.#armed = false;
    this.#prefixes = [];
    for (const event of CONNECTION_DOWN) this.command.off(event, this.#onDown);
    this.command.off('ready', this.#onReady);
    const subscriber = this.#subscriber;
    const announcer = this.#announcer;
    this.#subscriber = undefined;
    this.#announcer = undefined;
    // An arm in flight may still turn tracking on after this OFF: it turns it off again (#armOnce).
    const off = this.command.status === 'ready' ? this.command.call('CLIENT', 'TRACKING', 'OFF') : undefined;
    await Promise.allSettled([off, subscriber?.quit(), announcer?.quit()]);
    subscriber?.disconnect();
    announcer?.disconnect();
  }

  #message(channel: Buffer, message: unknown): void {
    if (!this.#armed || channel.toString() !== INVALIDATE_CHANNEL) return;
    // A null payload means the server flushed the database (FLUSHALL/FLUSHDB).
    if (message === null || message === undefined) for (const a of this.#attached) a.handlers.onFlush();
    else this.#invalidate(Array.isArray(message) ? message.map(String) : [String(message)]);
  }

  #invalidate(keys: readonly string[], local = false): void {
    for (const attached of this.#attached) attached.handlers.onKeys(keys, local);
  }

  #down(): void {
    this.#generation++;
    if (!this.#armed) return;
    this.#armed = false;
    for (const attached of this.#attached) attached.handlers.onState(false);
  }

  // One arm at a time: two interleaved OFF/ON pairs on the command connection would fail (prefixes
  // of one client must not overlap) or leave the older redirect in place.
  #arm(): void {
    if (this.#arming !== undefined) {
      this.#again = true;
      return;
    }
    this.#arming = this.#armLoop();
  }

  async #armLoop(): Promise<void> {
    try {
      do {
        this.#again = false;
        await this.#armOnce();
      } while (this.#again);
    } finally {
      this.#arming = undefined;
    }
  }

  async #armOnce(): Promise<void> {
    const command = this.command;
    const subscriber = this.#subscriber;
    if (this.#armed || subscriber === undefined || this.#attached.size === 0) return;
    const announcer = this.#announcer;
    if (command.status !== 'ready' || subscriber.status !== 'ready') return;
    if (announcer !== undefined && announcer.status !== 'ready') return;
    const generation = this.#generation;
    const prefixes = cover([...this.#attached].map((attached) => attached.prefix));
    try {
      // A subscribed RESP2 connection answers no CLIENT ID nor INFO.
      if (subscriber.mode === 'subscriber') await subscriber.unsubscribe();
      const [id, subscriberRun, commandRun] = await Promise.all([
        subscriber.client('ID') as Promise<number>,
        runId(subscriber),
        runId(command),
      ]);
      if (subscriberRun !== commandRun) {
        // Two servers (a failover happened between the connects): reconnect the subscriber, arm again.
        if (generation === this.#generation) subscriber.disconnect(true);
        return;
      }
      await subscriber.subscribe(INVALIDATE_CHANNEL);
      if (announcer === undefined) {
        const on = ['TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST'];
        for (const prefix of prefixes) on.push('PREFIX', prefix);
        on.push('NOLOOP');
        await Promise.all([command.call('CLIENT', 'TRACKING', 'OFF'), command.call('CLIENT', ...on)]);
      } else {
        // readers: the command connection is told of the keys it read; the announcer, which reads
        // nothing, of every write under the reserved namespace (fences, tag counters) by broadcast.
        if ((await runId(announcer)) !== commandRun) {
          if (generation === this.#generation) announcer.disconnect(true);
          return;
        }
        const reserved = ['TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST'];
        for (const prefix of prefixes) reserved.push('PREFIX', `${prefix}${RESERVED_NAMESPACE}`);
        await Promise.all([
          command.call('CLIENT', 'TRACKING', 'OFF'),
          command.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'NOLOOP'),
          announcer.call('CLIENT', 'TRACKING', 'OFF'),
          announcer.call('CLIENT', ...reserved),
        ]);
      }
    } catch (error) {
      // A connection dropped meanwhile: its `ready` arms again. A refusal (ACL, old server) is reported.
      if (error instanceof ReplyError) publishRefusal(this.#store, error as Error);
      return;
    }
    if (this.#attached.size === 0) {
      // Every L1 closed while this arm ran: no redirect to a closed subscriber is left behind.
      command.call('CLIENT', 'TRACKING', 'OFF').catch(() => undefined);
      return;
    }
    if (generation !== this.#generation || subscriber !== this.#subscriber) return;
    if (command.status !== 'ready' || subscriber.status !== 'ready') return;
    if (announcer !== undefined && announcer.status !== 'ready') return;
    this.#prefixes = prefixes;
    this.#armed = true;
    for (const attached of this.#attached) attached.handlers.onState(true);
  }
}

/** The prefixes to track: each given one, without those another one already covers (Redis refuses overlapping prefixes). */
export function cover(prefixes: readonly string[]): string[] {
  const kept: string[] = [];
  for (const prefix of [...new Set(prefixes)].sort((a, b) => a.length - b.length)) {
    if (!kept.some((shorter) => prefix.startsWith(shorter))) kept.push(prefix);
  }
  return kept;
}
