// The memcached cross-field rules, one resolver with two entrances: `MEMCACHED_*` variables
// (env.ts, errors from the EnvReader, so the light `/env` entry imports nothing from core at run
// time) and options given in code (options.ts). Both name the field the way the caller wrote it.

/** The options the rules read (a `MemcachedStoreOptions`, or what `MEMCACHED_*` variables give). */
export interface RuleOptions {
  configEndpoint?: string | undefined;
  discoveryInterval?: unknown;
  username?: string | undefined;
  password?: string | undefined;
}

/** A field the rules name. */
export type RuleField = keyof RuleOptions;

/** One entrance: how it names each field and builds its error (a `ConfigError`). */
export interface RuleEntrance {
  readonly names: Readonly<Record<RuleField, string>>;
  error(message: string, field: RuleField): Error;
}

/** What each field is called in the environment. */
export const ENV_NAMES: Readonly<Record<RuleField, string>> = {
  configEndpoint: 'MEMCACHED_CONFIG_ENDPOINT',
  discoveryInterval: 'MEMCACHED_DISCOVERY_INTERVAL',
  username: 'MEMCACHED_USERNAME',
  password: 'MEMCACHED_PASSWORD',
};

/** What each field is called in code. */
export const OPTION_NAMES: Readonly<Record<RuleField, string>> = {
  configEndpoint: 'configEndpoint',
  discoveryInterval: 'discoveryInterval',
  username: 'username',
  password: 'password',
};

/** A discovery interval only with a configuration endpoint; SASL needs both a user name and a password. */
export function checkRules(options: RuleOptions, entrance: RuleEntrance): void {
  const name = entrance.names;
  if (options.discoveryInterval !== undefined && options.configEndpoint === undefined) {
    throw entrance.error(`${name.discoveryInterval} is set but ${name.configEndpoint} is not`, 'discoveryInterval');
  }
  if ((options.username === undefined) !== (options.password === undefined)) {
    const missing = options.username === undefined ? 'username' : 'password';
    throw entrance.error(`SASL needs both ${name.username} and ${name.password}; ${name[missing]} is not set`, missing);
  }
}
