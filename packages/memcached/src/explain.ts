/**
 * The cause of a failure talking to memcached node `node` in words, with what to check, or
 * undefined when the error says enough. `variable` names where the node list comes from
 * (`MEMCACHED_SERVERS`, or `MEMCACHED_CONFIG_ENDPOINT` with auto-discovery).
 */
export function explainMemcachedError(error: unknown, node: string, variable: string): string | undefined {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (/authentication failed/i.test(message)) {
    return `memcached at ${node} refused the SASL credentials (authentication failed): check MEMCACHED_USERNAME and MEMCACHED_PASSWORD`;
  }
  switch (e.code) {
    case 'ECONNREFUSED':
      return `nothing is listening at ${node} (connection refused): is memcached running there? Check ${variable}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host of ${node} was not found (DNS ${e.code}): check ${variable}`;
    case 'ETIMEDOUT':
      return `connecting to ${node} timed out (ETIMEDOUT): is the host reachable from here (firewall, security group)?`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `memcached at ${node} closed the connection (${e.code}): MEMCACHED_TLS on one side only, or a restart?`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${node} cannot be reached (${e.code}): check the network path and ${variable}`;
  }
  if (/^connection to .* closed$/.test(message)) {
    return `memcached at ${node} closed the connection: MEMCACHED_TLS on one side only, or a restart?`;
  }
  return undefined;
}
