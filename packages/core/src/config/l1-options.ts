import { ConfigError, describe } from '../contract/errors';
import type { InvalidationMode, TrackingMode } from '../contract/invalidation';
import { parseTtl, type Ttl } from '../values/ttl';

/** The `l1` option of a store (docs/architecture.md "Two tiers"). */
export interface L1Options {
  /** Most entries kept. @default 10000 */
  maxEntries?: number;
  /** Most bytes kept (payload + key), a number or `'64mb'`, `'512kb'`. @default '64mb' */
  maxBytes?: number | string;
  /** Longest life of an entry: the staleness bound if an invalidation is lost. @default '1m' */
  ttl?: Ttl;
  /** `tracking` (Redis), `bus` (Redis pub/sub at `busUrl`) or `none` (TTL only). @default tracking on Redis, bus with a `busUrl`, else none */
  invalidation?: InvalidationMode;
  /** `redis://` URL of the bus (`CACHE_BUS_URL`). */
  busUrl?: string;
  /**
   * With `tracking`: `broadcast` (every write under the prefix notifies every instance) or `readers`
   * (Redis notifies only the instances that read the key; single node or Sentinel without replica
   * reads). See the README's fleet table for the trade. @default 'broadcast'
   */
  tracking?: TrackingMode;
  /** How long the L1 serves after its last successful lease renewal began (renewed every third of it while the channel is up); the longest a hard invalidation waits for a silent instance. @default '2s' */
  lease?: Ttl;
}

/** `L1Options` validated, with defaults (the mode is settled once the store is known). */
export interface ResolvedL1Options {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  invalidation: InvalidationMode | undefined;
  busUrl: string | undefined;
  tracking: TrackingMode;
  leaseMs: number;
}

export const DEFAULT_L1_MAX_ENTRIES = 10_000;
export const DEFAULT_L1_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_L1_TTL_MS = 60_000;
export const DEFAULT_L1_LEASE_MS = 2_000;
const MODES: readonly InvalidationMode[] = ['tracking', 'bus', 'none'];
/** The values of `l1.tracking` (`CACHE_L1_TRACKING`). */
export const TRACKING_MODES: readonly TrackingMode[] = ['broadcast', 'readers'];
const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Parses a byte size: a positive integer or `<n>b|kb|mb|gb`; `undefined` when malformed. */
export function parseBytes(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(String(value).trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * (UNITS[(match[2] ?? 'b').toLowerCase()] as number));
  return bytes > 0 ? bytes : undefined;
}

/** Validates the `l1` option; `ConfigError` naming the field. */
export function resolveL1Options(options: L1Options): ResolvedL1Options {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(`l1 must be an object, got ${describe(options)}`, 'l1');
  }
  const maxEntries = options.maxEntries ?? DEFAULT_L1_MAX_ENTRIES;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new ConfigError(`l1.maxEntries must be a positive integer, got ${describe(maxEntries)}`, 'l1.maxEntries');
  }
  const maxBytes = parseBytes(options.maxBytes ?? DEFAULT_L1_MAX_BYTES);
  if (maxBytes === undefined) {
    throw new ConfigError(
      `l1.maxBytes must be a positive size such as '64mb', got ${describe(options.maxBytes)}`,
      'l1.maxBytes',
    );
  }
  const ttlMs = options.ttl === undefined ? DEFAULT_L1_TTL_MS : parseTtl(options.ttl);
  const invalidation = options.invalidation;
  if (invalidation !== undefined && !MODES.includes(invalidation)) {
    throw new ConfigError(
      `l1.invalidation must be one of ${MODES.join(', ')}, got ${describe(invalidation)}`,
      'l1.invalidation',
    );
  }
  if (invalidation === 'bus' && options.busUrl === undefined) {
    throw new ConfigError("l1.invalidation 'bus' needs l1.busUrl (CACHE_BUS_URL)", 'l1.busUrl');
  }
  const tracking = options.tracking ?? 'broadcast';
  if (!TRACKING_MODES.includes(tracking)) {
    throw new ConfigError(
      `l1.tracking must be one of ${TRACKING_MODES.join(', ')}, got ${describe(tracking)}`,
      'l1.tracking',
    );
  }
  const leaseMs = options.lease === undefined ? DEFAULT_L1_LEASE_MS : parseTtl(options.lease);
  if (leaseMs < 30) throw new ConfigError(`l1.lease must be at least 30ms, got ${describe(options.lease)}`, 'l1.lease');
  return { maxEntries, maxBytes, ttlMs, invalidation, busUrl: options.busUrl, tracking, leaseMs };
}
