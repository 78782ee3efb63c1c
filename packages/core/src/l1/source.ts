import { requireFromApp } from '../config/driver-resolution';
import type { ResolvedL1Options } from '../config/l1-options';
import { ConfigError } from '../contract/errors';
import type { InvalidationOptions, InvalidationSource } from '../contract/invalidation';
import type { CacheStore } from '../contract/store';
import { L1Extensions } from './extension';
import { Fences } from './fence';
import { type FleetBackend, FleetStore } from './fleet-store';
import { L1Lease } from './lease';
import { type L1Fleet, L1Tier, type L1Token } from './tier';

/** How long a life extension's hint key stays in the store (see `extension.ts`). */
const HINT_TTL_MS = 1_000;

/** The package that provides the bus client (it needs ioredis; core imports no client). */
export const BUS_PACKAGE = '@larder/redis';

/** How the bus factory is loaded. @default dynamic `import('@larder/redis')` */
export type BusImporter = () => Promise<{ larderBus?: (options: InvalidationOptions) => InvalidationSource }>;

// Found the way drivers are (config/driver-resolution.ts): from the app first. Core declares no
// dependency on @larder/redis, so in a strict layout (pnpm) core's own `import` cannot see it.
const importBus: BusImporter = async () => {
  const found = requireFromApp<Awaited<ReturnType<BusImporter>>>(BUS_PACKAGE);
  return found.found ? found.module : import(BUS_PACKAGE);
};

/**
 * Builds the L1 of a store: settles the mode (given, else `tracking` when the driver offers it,
 * `bus` with a bus URL, else `none`) and its source (the driver's `invalidation()`, else the bus
 * loaded lazily from `@larder/redis`). Throws `ConfigError` when the mode cannot be served.
 */
export function createL1Tier(
  options: ResolvedL1Options,
  store: CacheStore,
  names: {
    store: string;
    prefix: string;
    keepsDecoded: boolean;
    tagPrefix?: string;
    slackMs?: number;
    /** Told of every counter change the L1 hears, and of its flushes (`undefined`; see `L1Tier`). */
    onTagsChanged?: (keys: readonly string[] | undefined) => void;
  },
  importer: BusImporter = importBus,
): L1Tier {
  const driver = store.driver ?? 'unknown';
  const sourceOptions: InvalidationOptions = {
    prefix: names.prefix,
    store: names.store,
    busUrl: options.busUrl,
    tracking: options.tracking,
  };
  let mode = options.invalidation;
  let source: InvalidationSource | undefined;
  if (mode === undefined || mode === 'tracking') {
    source = store.invalidation?.('tracking', sourceOptions);
    if (source === undefined && mode === 'tracking') {
      throw new ConfigError(
        `l1.invalidation 'tracking' needs a driver with server-assisted invalidation (redis); '${driver}' has none: use 'bus' or 'none'`,
        'l1.invalidation',
      );
    }
    if (source !== undefined) mode = 'tracking';
  }
  if (source === undefined && (mode === 'bus' || (mode === undefined && options.busUrl !== undefined))) {
    mode = 'bus';
    source = store.invalidation?.('bus', sourceOptions) ?? lazyBus(importer, sourceOptions);
  }
  const fleet =
    typeof store.compareAndSet === 'function' && source !== undefined
      ? (tier: L1Tier) =>
          createFleet(tier, store, source as InvalidationSource, names.prefix, options, names.slackMs ?? 0)
      : undefined;
  const { store: name, keepsDecoded, tagPrefix, onTagsChanged } = names;
  return new L1Tier(options, mode ?? 'none', source, name, driver, keepsDecoded, tagPrefix, fleet, onTagsChanged);
}

/**
 * The lease and fences of `tier` (docs/architecture.md "The barrier"): the bus announces keys by
 * publishing them, tracking by the store write; the fleet's state lives in the channel's own store
 * when it offers one (the bus's Redis), else in the cache's.
 */
function createFleet(
  tier: L1Tier,
  cacheStore: CacheStore,
  source: InvalidationSource,
  prefix: string,
  options: ResolvedL1Options,
  slackMs: number,
): L1Fleet {
  const store = cacheStore as FleetBackend;
  const publish = source.mode === 'bus' ? (keys: readonly string[]) => source.publish?.({ keys }) : undefined;
  const channelStore = source.fleetStore === undefined ? undefined : () => source.fleetStore?.();
  const fleetStore = new FleetStore(store, prefix, options.leaseMs, publish, channelStore);
  const lease = new L1Lease(fleetStore, options.leaseMs, () => tier.flush());
  // On the bus, a fence published while the bus is down is dropped, like the invalidations before it.
  const blocked = () => (publish !== undefined && !tier.channelUp ? 'the bus is down' : undefined);
  const fences = new Fences(fleetStore, lease, options.leaseMs, blocked);
  // A hint key lives only to be heard (with tracking, the store write is the announcement).
  const announce = (key: string) => fleetStore.announce(key, HINT_TTL_MS);
  const tracking = source.mode === 'tracking';
  const head = tracking ? cacheStore.head?.bind(cacheStore) : undefined;
  const extensions = new L1Extensions<L1Token>(tier, fleetStore.root, tracking, announce, head, slackMs, options.ttlMs);
  const describe = () => ({
    id: lease.id,
    leaseHeld: lease.held,
    leaseMs: options.leaseMs,
    stateIn: fleetStore.store === store || fleetStore.store.inCacheStore ? ('store' as const) : ('channel' as const),
    ...(fences.last === undefined ? {} : { lastBarrier: fences.last }),
  });
  return { lease, fences, extensions, root: fleetStore.root, describe };
}

/** A bus source that loads `larderBus` on `start` (down until it is loaded and connected). */
function lazyBus(importer: BusImporter, options: InvalidationOptions): InvalidationSource {
  let inner: InvalidationSource | undefined;
  let closed = false;
  return {
    mode: 'bus',
    start(handlers) {
      handlers.onState(false);
      importer()
        .then((mod) => {
          if (closed) return;
          if (typeof mod?.larderBus !== 'function') throw new Error(`${BUS_PACKAGE} has no larderBus export`);
          inner = mod.larderBus(options);
          inner.start(handlers);
        })
        .catch((error: unknown) => {
          // Stays down: the L1 is bypassed, every read goes to the store.
          process.emitWarning(`larder: the L1 bus needs ${BUS_PACKAGE} (${(error as Error)?.message ?? error})`);
        });
    },
    publish(message) {
      inner?.publish?.(message);
    },
    fleetStore() {
      return inner?.fleetStore?.();
    },
    async close() {
      closed = true;
      await inner?.close();
    },
  };
}
