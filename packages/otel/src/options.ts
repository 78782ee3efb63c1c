import type { MeterProvider, TracerProvider } from '@opentelemetry/api';

/** Maps a key to its group (`'user:123'` → `'user:*'`); `undefined` = no match, try the next rule. */
export type KeyGroupRule = readonly [pattern: RegExp, group: string] | ((key: string) => string | undefined);

/** Options of `instrumentLarder`. */
export interface InstrumentLarderOptions {
  /** Where spans go. @default the global tracer provider */
  tracerProvider?: TracerProvider;
  /** Where metrics go. @default the global meter provider */
  meterProvider?: MeterProvider;
  /** Put the key's group on spans as `larder.key` (the store must also have `traceKeys: true`). Never on metrics. @default false */
  traceKeys?: boolean;
  /** Rules that turn a key into its group, first match wins; unmatched keys get `defaultKeyGroup`. */
  keyGroups?: readonly KeyGroupRule[];
  /** Start a span only when the operation runs under a parent span (a request, a job). @default true */
  requireParentSpan?: boolean;
  /** Caches whose L1 size `larder.l1.entries` reports (`describeL1()` at each collection) and whose server spans name (`describe()` once: `server.address`, `server.port`). */
  caches?: readonly DescribedCache[];
}

/** What `instrumentLarder` reads of a `Cache` given in `caches`. */
export interface DescribedCache {
  readonly name: string;
  describeL1(): Promise<{ entries: number } | undefined>;
  describe?(): Promise<{ topology: { nodes: { address: string; role: string }[] } }>;
}

/** `host:port` (IPv6 in brackets) → host and port. */
export function splitAddress(address: string): { host: string; port: number | undefined } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  return match ? { host: match[1] as string, port: Number(match[2]) } : { host: address, port: undefined };
}

/** `server.address` and `server.port` of a `host:port` address (`undefined` for none). */
export function serverAttributes(
  address: string | undefined,
): { 'server.address': string; 'server.port'?: number } | undefined {
  if (address === undefined) return undefined;
  const { host, port } = splitAddress(address);
  return port === undefined ? { 'server.address': host } : { 'server.address': host, 'server.port': port };
}

/** The group of a key by `rules`, else every `:`-separated segment holding a digit becomes `*` (`user:123` → `user:*`). */
export function keyGroup(key: string, rules: readonly KeyGroupRule[] | undefined): string {
  if (rules !== undefined) {
    for (const rule of rules) {
      if (typeof rule === 'function') {
        const group = rule(key);
        if (group !== undefined) return group;
      } else if (rule[0].test(key)) {
        return rule[1];
      }
    }
  }
  return defaultKeyGroup(key);
}

/** `user:123:profile` → `user:*:profile`: segments with a digit are ids. */
export function defaultKeyGroup(key: string): string {
  return key
    .split(':')
    .map((segment) => (/\d/.test(segment) ? '*' : segment))
    .join(':');
}

/** OTel `db.system.name` of a larder driver (custom drivers keep their own name). */
export function dbSystemName(driver: string): string {
  return driver === 'dynamodb' ? 'aws.dynamodb' : driver;
}
