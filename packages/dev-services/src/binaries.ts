import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { MissingBinaryError } from './errors';

const cache = new Map<string, string>();
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

/** Absolute path of `name` on PATH (plus the sbin dirs, where Debian puts saslpasswd2), or a MissingBinaryError. */
export function requireBinary(name: string): string {
  const hit = cache.get(name);
  if (hit) return hit;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      cache.set(name, candidate);
      return candidate;
    } catch {
      // not in this dir
    }
  }
  throw new MissingBinaryError(name);
}

/** True when `name` is installed. */
export function hasBinary(name: string): boolean {
  try {
    requireBinary(name);
    return true;
  } catch {
    return false;
  }
}
