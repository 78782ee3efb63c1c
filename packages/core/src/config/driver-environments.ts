import { driverRegistrations, environmentOf, registeredDrivers } from './driver-registry';
import { requireFromApp } from './driver-resolution';
import type { DriverEnvironment } from './store-config';
import { BUILTIN_DRIVERS } from './store-config';

// Registered by hand (tests that import drivers from source, bundles with static imports), by driver name.
const registered = new Map<string, DriverEnvironment>();
// What `require` found per app root and built-in package: the module, or where it looked.
const loaded = new Map<string, { environment: DriverEnvironment } | { searched: string[] }>();
// Bumped by every registration here; registerDriver counts its own (see environmentsGeneration).
let generation = 0;

/** A number that changes whenever a driver or driver environment is registered (to cache what depends on them). */
export function environmentsGeneration(): number {
  return generation + driverRegistrations();
}

/**
 * Registers a driver's environment module (`import { larderEnv } from '@larder/redis/env'`), for
 * bundles and tests where `configFromEnv` cannot `require` the driver package itself. It replaces
 * the built-in one of the same driver name.
 */
export function registerDriverEnvironment(environment: DriverEnvironment): void {
  registered.set(environment.driver, environment);
  generation++;
}

/**
 * The environment modules of the built-in drivers that are installed (found from the app, see
 * driver-resolution.ts) or registered (`registerDriverEnvironment`, `registerDriver`), then `extra`
 * (which wins for a driver name it shares). Loaded synchronously: `configFromEnv` is sync.
 */
export function driverEnvironments(extra: readonly DriverEnvironment[] = [], root?: string): DriverEnvironment[] {
  const known = new Map<string, DriverEnvironment>();
  for (const source of registeredDrivers()) {
    const environment = environmentOf(source);
    if (environment) known.set(environment.driver, environment);
  }
  for (const [driver, environment] of registered) known.set(driver, environment);
  const byDriver = new Map<string, DriverEnvironment>();
  for (const [pkg, drivers] of builtinPackages()) {
    const own = drivers.map((driver) => known.get(driver)).find((env) => env !== undefined);
    const environment = own ?? lookUp(pkg, root);
    if (environment) byDriver.set(environment.driver, environment);
  }
  for (const environment of known.values()) byDriver.set(environment.driver, environment);
  for (const environment of extra) byDriver.set(environment.driver, environment);
  return [...byDriver.values()];
}

/** Where `configFromEnv` looked for a built-in package's `/env` entry and did not find it (undefined: found). */
export function environmentSearch(pkg: string, root?: string): string[] | undefined {
  lookUp(pkg, root);
  const result = loaded.get(key(pkg, root));
  return result && 'searched' in result ? result.searched : undefined;
}

function builtinPackages(): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  for (const [driver, pkg] of Object.entries(BUILTIN_DRIVERS))
    packages.set(pkg, [...(packages.get(pkg) ?? []), driver]);
  return packages;
}

const key = (pkg: string, root: string | undefined) => `${root ?? ''}\0${pkg}`;

/** `<pkg>/env` as the app sees it, looked up once per process and root. */
function lookUp(pkg: string, root: string | undefined): DriverEnvironment | undefined {
  const id = key(pkg, root);
  let result = loaded.get(id);
  if (!result) {
    const found = requireFromApp<{ larderEnv?: DriverEnvironment }>(`${pkg}/env`, root);
    const environment = found.found ? found.module?.larderEnv : undefined;
    result =
      environment && typeof environment.stores === 'function'
        ? { environment }
        : { searched: found.found ? [`${found.path} (no larderEnv export)`] : found.searched };
    loaded.set(id, result);
  }
  return 'environment' in result ? result.environment : undefined;
}
