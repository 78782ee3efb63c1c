import { driverEnvironments, environmentSearch, environmentsGeneration } from './driver-environments';
import { checkDriverSource, type DriverSource, environmentOf } from './driver-registry';
import { type Env, envReader } from './env-reader';
import { L1_VARIABLES, l1FromEnv } from './l1-env';
import {
  BUILTIN_DRIVERS,
  type CacheManagerConfig,
  customDriver,
  type DriverEnvironment,
  type ManagerConfig,
  type StoreConfig,
} from './store-config';
import { VALUE_VARIABLES, valuesFromEnv } from './values-env';

/** Options of `configFromEnv`. */
export interface ConfigFromEnvOptions {
  /**
   * Drivers besides the built-in ones found installed: names of custom drivers the app registers
   * with `extend()`, and driver packages given explicitly (`import * as redis from '@larder/redis'`,
   * for bundles and layouts where larder cannot find them). `CACHE_DRIVER`, `SESSION_DRIVER` and
   * `SESSION_STORE` may name them; a custom name gets a store of that name (`{ driver: name }`);
   * the packages are passed on in the config's `drivers`. Any other unknown name fails at start-up.
   * @default []
   */
  drivers?: readonly (string | DriverSource)[];
  /** The app's folder, where built-in driver packages are looked for. @default the working directory, then the main script */
  root?: string;
  /**
   * Environment modules to use besides (or instead of, for the same driver name) the built-in
   * drivers' `<package>/env` entries found installed, e.g. `[larderEnv]` from `@larder/redis/env`
   * in a bundle. @default []
   */
  environments?: readonly DriverEnvironment[];
}

/** Variables of core itself; each driver package lists its own (`larderEnv.variables`). */
const CORE_VARIABLES = [
  'CACHE_DRIVER',
  'CACHE_STORE',
  'CACHE_PREFIX',
  'CACHE_TTL',
  'SESSION_DRIVER',
  'SESSION_STORE',
  'CACHE_BREAKER',
  ...L1_VARIABLES,
  ...VALUE_VARIABLES,
];

/** Every environment variable `configFromEnv` reads: core's, then those of each driver found. */
export function envVariables(options: ConfigFromEnvOptions = {}): string[] {
  const found = driverEnvironments(environmentsOf(options), options.root);
  return [...new Set([...CORE_VARIABLES, ...found.flatMap((e) => e.variables)])];
}

/** `envVariables()` with no options, kept until a driver environment is registered (discovery is not free). */
let cached: { generation: number; variables: string[] } | undefined;
function currentVariables(): string[] {
  const generation = environmentsGeneration();
  if (cached?.generation !== generation) cached = { generation, variables: envVariables() };
  return cached.variables;
}

/**
 * `envVariables()` as a read-only array (for `larder doctor` and docs/tests that list them). It
 * follows the drivers installed or registered: the list is computed on first use and again only
 * after a registration (the built-in drivers are found once per process).
 */
export const ENV_VARIABLES: readonly string[] = new Proxy([] as string[], {
  get: (_target, property) => Reflect.get(currentVariables(), property),
  has: (_target, property) => Reflect.has(currentVariables(), property),
  ownKeys: () => Reflect.ownKeys(currentVariables()),
  getOwnPropertyDescriptor: (_target, property) => Reflect.getOwnPropertyDescriptor(currentVariables(), property),
});

/**
 * Builds a `CacheManagerConfig` from environment variables (the README's variable table; Laravel's names
 * first). Every value is validated here, at start-up: a bad one throws `ConfigError` naming the
 * variable, its value (secrets redacted) and what is allowed. Empty variables count as unset.
 */
export function configFromEnv(env: Env = process.env, options: ConfigFromEnvOptions = {}): CacheManagerConfig {
  const read = envReader(env);
  const stores: Record<string, StoreConfig> = {};
  const aliases: Record<string, string> = {};
  const sessionAliases: Record<string, string> = {};
  for (const environment of driverEnvironments(environmentsOf(options), options.root)) {
    Object.assign(stores, environment.stores(read));
    Object.assign(aliases, environment.aliases);
    Object.assign(sessionAliases, environment.sessionAliases);
  }
  const packages: DriverSource[] = [];
  for (const entry of options.drivers ?? []) {
    if (typeof entry === 'string') stores[entry] ??= { driver: customDriver(entry) };
    else packages.push(entry);
  }
  const storeNames = [...Object.keys(stores), ...Object.keys(aliases)];

  const pickStore = (variable: string, value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    const name = aliases[value] ?? value;
    if (!(name in stores)) {
      const pkg = BUILTIN_DRIVERS[value];
      const searched = pkg === undefined ? undefined : environmentSearch(pkg, options.root);
      throw read.invalid(
        variable,
        value,
        `one of ${storeNames.join(', ')} (${
          pkg === undefined
            ? 'a custom driver must be listed in configFromEnv(env, { drivers: [...] })'
            : `'${value}' is the driver of ${pkg}, not found from ${searched?.join(', ') ?? 'the app'}: ` +
              `install it in the app, or pass it: configFromEnv(env, { drivers: [await import('${pkg}')] })`
        })`,
      );
    }
    return name;
  };

  const cacheDriver = read.string('CACHE_STORE') !== undefined ? 'CACHE_STORE' : 'CACHE_DRIVER';
  const defaultStore = pickStore(cacheDriver, read.string(cacheDriver)) ?? 'memory';
  const sessionDriver = read.string('SESSION_DRIVER');
  const sessionAlias = sessionDriver === undefined ? undefined : sessionAliases[sessionDriver];
  const sessionStore =
    pickStore('SESSION_STORE', read.string('SESSION_STORE')) ??
    (sessionAlias !== undefined && sessionAlias in stores
      ? sessionAlias
      : pickStore('SESSION_DRIVER', sessionDriver)) ??
    defaultStore;

  const l1 = l1FromEnv(read);
  if (l1 !== undefined) {
    // CACHE_L1=on: an L1 in front of the default store and the session store (ignored for in-process stores).
    for (const name of new Set([defaultStore, sessionStore]))
      stores[name] = { ...(stores[name] ?? { driver: customDriver(name) }), l1 };
  }
  const values = valuesFromEnv(read);
  // CACHE_CODEC, CACHE_COMPRESS*, CACHE_MAX_VALUE_BYTES: every store; CACHE_ENCRYPTION_KEYS: the
  // default store, and the session store with SESSION_ENCRYPT.
  for (const name of Object.keys(stores)) Object.assign(stores[name] as StoreConfig, values.options);
  // CACHE_BREAKER=on: the L2 breaker on every store (in-process stores have none).
  if (read.boolean('CACHE_BREAKER') === true)
    for (const name of Object.keys(stores)) stores[name] = { ...stores[name], breaker: true } as StoreConfig;
  const encrypted = new Set([defaultStore, ...(values.sessionEncrypt ? [sessionStore] : [])]);
  if (values.encrypt !== undefined) {
    for (const name of encrypted)
      stores[name] = { ...(stores[name] ?? { driver: customDriver(name) }), encrypt: values.encrypt };
  }
  const config: CacheManagerConfig = { default: defaultStore, sessionStore, stores };
  if (packages.length > 0) config.drivers = packages;
  const prefix = read.string('CACHE_PREFIX');
  if (prefix !== undefined) config.prefix = prefix;
  const ttl = read.duration('CACHE_TTL');
  if (ttl !== undefined) config.ttl = ttl;
  return config;
}

/** `options.environments` plus the environment modules of the driver packages in `options.drivers`. */
function environmentsOf(options: ConfigFromEnvOptions): DriverEnvironment[] {
  const environments = [...(options.environments ?? [])];
  for (const entry of options.drivers ?? []) {
    if (typeof entry === 'string') continue;
    checkDriverSource(entry, 'configFromEnv(env, { drivers })');
    const environment = environmentOf(entry);
    if (environment) environments.push(environment);
  }
  return environments;
}

/**
 * Types a manager config (an identity function, for editor help in config files): each store's
 * options are checked against its driver's entry in `LarderDrivers` (docs/architecture.md
 * "Typed store configs").
 */
export function defineConfig(config: ManagerConfig): ManagerConfig {
  return config;
}
