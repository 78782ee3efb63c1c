import type { InvalidationMode } from './invalidation';

/**
 * A store's topology and health as plain JSON-able data (`CacheStore.describe()`), for `larder
 * doctor`, health endpoints and dashboards. Never holds a secret: addresses are `host:port`.
 */

/** What a node is to the store. */
export type NodeRole = 'primary' | 'replica' | 'sentinel' | 'node' | 'config-endpoint';

/** `ejected`: taken out of the key ring after failures (memcached), probed until it answers. */
export type NodeStatus = 'up' | 'down' | 'ejected';

/** One server the store talks to. */
export interface NodeDescription {
  /** `host:port` (IPv6 in brackets). */
  address: string;
  role: NodeRole;
  status: NodeStatus;
  /** Fraction of the key space this node owns (hash ring share, Cluster slots / 16384), 0..1. */
  share?: number;
  /** Cluster: hash slots this primary serves. */
  slots?: number;
  /** Replicas: the primary's view of the replication state (`online`, `wait_bgsave`...). */
  state?: string;
  /** Replicas: seconds since the replica last acknowledged the replication stream. */
  lagSeconds?: number;
  /** Requests written to this node's socket since the store opened (where the driver counts them). */
  writes?: number;
}

/** Auto-discovery (ElastiCache configuration endpoint). */
export interface DiscoveryDescription {
  /** The configuration endpoint, `host:port`. */
  endpoint: string;
  /** Config version of the node list in use; undefined before the first answer. */
  version?: number;
  /** When the last poll finished (epoch ms). */
  lastPollAt?: number;
  /** The last poll got an answer. */
  ok: boolean;
}

/** A DynamoDB table. */
export interface TableDescription {
  name: string;
  /** `ACTIVE`, `CREATING`, ... */
  status: string;
  /** The TTL attribute when TTL is on, else undefined (expired items are filtered on read but never deleted). */
  ttlAttribute?: string;
  /** `ENABLED`, `DISABLED`, `ENABLING`, ... */
  ttlStatus: string;
  billingMode?: string;
  /** DynamoDB's approximate count (updated about every six hours). */
  itemCount?: number;
}

/** What `CacheStore.describe()` returns. */
export interface StoreDescription {
  /** The driver name. */
  driver: string;
  topology: {
    /** `in-process`, `single`, `replicas`, `sentinel`, `cluster`, `static`, `discovery`, `table`... */
    mode: string;
    nodes: NodeDescription[];
    /** Cluster: slots covered (of 16384) and in how many ranges. */
    slots?: { covered: number; ranges: number };
  };
  discovery?: DiscoveryDescription;
  /** Read replicas the store itself connects to (e.g. `REDIS_REPLICA_URLS`). */
  replicas?: { address: string; status: NodeStatus }[];
  table?: TableDescription;
  /** The L1 in front of the store (set by the facade's `describe()` when the cache has one). */
  l1?: L1Description;
  /** The cache's L2 breaker (set by the facade's `describe()` when the cache has the `breaker` option). */
  breaker?: BreakerDescription;
}

/** What `describe()` shows of the L2 breaker: `Cache.health()` as data. */
export interface BreakerDescription {
  /** `down`: the breaker is open, store calls fail at once until a probe answers. */
  state: 'up' | 'down';
  /** When the state began (epoch ms). */
  since: number;
  /** Failed or timed-out store calls in a row (3 open the breaker; 0 once a call answers). */
  consecutiveFailures: number;
  /** The wait from one probe to the next while down, ms (100, doubling to 1,000 while probes fail). */
  probeIntervalMs: number;
  /** The last failure of a store call: larder's error code (`E_TIMEOUT`, `E_BACKEND`) when it has one, and its message. */
  lastError?: { code?: string; message: string };
}

/** What `describe()` and `larder doctor` show of an L1. */
export interface L1Description {
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  invalidation: InvalidationMode;
  /** `up`: invalidations flow and the L1 answers; `down`: flushed and bypassed until the channel is back. */
  state: 'up' | 'down';
  /** Hits answered by the L1 since creation. */
  hits: number;
  /** Times the L1 was flushed (channel down, server flush). */
  flushes: number;
  /** The fleet this L1 belongs to (lease and barriers), when it has one (a channel and a store with compareAndSet). */
  fleet?: L1FleetDescription;
}

/** What an L1 knows of its fleet (docs/architecture.md "The barrier"). */
export interface L1FleetDescription {
  /** This instance's id in the fleet's registry. */
  id: string;
  /** Its lease holds (the L1 may serve). */
  leaseHeld: boolean;
  leaseMs: number;
  /** Where the fleet's leases, registry and acknowledgements live: the cache's store, or the channel's own (the bus's Redis). */
  stateIn: 'store' | 'channel';
  /** The last barrier this instance ran (`invalidateTags`, `syncL1`), once it ran one. */
  lastBarrier?: L1BarrierDescription;
}

/** How one barrier went. */
export interface L1BarrierDescription {
  /** When it resolved or failed (epoch ms). */
  at: number;
  durationMs: number;
  /** Other instances in the registry when it began. */
  instances: number;
  /** Of them, those that acknowledged the fence. */
  acknowledged: number;
  /** Those it stopped waiting for by their lease (a new epoch, or no renewal for a whole lease). */
  lapsed: number;
  /** Reads of the fleet's state while it waited (each one `getMany`). */
  polls: number;
  /** `ok`, or why it failed (`E_L1_BARRIER`). */
  outcome: 'ok' | 'failed';
}
