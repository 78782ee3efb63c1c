import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Finds driver packages the way the app would: from the app first (its working directory, then
 * its main script), and only then from core's own folder. Core declares no dependency on any
 * driver, so in a strict layout (pnpm with `hoist=false`, Yarn PnP) core's folder sees none of
 * them, while the app, which installed them, does. `require` loads the ESM build (Node >= 20.19):
 * the one module instance an `import` of the same package would give.
 */

/** One place a package is looked for. */
interface Base {
  /** What it is, for messages (`the working directory /srv/app`). */
  label: string;
  /** A file path whose folder `require` resolves from. */
  file: string;
}

/** What a search found: the module and where, or where it looked. */
export type Found<T> = { found: true; module: T; path: string } | { found: false; searched: string[] };

/** The folders searched, in order: `root` (else the working directory), the main script, core. */
export function resolutionBases(root?: string): Base[] {
  const bases: Base[] = [];
  if (root !== undefined) bases.push({ label: 'the app root', file: join(resolve(root), 'package.json') });
  else bases.push({ label: 'the working directory', file: join(process.cwd(), 'package.json') });
  if (process.argv[1]) bases.push({ label: 'the main script', file: resolve(process.argv[1]) });
  bases.push({ label: '@larder/core', file: fileURLToPath(import.meta.url) });
  const seen = new Set<string>();
  return bases.filter((base) => {
    const folder = dirname(base.file);
    if (seen.has(folder)) return false;
    seen.add(folder);
    return true;
  });
}

/**
 * Requires `specifier` from the first base that resolves it. Not found anywhere: where it looked.
 * Found but failing to load (a missing dependency of the package, say): that error is thrown.
 */
export function requireFromApp<T>(specifier: string, root?: string): Found<T> {
  const searched: string[] = [];
  for (const base of resolutionBases(root)) {
    const require = createRequire(base.file);
    let path: string;
    try {
      path = require.resolve(specifier);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      searched.push(`${base.label} (${dirname(base.file)})`);
      continue;
    }
    return { found: true, module: require(path) as T, path };
  }
  return { found: false, searched };
}

/** Not installed there (or installed without that entry point): look further. */
export function isNotFound(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
}
