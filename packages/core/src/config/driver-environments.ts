import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { DriverEnvironment } from './env-reader';
import { BUILTIN_DRIVERS } from './manager';

// Registered by hand (tests that import drivers from source, bundles with static imports), by driver name.
const registered = new Map<string, DriverEnvironment>();
// What `require` found per built-in package (null: not installed), looked up once per process.
const loaded = new Map<string, DriverEnvironment | null>();

/**
 * Registers a driver's environment module (`import { larderEnv } from '@larder/redis/env'`), for
 * bundles and tests where `configFromEnv` cannot `require` the driver package itself. It replaces
 * the built-in one of the same driver name.
 */
export function registerDriverEnvironment(environment: DriverEnvironment): void {
  registered.set(environment.driver, environment);
}

/**
 * The environment modules of the built-in drivers that are installed (or registered), then
 * `extra` (which wins for a driver name it shares). Loaded synchronously: `configFromEnv` is sync.
 */
export function driverEnvironments(extra: readonly DriverEnvironment[] = []): DriverEnvironment[] {
  const byDriver = new Map<string, DriverEnvironment>();
  const packages = new Map<string, string[]>();
  for (const [driver, pkg] of Object.entries(BUILTIN_DRIVERS))
    packages.set(pkg, [...(packages.get(pkg) ?? []), driver]);
  for (const [pkg, drivers] of packages) {
    const own = drivers.map((driver) => registered.get(driver)).find((env) => env !== undefined);
    const environment = own ?? load(pkg);
    if (environment) byDriver.set(environment.driver, environment);
  }
  for (const environment of registered.values()) byDriver.set(environment.driver, environment);
  for (const environment of extra) byDriver.set(environment.driver, environment);
  return [...byDriver.values()];
}

function load(pkg: string): DriverEnvironment | undefined {
  if (!loaded.has(pkg)) loaded.set(pkg, requireEnv(pkg));
  return loaded.get(pkg) ?? undefined;
}

/**
 * Requires `<pkg>/env` from core's own location, else from the app's (the working directory and
 * the main script): a strict layout (pnpm) lets core see only its own dependencies, and core
 * lists no driver. Node >= 20.19 can `require` the ESM build.
 */
function requireEnv(pkg: string): DriverEnvironment | null {
  const bases = [import.meta.url, join(process.cwd(), 'noop.js')];
  if (process.argv[1]) bases.push(process.argv[1]);
  for (const base of bases) {
    let mod: { larderEnv?: DriverEnvironment };
    try {
      mod = createRequire(base)(`${pkg}/env`) as { larderEnv?: DriverEnvironment };
    } catch (error) {
      if (isNotFound(error)) continue;
      throw error;
    }
    if (mod?.larderEnv && typeof mod.larderEnv.stores === 'function') return mod.larderEnv;
  }
  return null;
}

/** Not installed here, or installed without a built `./env` entry: look elsewhere, else skip the driver. */
function isNotFound(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
}
