import { randomUUID } from 'node:crypto';
import { ConfigError } from '@larder/core';
import {
  checkUrlUserinfo,
  type InvalidationHandlers,
  type InvalidationMessage,
  type InvalidationOptions,
  type InvalidationSource,
} from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { redisFleet } from '../fleet-backend';
import { type BusLink, type BusRoute, openBusLink } from './bus-link';
import { shardKey, shardTag } from './bus-shard';

/** A bus message on the wire: the sender's id, then the full keys or a cleared prefix. */
interface WireMessage {
  o: string;
  k?: string[];
  p?: string;
}

/**
 * The `bus` invalidation source (docs/architecture.md "Two tiers"): Redis Pub/Sub at `busUrl`, for an L1 in
 * front of any store (memcached, DynamoDB, or Redis when asked); on a Redis Cluster, sharded Pub/Sub on
 * the master of one slot (`bus-link.ts`). One RESP3 connection both
 * subscribes and publishes (RESP3 allows commands on a subscribed connection), so when it is
 * down this instance neither hears nor tells, and its L1 is flushed and bypassed until it is
 * back. Messages carry an origin id; an instance ignores its own. Keys go out at once when no
 * message of keys is in flight, else together in one message, in order, when it is answered (64
 * writes acknowledged together: two messages); a cleared prefix goes out at once, after them. The L1 fleet keeps
 * its leases, registry and acknowledgements on this Redis too (`fleet-backend.ts`). Limit: a publish
 * that fails after this instance's write leaves the other instances' copies until their `l1.ttl`.
 */
export function larderBus(options: InvalidationOptions): InvalidationSource {
  if (options.busUrl === undefined) throw new ConfigError('the L1 bus needs a busUrl (CACHE_BUS_URL)', 'CACHE_BUS_URL');
  checkUrlUserinfo(options.busUrl, 'CACHE_BUS_URL');
  const busUrl = options.busUrl;
  const origin = randomUUID();
  let link: BusLink | undefined;
  /** The ready, subscribed connection and where it listens; undefined while the bus is down. */
  let live: { redis: Redis; route: BusRoute } | undefined;
  let handlers: InvalidationHandlers | undefined;
  let up = false;
  const state = (now: boolean) => {
    if (now === up) return;
    up = now;
    handlers?.onState(now);
  };
  // The fleet's state on this Redis, through this connection while it is up (on a Cluster, its keys in the channel's slot).
  const tag = shardTag(options.prefix);
  const fleet = redisFleet(() => {
    if (live === undefined || live.redis.status !== 'ready') return undefined;
    return { redis: live.redis, key: live.route.sharded ? (key: string) => shardKey(tag, key) : undefined };
  });
  /** Keys published while a message of keys was in flight: sent together when it is answered. */
  let pending: string[] = [];
  let inFlight = false;
  const send = (wire: WireMessage) => {
    const current = live;
    if (current === undefined || !up) return;
    if (wire.k !== undefined) inFlight = true;
    const { redis, route } = current;
    const text = JSON.stringify(wire);
    (route.sharded ? redis.spublish(route.channel, text) : redis.publish(route.channel, text)).then(
      () => {
        if (wire.k === undefined) return;
        inFlight = false;
        flush();
      },
      () => {
        inFlight = false;
        // The bus is unreachable (or, on a Cluster, its slot moved): stop trusting what we hold; reconnecting turns it up again.
        live = undefined;
        state(false);
        link?.drop(redis);
      },
    );
  };
  const flush = () => {
    if (pending.length === 0) return;
    const keys = pending;
    pending = [];
    send({ o: origin, k: keys });
  };
  // Redis hands a subscriber its own messages too: they start with this origin (JSON.stringify keeps
  // `o` first), so they are dropped before parsing (a coalesced message carries tens of keys).
  const own = JSON.stringify({ o: origin }).slice(0, -1);
  const heard = (text: string) => {
    if (!up || text.startsWith(own)) return;
    let message: WireMessage;
    try {
      message = JSON.parse(text) as WireMessage;
    } catch {
      return;
    }
    if (message.o === origin) return;
    if (Array.isArray(message.k)) handlers?.onKeys(message.k);
    else if (typeof message.p === 'string') handlers?.onFlush(message.p);
  };
  return {
    mode: 'bus',
    start(given) {
      handlers = given;
      given.onState(false);
      link = openBusLink(busUrl, options.prefix, {
        up(redis, route) {
          live = { redis, route };
          state(redis.status === 'ready');
        },
        down() {
          live = undefined;
          state(false);
        },
        message: heard,
      });
    },
    publish(message: InvalidationMessage) {
      if (live === undefined || !up) return;
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
      const closing = link;
      link = undefined;
      live = undefined;
      state(false);
      await closing?.close();
    },
  };
}
