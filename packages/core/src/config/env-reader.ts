import { ConfigError } from '../contract/errors';
import { redactEnvValue } from '../util/redact';
import { checkUrlUserinfo } from '../util/url-userinfo';
import { parseTtl } from '../values/ttl';

/** An environment: `process.env` or any plain record of strings. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A network address. */
export interface HostPort {
  host: string;
  port: number;
}

/** Reads and validates environment variables; every error is a `ConfigError` naming the variable. */
export interface EnvReader {
  /** The trimmed value, or undefined when unset or empty. */
  string(name: string): string | undefined;
  /** A comma-separated list with no empty items. */
  list(name: string): string[] | undefined;
  /** A URL with one of `protocols` (e.g. `['redis:', 'rediss:']`) naming a host. */
  url(name: string, protocols: readonly string[]): string | undefined;
  /** A comma-separated list of such URLs. */
  urls(name: string, protocols: readonly string[]): string[] | undefined;
  /** One `host:port` (port optional), as `host:port` with the port filled in (IPv6 in brackets). */
  address(name: string, defaultPort: number): string | undefined;
  /** A comma-separated list of such addresses. */
  addresses(name: string, defaultPort: number): string[] | undefined;
  /** One `host:port` (port optional). */
  hostPort(name: string, defaultPort: number): HostPort | undefined;
  /** A comma-separated list of `host:port`. */
  hostPorts(name: string, defaultPort: number): HostPort[] | undefined;
  /** A duration with a unit (`'30s'`), in ms; bare numbers are refused as ambiguous unless `bareNumbers: 'ms'`. */
  duration(name: string, options?: { bareNumbers?: 'ms' }): number | undefined;
  /** true/false, 1/0, yes/no, on/off (any case). */
  boolean(name: string): boolean | undefined;
  /** A `ConfigError` for a bad value: names the variable, the value (secrets redacted) and what is allowed. */
  invalid(name: string, value: string, allowed: string): ConfigError;
  /** A `ConfigError` about variable `name` (e.g. two variables that conflict). */
  error(message: string, name: string): ConfigError;
}

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

/** Parses `host:port`, `host` (with `defaultPort`) or `[ipv6]:port`; undefined when malformed. */
export function parseHostPort(text: string, defaultPort?: number): HostPort | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/[\]@]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (!match) return undefined;
  if (match[3] === undefined && defaultPort === undefined) return undefined;
  const port = match[3] === undefined ? (defaultPort as number) : Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** An `EnvReader` over `env`; empty variables count as unset. */
export function envReader(env: Env): EnvReader {
  const string = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const invalid = (name: string, value: string, allowed: string): ConfigError =>
    new ConfigError(`Invalid ${name}='${redactEnvValue(name, value)}': expected ${allowed}`, name);
  const list = (name: string): string[] | undefined => {
    const value = string(name);
    if (value === undefined) return undefined;
    const items = value.split(',').map((item) => item.trim());
    if (items.some((item) => item === '')) throw invalid(name, value, 'a comma-separated list with no empty items');
    return items;
  };
  const checkUrl = (name: string, value: string, protocols: readonly string[]): string => {
    const allowed = `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')} and naming a host`;
    // Before anything prints it: a password with an unencoded '/' or '@' would be half-shown.
    checkUrlUserinfo(value, name);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw invalid(name, value, allowed);
    }
    if (!protocols.includes(url.protocol) || url.hostname === '') throw invalid(name, value, allowed);
    return value;
  };
  // `user:password@host` in a host variable: credentials have their own variables, and a password
  // with a space or a comma could not be hidden reliably in a message, so none of it is shown.
  const hosts = (name: string): string | undefined => {
    const value = string(name);
    if (value?.includes('@')) {
      throw new ConfigError(
        `Invalid ${name}: host:port items cannot carry a user or password (an '@' was found); ` +
          'the value is not shown: it may hold a secret',
        name,
      );
    }
    return value;
  };
  const hostList = (name: string): string[] | undefined => (hosts(name) === undefined ? undefined : list(name));
  const checkHostPort = (name: string, value: string, defaultPort: number): HostPort => {
    const parsed = parseHostPort(value, defaultPort);
    if (!parsed) {
      throw invalid(name, value, `host:port (port 1-65535; default ${defaultPort}), e.g. '10.0.0.1:${defaultPort}'`);
    }
    return parsed;
  };
  return {
    string,
    list,
    invalid,
    error: (message, name) => new ConfigError(message, name),
    url: (name, protocols) => {
      const value = string(name);
      return value === undefined ? undefined : checkUrl(name, value, protocols);
    },
    urls: (name, protocols) => list(name)?.map((item) => checkUrl(name, item, protocols)),
    hostPort: (name, defaultPort) => {
      const value = hosts(name);
      return value === undefined ? undefined : checkHostPort(name, value, defaultPort);
    },
    hostPorts: (name, defaultPort) => hostList(name)?.map((item) => checkHostPort(name, item, defaultPort)),
    address: (name, defaultPort) => {
      const value = hosts(name);
      return value === undefined ? undefined : formatHostPort(checkHostPort(name, value, defaultPort));
    },
    addresses: (name, defaultPort) =>
      hostList(name)?.map((item) => formatHostPort(checkHostPort(name, item, defaultPort))),
    duration: (name, options = {}) => {
      const value = string(name);
      if (value === undefined) return undefined;
      if (options.bareNumbers === 'ms' && /^\d+$/.test(value)) return Number(value);
      // A bare number is refused: Laravel reads seconds, our API reads ms; an explicit unit ends the confusion.
      const allowed = `${options.bareNumbers === 'ms' ? 'ms or ' : ''}a duration with a unit, such as '500ms', '30s', '10m', '2h', '1d'`;
      if (/^\d+(\.\d+)?$/.test(value)) throw invalid(name, value, `${allowed} (bare numbers are ambiguous)`);
      try {
        return parseTtl(value);
      } catch {
        throw invalid(name, value, allowed);
      }
    },
    boolean: (name) => {
      const value = string(name);
      if (value === undefined) return undefined;
      const parsed = BOOLEAN_WORDS[value.toLowerCase()];
      if (parsed === undefined) throw invalid(name, value, 'true/false, 1/0, yes/no or on/off');
      return parsed;
    },
  };
}
