import { ConfigError } from '../contract/errors';
import type { DriverFactory } from '../contract/store';
import type { DriverEnvironment, DriverModule, DriverSource, LarderDriver, LazyDriver } from './store-config';

export type { DriverModule, DriverSource, LarderDriver, LazyDriver } from './store-config';

/** Makes a driver's `larderDriver` export: `factory`, carrying `environment` (every driver's index.ts does this). */
export function defineDriver<C>(environment: DriverEnvironment, factory: DriverFactory<C>): LarderDriver<C> {
  const driver = ((config: C, context) => factory(config, context)) as DriverFactory<C>;
  return Object.assign(driver, { environment });
}

const registered = new Map<string, DriverSource>();
let registrations = 0;

/**
 * Registers a driver for every manager of this process and for `configFromEnv` (the app-level
 * `cache` too): `registerDriver(await import('@larder/redis'))`. Needed only where larder cannot
 * find the package from the app (a bundle, an unusual layout); a later registration of a name wins.
 */
export function registerDriver(source: DriverSource): void {
  for (const name of driverNames(source)) registered.set(name, source);
  registrations++;
}

/** The driver registered under `name` with `registerDriver`, if any. */
export function registeredDriver(name: string): DriverSource | undefined {
  return registered.get(name);
}

/** Every driver registered with `registerDriver`. */
export function registeredDrivers(): DriverSource[] {
  return [...new Set(registered.values())];
}

/** The driver names a source serves. */
export function driverNames(source: DriverSource): string[] {
  if (isLazyDriver(source)) return [source.driver, ...(source.aliases ?? [])];
  const { environment } = larderDriverOf(source, 'drivers');
  return [environment.driver, ...Object.keys(environment.aliases ?? {})];
}

/** The environment module of a source, when it has one at hand. */
export function environmentOf(source: DriverSource): DriverEnvironment | undefined {
  return isLazyDriver(source) ? source.environment : larderDriverOf(source, 'drivers').environment;
}

/** The factory of a source (loading a lazy one). */
export async function factoryOf(source: DriverSource): Promise<DriverFactory<never>> {
  const loaded = isLazyDriver(source) ? await source.load() : source;
  return larderDriverOf(loaded, isLazyDriver(source) ? source.driver : 'drivers') as DriverFactory<never>;
}

/** Throws `ConfigError` unless `value` is a driver source. */
export function checkDriverSource(value: unknown, where: string): asserts value is DriverSource {
  if (isLazyDriver(value)) return;
  larderDriverOf(value, where);
}

function isLazyDriver(value: unknown): value is LazyDriver {
  const lazy = value as LazyDriver | null;
  return (
    typeof lazy === 'object' && lazy !== null && typeof lazy.load === 'function' && typeof lazy.driver === 'string'
  );
}

/** `value` itself, or its `larderDriver` (a module), checked. */
function larderDriverOf(value: unknown, where: string): LarderDriver {
  const candidate = typeof value === 'function' ? value : (value as Partial<DriverModule> | null)?.larderDriver;
  const environment = (candidate as Partial<LarderDriver> | undefined)?.environment;
  if (typeof candidate !== 'function' || typeof environment?.driver !== 'string') {
    throw new ConfigError(
      `${where}: expected a driver package's larderDriver (or its module, e.g. import * as redis from '@larder/redis')`,
      where,
    );
  }
  return candidate as LarderDriver;
}

/** How many times `registerDriver` ran (what the environment list depends on changes only then). */
export function driverRegistrations(): number {
  return registrations;
}
