import type { EnvReader } from '@larder/core/driver';

// `host:port` after the scheme and optional `user:password@` (the last `@` before the path).
const PORT = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)/i;

/**
 * Refuses a URL variable (or comma list) whose port is not 1-65535, naming the port. URL parsing
 * rejects the whole URL on a bad port, so the generic check would blame the scheme or host.
 */
export function checkUrlPorts(read: EnvReader, name: string): void {
  const value = read.string(name);
  if (value === undefined) return;
  for (const item of value.split(',')) {
    const port = PORT.exec(item.trim())?.[1];
    if (port === undefined || port === '') continue;
    const number = Number(port);
    if (!/^\d+$/.test(port) || number < 1 || number > 65535) {
      throw read.invalid(name, value, `a port from 1 to 65535 after the host, got '${port}'`);
    }
  }
}
