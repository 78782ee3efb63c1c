import { DriverNotFoundError } from '../contract/errors';
import type { DriverFactory } from '../contract/store';
import { checkDriverSource, type DriverSource, factoryOf } from './driver-registry';
import { requireFromApp } from './driver-resolution';

/** Loads a driver package; replaceable for tests and bundlers that need static imports. */
export type DriverImporter = (packageName: string) => Promise<{ larderDriver?: unknown }>;

/** How `loadPackageDriver` finds a package. */
export interface PackageLoading {
  /** A custom loader (replaces the search from the app). */
  importDriver?: DriverImporter | undefined;
  /** The app's folder. @default the working directory, then the main script */
  root?: string | undefined;
  /** Every driver name the manager knows, for the error. */
  registered: readonly string[];
}

/**
 * The factory of built-in driver `driver` from its package: found from the app (see
 * driver-resolution.ts) unless `importDriver` is given. Its errors say what was searched and
 * where, and name what to install only when it is not installed.
 */
export async function loadPackageDriver(
  driver: string,
  packageName: string,
  loading: PackageLoading,
): Promise<DriverFactory<never>> {
  if (loading.importDriver) return viaImporter(driver, packageName, loading.importDriver, loading.registered);
  let found: ReturnType<typeof requireFromApp<unknown>>;
  try {
    found = requireFromApp<unknown>(packageName, loading.root);
  } catch (error) {
    // Installed, but it (or a dependency of it) failed to load.
    const missing = missingModule(error, packageName);
    if (missing === undefined || missing === packageName) throw error;
    throw new DriverNotFoundError(driver, loading.registered, missing, {
      cause: error,
      detail: `${packageName} is installed, but its dependency ${missing} is not: install ${missing} in the app.`,
    });
  }
  if (!found.found) {
    throw new DriverNotFoundError(driver, loading.registered, packageName, {
      detail:
        `${packageName} was not found from ${found.searched.join(', ')}. Install it in the app ` +
        `(npm install ${packageName}), or pass it to the manager: createCacheManager({ drivers: [await import('${packageName}')], ... }).`,
    });
  }
  return asFactory(driver, packageName, found.module, loading.registered, found.path);
}

/** The factory of a driver given explicitly (`drivers: [...]`, `registerDriver`). */
export function loadSourceDriver(source: DriverSource, where: string): Promise<DriverFactory<never>> {
  checkDriverSource(source, where);
  return factoryOf(source);
}

async function viaImporter(
  driver: string,
  packageName: string,
  importDriver: DriverImporter,
  registered: readonly string[],
): Promise<DriverFactory<never>> {
  let mod: unknown;
  try {
    mod = await importDriver(packageName);
  } catch (error) {
    const missing = missingModule(error, packageName);
    if (missing === undefined) throw error;
    // The driver package itself, or one of its peer dependencies (e.g. ioredis), is not installed.
    const install = missing === packageName || missing.startsWith(`${packageName}/`) ? packageName : missing;
    throw new DriverNotFoundError(driver, registered, install, { cause: error });
  }
  return asFactory(driver, packageName, mod, registered, packageName);
}

function asFactory(
  driver: string,
  packageName: string,
  mod: unknown,
  registered: readonly string[],
  where: string,
): DriverFactory<never> {
  const factory = (mod as { larderDriver?: unknown } | undefined)?.larderDriver;
  if (typeof factory !== 'function') {
    throw new DriverNotFoundError(driver, registered, packageName, {
      cause: new Error(`${where} does not export a larderDriver function`),
      detail: `${packageName} (${where}) does not export a larderDriver function: is it a larder driver package?`,
    });
  }
  return factory as DriverFactory<never>;
}

/**
 * Name of the package a "module not found" error is about, else undefined. A missing file inside
 * the driver package itself (an unbuilt or broken install) counts as the driver package missing.
 */
function missingModule(error: unknown, packageName: string): string | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  const text = typeof message === 'string' ? message : '';
  const name = /Cannot find (?:package|module) '([^']+)'/.exec(text)?.[1];
  if (name === undefined) return undefined;
  if (name.includes(`/node_modules/${packageName}/`)) return packageName;
  if (name.startsWith('/') || name.startsWith('.') || /^[A-Za-z]:[\\/]/.test(name)) return undefined;
  return name
    .split('/')
    .slice(0, name.startsWith('@') ? 2 : 1)
    .join('/');
}
