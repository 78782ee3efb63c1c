import { ConfigError } from '../contract/errors';
import type { InvalidationOptions, InvalidationSource } from '../contract/invalidation';
import type { CacheStore } from '../contract/store';
import type { ResolvedL1Options } from './options';
import { L1Tier } from './tier';

/** The package that provides the bus client (it needs ioredis; core imports no client). */
export const BUS_PACKAGE = '@larder/redis';

/** How the bus factory is loaded. @default dynamic `import('@larder/redis')` */
export type BusImporter = () => Promise<{ larderBus?: (options: InvalidationOptions) => InvalidationSource }>;

const importBus: BusImporter = () => import(BUS_PACKAGE);

/**
 * Builds the L1 of a store: settles the mode (given, else `tracking` when the driver offers it,
 * `bus` with a bus URL, else `none`) and its source (the driver's `invalidation()`, else the bus
 * loaded lazily from `@larder/redis`). Throws `ConfigError` when the mode cannot be served.
 */
export function createL1Tier(
  options: ResolvedL1Options,
  store: CacheStore,
  names: { store: string; prefix: string; keepsDecoded: boolean },
  importer: BusImporter = importBus,
): L1Tier {
  const driver = store.driver ?? 'unknown';
  const sourceOptions: InvalidationOptions = { prefix: names.prefix, store: names.store, busUrl: options.busUrl };
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
  return new L1Tier(options, mode ?? 'none', source, names.store, driver, names.keepsDecoded);
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
    async close() {
      closed = true;
      await inner?.close();
    },
  };
}
