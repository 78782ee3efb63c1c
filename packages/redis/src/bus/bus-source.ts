import { randomUUID } from 'node:crypto';
import { ConfigError } from '@larder/core';
import {
  checkUrlUserinfo,
  type InvalidationHandlers,
  type InvalidationMessage,
  type InvalidationOptions,
  type InvalidationSource,
} from '@larder/core/driver';
import { Redis } from 'ioredis';
import { busFleet } from './bus-fleet';

/** Channel of the bus for one store prefix (instances of one app share it). */
export function busChannel(prefix: string): string {
  return `__larder:l1:${prefix}`;
}

/** A bus message on the wire: the sender's id, then the full keys or a cleared prefix. */
interface WireMessage {
  o: string;
  k?: string[];
  p?: string;
}

/**
 * The `bus` invalidation source (docs/architecture.md "Two tiers"): Redis Pub/Sub at `busUrl`, for an L1 in
 * front of any store (memcached, DynamoDB, or Redis when asked). One RESP3 connection both
 * subscribes and publishes (RESP3 allows commands on a subscribed connection), so when it is
 * down this instance neither hears nor tells, and its L1 is flushed and bypassed until it is
 * back. Messages carry an origin id; an instance ignores its own. Keys go out at once when no
 * message of keys is in flight, else together in one message, in order, when it is answered (64
 * writes acknowledged together: two messages); a cleared prefix goes out at once, after them. The L1 fleet keeps
 * its leases, registry and acknowledgements on this Redis too (`bus-fleet.ts`). Limit: a publish
 * that fails after this instance's write leaves the other instances' copies until their `l1.ttl`.
 */
export function larderBus(options: InvalidationOptions): InvalidationSource {
  if (options.busUrl === undefined) throw new ConfigError('the L1 bus needs a busUrl (CACHE_BUS_URL)', 'CACHE_BUS_URL');
  checkUrlUserinfo(options.busUrl, 'CACHE_BUS_URL');
  const origin = randomUUID();
  const channel = busChannel(options.prefix);
  let client: Redis | undefined;
  let handlers: InvalidationHandlers | undefined;
  let up = false;
  const state = (now: boolean) => {
    if (now === up) return;
    up = now;
    handlers?.onState(now);
  };
  // The fleet's state on this Redis, through this connection while it is ready.
  const fleet = busFleet(() => (client?.status === 'ready' ? client : undefined));
  /** Keys published while a message of keys was in flight: sent together when it is answered. */
  let pending: string[] = [];
  let inFlight = false;
  const send = (wire: WireMessage) => {
    const redis = client;
    if (redis === undefined || !up) return;
    if (wire.k !== undefined) inFlight = true;
    redis.publish(channel, JSON.stringify(wire)).then(
      () => {
        if (wire.k === undefined) return;
        inFlight = false;
        flush();
      },
      () => {
        inFlight = false;
        // The bus is unreachable: stop trusting what we hold; reconnecting turns it up again.
        state(false);
        redis.disconnect(true);
      },
    );
  };
  const flush = () => {
    if (pending.length === 0) return;
    const keys = pending;
    pending = [];
    send({ o: origin, k: keys });
  };
  return {
    mode: 'bus',
    start(given) {
      handlers = given;
      given.onState(false);
      const redis = new Redis(options.busUrl as string, {
        protocol: 3,
        autoResubscribe: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 2000,
        connectTimeout: 2000,
        retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 5), 1000),
      });
      client = redis;
      redis.on('error', () => {});
      redis.on('close', () => state(false));
      redis.on('reconnecting', () => state(false));
      redis.on('ready', () => {
        redis.subscribe(channel).then(
          () => state(redis.status === 'ready'),
          () => redis.disconnect(true),
        );
      });
      redis.on('message', (from: string, text: string) => {
        if (from !== channel || !up) return;
        let message: WireMessage;
        try {
          message = JSON.parse(text) as WireMessage;
        } catch {
          return;
        }
        if (message.o === origin) return;
        if (Array.isArray(message.k)) handlers?.onKeys(message.k);
        else if (typeof message.p === 'string') handlers?.onFlush(message.p);
      });
    },
    publish(message: InvalidationMessage) {
      if (client === undefined || !up) return;
      if ('keys' in message) {
        // Sent at once when no message of keys is in flight (a write's invalidation leaves before its
        // caller goes on); else queued, in order (a fence after the keys before it), and the keys
        // queued meanwhile go out as one message when the one in flight is answered.
        for (const key of message.keys) pending.push(key);
        if (!inFlight) flush();
        return;
      }
      flush();
      send({ o: origin, p: message.prefix });
    },
    fleetStore: () => fleet,
    async close() {
      flush();
      const redis = client;
      client = undefined;
      state(false);
      if (redis === undefined) return;
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}
