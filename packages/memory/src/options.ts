import { ConfigError } from '@larder/core';
import type { CommonStoreOptions } from '@larder/core/driver';

/** Options of `createMemoryStore`, and of a `memory` store in a manager config (`MemoryDriverConfig`). */
export interface MemoryStoreOptions extends CommonStoreOptions {
  /** Most entries kept; the least recently used are evicted. @default 10_000 */
  maxEntries?: number;
  /** Most bytes kept, counted as key length + payload length (approximate). @default 67_108_864 (64 MiB) */
  maxBytes?: number;
  /** Largest single payload in bytes; larger values fail with `ValueTooLargeError`. @default min(8 MiB, maxBytes) */
  maxValueBytes?: number;
  /** Longest key in UTF-8 bytes. @default 65_536 */
  maxKeyBytes?: number;
  /**
   * `true` deep-copies values in on write and out on read (same result as a JSON codec round
   * trip, several times faster), so later mutation never reaches the cache. `false` keeps the
   * caller's references: fastest, but mutating a value after `set` or after `get` changes the
   * cached value. Both keep values uncoded (`capabilities.rawValues`). @default true
   */
  clone?: boolean;
  /**
   * Store encoded payloads instead: the facade's codec runs on every write and read (slower,
   * exact byte sizes). Implied when the store config sets a custom `codec`. @default false
   */
  useCodec?: boolean;
  /** Estimated size in bytes of one non-string value with `clone: false` (not walked, for speed). @default 1024 */
  rawValueBytes?: number;
}

/** Options after defaults and validation. */
export interface ResolvedMemoryOptions {
  maxEntries: number;
  maxBytes: number;
  maxValueBytes: number;
  maxKeyBytes: number;
  /** How values are kept: encoded payloads, deep copies, or the caller's references. */
  mode: 'codec' | 'clone' | 'reference';
  rawValueBytes: number;
}

export const MEMORY_DEFAULTS = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxValueBytes: 8 * 1024 * 1024,
  maxKeyBytes: 64 * 1024,
  rawValueBytes: 1024,
} as const;

/** Applies defaults and checks every option once (a `ConfigError` names the bad one). */
export function resolveOptions(options: MemoryStoreOptions): ResolvedMemoryOptions {
  const maxEntries = positiveInt(options.maxEntries ?? MEMORY_DEFAULTS.maxEntries, 'maxEntries');
  const maxBytes = positiveInt(options.maxBytes ?? MEMORY_DEFAULTS.maxBytes, 'maxBytes');
  const maxValueBytes = positiveInt(
    options.maxValueBytes ?? Math.min(MEMORY_DEFAULTS.maxValueBytes, maxBytes),
    'maxValueBytes',
  );
  if (maxValueBytes > maxBytes) {
    throw new ConfigError(
      `memory store: maxValueBytes (${maxValueBytes}) must not exceed maxBytes (${maxBytes})`,
      'maxValueBytes',
    );
  }
  const maxKeyBytes = positiveInt(options.maxKeyBytes ?? MEMORY_DEFAULTS.maxKeyBytes, 'maxKeyBytes');
  const rawValueBytes = positiveInt(options.rawValueBytes ?? MEMORY_DEFAULTS.rawValueBytes, 'rawValueBytes');
  for (const name of ['clone', 'useCodec'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new ConfigError(`memory store: ${name} must be true or false, got ${String(options[name])}`, name);
    }
  }
  // A custom codec in the store config only takes effect if values go through the codec.
  const mode = options.useCodec || options.codec ? 'codec' : options.clone === false ? 'reference' : 'clone';
  return { maxEntries, maxBytes, maxValueBytes, maxKeyBytes, mode, rawValueBytes };
}

function positiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`memory store: ${name} must be a positive integer, got ${String(value)}`, name);
  }
  return value;
}
