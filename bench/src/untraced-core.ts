/**
 * Two copies of packages/core/src for the memory scenario's tracing rows, loaded and built the
 * same way (a temporary directory, `new Cache({ store: createMemoryStore() })`): `traced` as it
 * is, `untraced` with cache/cache.ts reading `false` instead of `operationChannel.hasSubscribers`. V8
 * compiles no code for an `if (false)` branch, so the untraced copy's facade methods are the
 * traced ones minus the check: the difference between the two rows is the cost of the tracing
 * code with no subscriber. (The `larder` row comes from the workspace core through the manager:
 * not the same build, so it is not the reference for this comparison.)
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Cache, CacheOptions } from '@larder/core';

const CORE_SRC = fileURLToPath(new URL('../../packages/core/src/', import.meta.url));

/** Loads a copy of core (`untraced`: without the tracing check); `dispose` removes it. */
export async function coreCopy(
  kind: 'traced' | 'untraced',
): Promise<{ Cache: new (options: CacheOptions) => Cache; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), `larder-core-${kind}-`));
  cpSync(CORE_SRC, dir, { recursive: true });
  const file = join(dir, 'cache', 'cache.ts');
  if (kind === 'untraced') {
    const source = readFileSync(file, 'utf8');
    const stripped = source.replaceAll('operationChannel.hasSubscribers', 'false');
    if (stripped === source) throw new Error('core copy: no tracing check found in cache/cache.ts');
    writeFileSync(file, stripped);
  }
  const module = (await import(pathToFileURL(file).href)) as { Cache: new (options: CacheOptions) => Cache };
  return { Cache: module.Cache, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
