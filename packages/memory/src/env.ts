import type { DriverEnvironment } from '@larder/core/driver';
import type { MemoryStoreOptions } from './options';

/** A `memory` store in a manager config: `driver` and `MemoryStoreOptions`, checked by the compiler. */
export interface MemoryDriverConfig extends MemoryStoreOptions {
  driver: 'memory';
}

// The typed driver registry (docs/architecture.md "Typed store configs"): `{ driver: 'memory' }`
// in a manager config is checked against `MemoryDriverConfig`.
declare module '@larder/core' {
  interface LarderDrivers {
    memory: MemoryDriverConfig;
  }
}

/** The `memory` store for `configFromEnv`: it reads no variable. */
export const larderEnv: DriverEnvironment = {
  driver: 'memory',
  variables: [],
  stores: () => ({ memory: { driver: 'memory' } satisfies MemoryDriverConfig }),
};
