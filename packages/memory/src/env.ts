import type { CommonStoreOptions, DriverEnvironment } from '@larder/core/driver';

/** A `memory` store in a manager config. */
export interface MemoryDriverConfig extends CommonStoreOptions {
  driver: 'memory';
  /** Most entries kept (least recently used are evicted). @default 10_000 */
  maxEntries?: number;
  /** Most bytes kept (approximate, by encoded size). @default 64 MiB */
  maxBytes?: number;
  /** Copy values in and out so later mutation does not leak into the cache; false stores references (faster). @default true */
  clone?: boolean;
  [option: string]: unknown;
}

/** The `memory` store for `configFromEnv`: it reads no variable. */
export const larderEnv: DriverEnvironment = {
  driver: 'memory',
  variables: [],
  stores: () => ({ memory: { driver: 'memory' } satisfies MemoryDriverConfig }),
};
