import type { MemoryDriverConfig } from '@larder/core';

/** Options of `createMemoryStore` (the `memory` driver's config minus `driver`). */
export interface MemoryStoreOptions extends Omit<MemoryDriverConfig, 'driver'> {
  /** Most entries kept; the least recently used are evicted. @default 10_000 */
  maxEntries?: number;
  /** Most bytes kept, counted as key length + payload length (approximate). @default 67_108_864 (64 MiB) */
  maxBytes?: number;
  /** Largest single payload in bytes; larger values fail with `ValueTooLargeError`. @default min(8 MiB, maxBytes) */
  maxValueBytes?: number;
  /** Longest key in UTF-8 bytes. @default 65_536 */
  maxKeyBytes?: number;
  /**
   * `true` stores the encoded payload (the facade's codec runs on every write and read), so values
   * are isolated from later mutation. `false` stores the caller's object references as they are
   * (`capabilities.rawValues`): fastest, but mutating a value after `set` or after `get` changes
   * the cached value. @default true
   */
  clone?: boolean;
  /** Estimated size in bytes of one non-string raw value (only with `clone: false`). @default 1024 */
  rawValueBytes?: number;
}

/** Options after defaults and validation. */
export interface ResolvedMemoryOptions {
  maxEntries: number;
  maxBytes: number;
  maxValueBytes: number;
  maxKeyBytes: number;
  clone: boolean;
  rawValueBytes: number;
}

export const MEMORY_DEFAULTS = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxValueBytes: 8 * 1024 * 1024,
  maxKeyBytes: 64 * 1024,
  rawValueBytes: 1024,
} as const;
