import { checkUrlUserinfo, type EnvReader, splitUrl } from '@larder/core/driver';

/**
 * Refuses a URL variable (or comma list) whose port is not 1-65535, naming the port. URL parsing
 * rejects the whole URL on a bad port, so the generic check would blame the scheme or host. The
 * URL is taken apart by parsing (after its userinfo is checked), never by a pattern: a pattern
 * read the password of `redis://app:pw@/0` as the port and printed it.
 */
export function checkUrlPorts(read: EnvReader, name: string): void {
  const value = read.string(name);
  if (value === undefined) return;
  for (const item of value.split(',')) {
    checkUrlUserinfo(item.trim(), name);
    const port = portOf(item.trim());
    if (port === undefined || port === '') continue;
    const number = Number(port);
    if (!/^\d+$/.test(port) || number < 1 || number > 65535) {
      throw read.invalid(name, value, `a port from 1 to 65535 after the host, got '${port}'`);
    }
  }
}

/** The port text of `scheme://[userinfo@]host:port/...` (undefined without one). */
function portOf(url: string): string | undefined {
  const rest = splitUrl(url)?.rest;
  if (rest === undefined) return undefined;
  let end = rest.length;
  for (const delimiter of ['/', '?', '#']) {
    const at = rest.indexOf(delimiter);
    if (at !== -1 && at < end) end = at;
  }
  const authority = rest.slice(0, end);
  const afterHost = authority.startsWith('[') ? authority.slice(authority.indexOf(']') + 1) : authority;
  const colon = afterHost.indexOf(':');
  return colon === -1 ? undefined : afterHost.slice(colon + 1);
}
