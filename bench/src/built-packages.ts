/**
 * The bench measures the packages as an app installs them: `@larder/*` resolves to each package's
 * built `dist` (bench/tsconfig.json has no source `paths`). A source file newer than its package's
 * build would be measured stale, so the run stops and asks for `pnpm build`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('../../packages/', import.meta.url));

/** Newest modification time of the files under `dir` (0 if it does not exist). */
function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Names of the workspace packages whose `dist` is missing or older than their `src`. */
export function staleBuilds(): string[] {
  const stale: string[] = [];
  for (const name of readdirSync(packagesDir)) {
    const src = newest(path.join(packagesDir, name, 'src'));
    if (src === 0) continue;
    if (newest(path.join(packagesDir, name, 'dist')) < src) stale.push(`@larder/${name}`);
  }
  return stale;
}
