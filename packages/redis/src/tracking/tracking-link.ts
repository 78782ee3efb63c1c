import { publishTopology } from '@larder/core/driver';
import { type Redis, ReplyError } from 'ioredis';
import { remoteAddress } from '../ioredis-internals';

/** Channel Redis publishes redirected invalidations on (RESP2 Pub/Sub form). */
export const INVALIDATE_CHANNEL = '__redis__:invalidate';

/** What a link reports to its source. */
export interface LinkEvents {
  onKeys(keys: string[]): void;
  onFlush(): void;
  /** The link's state changed: armed (`true`) or not. */
  onState(): void;
  /** The server refused to turn tracking on (an error reply, not a dropped connection). */
  onRefused(error: Error): void;
}

/** Makes one connection to the node a link watches (the caller's options, RESP2, no auto-resubscribe). */
export type NodeConnector = () => Redis;

/**
 * Server-assisted invalidation from one Redis node: a `tracker` connection runs
 * `CLIENT TRACKING ON REDIRECT <id> BCAST PREFIX <prefix>`, redirecting to a `subscriber`
 * connection subscribed to `__redis__:invalidate`. Both are RESP2: ioredis surfaces RESP2
 * Pub/Sub messages, while a RESP3 redirect target would get `invalidate` push frames that
 * ioredis (6.x) drops. BCAST reports every write under the prefix, by any client of the server
 * (this process's own writes too), so the tracker never has to read the keys itself.
 *
 * Armed only while both connections are ready and tracking was (re)enabled after the latest
 * connect of either: a reconnect of the subscriber changes its client id (the server would keep
 * redirecting to the dead one: `tracking-redir-broken`), a reconnect of the tracker loses
 * tracking, and after a Sentinel failover the two may reach different servers (checked by
 * `run_id`). Any of these disarms the link until it is re-armed.
 */
export class TrackingLink {
  readonly tracker: Redis;
  readonly subscriber: Redis;
  #armed = false;
  #generation = 0;
  #closed = false;

  constructor(
    connect: NodeConnector,
    readonly prefix: string,
    readonly events: LinkEvents,
  ) {
    this.tracker = connect();
    this.subscriber = connect();
    for (const client of [this.tracker, this.subscriber]) {
      client.on('error', () => {});
      client.on('close', () => this.#down());
      client.on('reconnecting', () => this.#down());
      client.on('end', () => this.#down());
      client.on('ready', () => void this.#arm());
    }
    this.subscriber.on('messageBuffer', (channel: Buffer, message: unknown) => this.#message(channel, message));
  }

  /** True while invalidations from this node flow. */
  get armed(): boolean {
    return this.#armed;
  }

  /** The node this link watches (`host:port` of the tracker's socket), for diagnostics. */
  get node(): string | undefined {
    const address = remoteAddress(this.tracker);
    return address === undefined ? undefined : `${address.host}:${address.port}`;
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#down();
    await Promise.allSettled([this.tracker.quit(), this.subscriber.quit()]);
    this.tracker.disconnect();
    this.subscriber.disconnect();
  }

  #message(channel: Buffer, message: unknown): void {
    if (channel.toString() !== INVALIDATE_CHANNEL || !this.#armed) return;
    // A null payload means the server flushed the database (FLUSHALL/FLUSHDB).
    if (message === null || message === undefined) this.events.onFlush();
    else if (Array.isArray(message)) this.events.onKeys(message.map(String));
    else this.events.onKeys([String(message)]);
  }

  #down(): void {
    this.#generation++;
    if (!this.#armed) return;
    this.#armed = false;
    this.events.onState();
  }

  async #arm(): Promise<void> {
    if (this.#closed || this.tracker.status !== 'ready' || this.subscriber.status !== 'ready') return;
    const generation = ++this.#generation;
    this.#armed = false;
    try {
      const subscriber = this.subscriber;
      if (subscriber.mode === 'subscriber') await subscriber.unsubscribe();
      const [id, subscriberRun, trackerRun] = await Promise.all([
        subscriber.client('ID') as Promise<number>,
        runId(subscriber),
        runId(this.tracker),
      ]);
      if (subscriberRun !== trackerRun) {
        // Two servers (a failover happened between the connects): reconnect the subscriber, arm again.
        if (generation === this.#generation) subscriber.disconnect(true);
        return;
      }
      await subscriber.subscribe(INVALIDATE_CHANNEL);
      await this.tracker.call('CLIENT', 'TRACKING', 'OFF');
      await this.tracker.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.prefix);
    } catch (error) {
      // A connection dropped meanwhile: its `ready` arms again. A refusal (ACL, old server) is reported.
      if (error instanceof ReplyError) this.events.onRefused(error as Error);
      return;
    }
    if (generation !== this.#generation || this.#closed) return;
    if (this.tracker.status !== 'ready' || this.subscriber.status !== 'ready') return;
    this.#armed = true;
    this.events.onState();
  }
}

/** The `run_id` of the server `client` is connected to. */
export async function runId(client: Redis): Promise<string | undefined> {
  const info = await client.info('server');
  return /run_id:(\w+)/.exec(info)?.[1];
}

/** Publishes `l1-refused` on `larder.topology`: the server refused tracking, so the L1 stays down (bypassed). */
export function publishRefusal(store: string, error: Error): void {
  publishTopology({ store, driver: 'redis', event: 'l1-refused', reason: error.message });
}
