import { InvalidTtlError } from '../contract/errors';

/** A TTL as the public API takes it: milliseconds, or a duration such as '500ms' '30s' '10m' '2h' '1d'. */
export type Ttl = number | `${number}${DurationUnit}`;

type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w';

const UNIT_MS: Record<DurationUnit, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/;

/** Converts a TTL (or text read from a config, e.g. an environment variable) to whole milliseconds (> 0), or throws `InvalidTtlError`. */
export function parseTtl(ttl: Ttl | string): number {
  let ms: number;
  if (typeof ttl === 'number') {
    ms = ttl;
  } else if (typeof ttl === 'string') {
    const match = DURATION.exec(ttl);
    if (!match) throw new InvalidTtlError(ttl);
    ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
  } else {
    throw new InvalidTtlError(ttl);
  }
  if (!Number.isFinite(ms) || ms <= 0 || ms > Number.MAX_SAFE_INTEGER) throw new InvalidTtlError(ttl);
  return Math.ceil(ms);
}
