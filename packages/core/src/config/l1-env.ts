import type { InvalidationMode } from '../contract/invalidation';
import type { EnvReader } from './env-reader';
import { type L1Options, parseBytes, TRACKING_MODES } from './l1-options';

/** The L1 variables core reads (docs/architecture.md "Two tiers"). */
export const L1_VARIABLES = [
  'CACHE_L1',
  'CACHE_L1_MAX_ENTRIES',
  'CACHE_L1_MAX_BYTES',
  'CACHE_L1_TTL',
  'CACHE_L1_INVALIDATION',
  'CACHE_L1_TRACKING',
  'CACHE_BUS_URL',
] as const;

const MODES: readonly InvalidationMode[] = ['tracking', 'bus', 'none'];

/** The `l1` option from `CACHE_L1*` and `CACHE_BUS_URL` when `CACHE_L1` is on; every variable is validated either way (`ConfigError` naming it). */
export function l1FromEnv(read: EnvReader): L1Options | undefined {
  const on = read.boolean('CACHE_L1') ?? false;
  const options: L1Options = {};
  const entries = read.string('CACHE_L1_MAX_ENTRIES');
  if (entries !== undefined) {
    if (!/^\d+$/.test(entries) || Number(entries) < 1 || !Number.isSafeInteger(Number(entries))) {
      throw read.invalid('CACHE_L1_MAX_ENTRIES', entries, 'a positive integer, e.g. 10000');
    }
    options.maxEntries = Number(entries);
  }
  const bytes = read.string('CACHE_L1_MAX_BYTES');
  if (bytes !== undefined) {
    const parsed = parseBytes(bytes);
    if (parsed === undefined)
      throw read.invalid('CACHE_L1_MAX_BYTES', bytes, "a size such as '64mb', '512kb' or a byte count");
    options.maxBytes = parsed;
  }
  const ttl = read.duration('CACHE_L1_TTL');
  if (ttl !== undefined) options.ttl = ttl;
  const mode = read.string('CACHE_L1_INVALIDATION');
  if (mode !== undefined) {
    if (!MODES.includes(mode as InvalidationMode)) throw read.invalid('CACHE_L1_INVALIDATION', mode, MODES.join(', '));
    options.invalidation = mode as InvalidationMode;
  }
  const tracking = read.string('CACHE_L1_TRACKING');
  if (tracking !== undefined) {
    const known = TRACKING_MODES.find((name) => name === tracking);
    if (known === undefined) throw read.invalid('CACHE_L1_TRACKING', tracking, TRACKING_MODES.join(', '));
    options.tracking = known;
  }
  const busUrl = read.url('CACHE_BUS_URL', ['redis:', 'rediss:']);
  if (busUrl !== undefined) options.busUrl = busUrl;
  if (options.invalidation === 'bus' && busUrl === undefined) {
    throw read.error('CACHE_L1_INVALIDATION=bus needs CACHE_BUS_URL (a redis:// URL of the bus)', 'CACHE_BUS_URL');
  }
  return on ? options : undefined;
}
