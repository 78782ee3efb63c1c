/**
 * Pure parser of ElastiCache auto-discovery answers (ASCII protocol):
 *
 * - `config get cluster` (engine ≥ 1.4.14):
 *   `CONFIG cluster <flags> <bytes>\r\n<version>\n<host|ip|port> <host|ip|port>...\n\r\nEND\r\n`
 * - `get AmazonElastiCache:cluster` (older engines):
 *   `VALUE AmazonElastiCache:cluster <flags> <bytes>\r\n<same payload>\r\nEND\r\n`, or `END\r\n` when absent.
 * - A plain memcached answers `ERROR\r\n` to `config get cluster`.
 *
 * The payload is exactly `<bytes>` long; an empty ip prints as `host||port`.
 */

/** One cache node as the configuration endpoint lists it. */
export interface ClusterNode {
  /** DNS name of the node. */
  host: string;
  /** IP address, or '' when the endpoint printed none. */
  ip: string;
  port: number;
}

/** A parsed cluster configuration. */
export interface ClusterConfig {
  /** Config version; increases with every topology change. */
  version: number;
  nodes: ClusterNode[];
}

/** The outcome of parsing what the endpoint sent so far. */
export type ConfigParseResult =
  | { kind: 'config'; config: ClusterConfig }
  /** `ERROR` (plain memcached) or `END` (legacy key absent): the endpoint does not speak the config protocol. */
  | { kind: 'not-a-config-endpoint'; answer: string }
  /** More bytes are needed. */
  | { kind: 'incomplete' };

/** The answer is malformed (truncated, wrong byte count, garbage). */
export class DiscoveryParseError extends Error {
  readonly code = 'E_DISCOVERY_PARSE';
  constructor(
    message: string,
    /** The start of the offending answer, for diagnostics. */
    readonly answer: string,
  ) {
    super(message);
    this.name = 'DiscoveryParseError';
  }
}

const CRLF = '\r\n';
const TRAILER = '\r\nEND\r\n';
const HEADER = /^(CONFIG cluster|VALUE AmazonElastiCache:cluster) (\d+) (\d+)$/;
const MAX_HEADER = 256;

/**
 * Parses an answer that may still be arriving: returns `incomplete` while it could still
 * become valid, throws `DiscoveryParseError` as soon as it cannot.
 */
export function parseConfigResponse(input: Uint8Array | string): ConfigParseResult {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : Buffer.from(input);
  const lineEnd = buf.indexOf(CRLF);
  if (lineEnd < 0) {
    const partial = buf.toString('latin1');
    const candidates = ['ERROR', 'END', 'CONFIG cluster ', 'VALUE AmazonElastiCache:cluster '];
    const couldBe = candidates.some((c) => c.startsWith(partial) || (partial.startsWith(c) && c.endsWith(' ')));
    if (buf.length > MAX_HEADER || !couldBe) fail('unexpected answer', partial);
    return { kind: 'incomplete' };
  }
  const line = buf.toString('latin1', 0, lineEnd);
  if (line === 'ERROR' || line === 'END') return { kind: 'not-a-config-endpoint', answer: line };
  if (line.startsWith('SERVER_ERROR') || line.startsWith('CLIENT_ERROR')) fail(`endpoint answered '${line}'`, line);
  const header = HEADER.exec(line);
  if (!header) fail('unexpected header line', line);
  const bytes = Number(header[3]);
  const start = lineEnd + 2;
  const end = start + bytes;
  if (buf.length < end + TRAILER.length) {
    // The answer already ended (END seen) yet is shorter than announced: the count is wrong.
    if (buf.toString('latin1', buf.length - 5) === 'END\r\n' && buf.length >= start + 5) {
      fail(`announced ${bytes} bytes but the answer ended after ${buf.length - start}`, line);
    }
    return { kind: 'incomplete' };
  }
  if (buf.toString('latin1', end, end + TRAILER.length) !== TRAILER) {
    fail(`payload is not ${bytes} bytes followed by END`, buf.toString('latin1', 0, Math.min(buf.length, 200)));
  }
  if (buf.length > end + TRAILER.length) fail('unexpected bytes after END', line);
  return { kind: 'config', config: parseConfigPayload(buf.toString('utf8', start, end)) };
}

/** Parses a complete answer; an incomplete one is reported as truncated. */
export function parseCompleteConfigResponse(input: Uint8Array | string): ConfigParseResult {
  const result = parseConfigResponse(input);
  if (result.kind === 'incomplete') {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
    fail('answer is truncated', text.slice(0, 200));
  }
  return result;
}

/** Parses `<version>\n<host|ip|port> ...\n`. */
export function parseConfigPayload(payload: string): ClusterConfig {
  const newline = payload.indexOf('\n');
  if (newline < 0) fail('payload has no version line', payload);
  const versionText = payload.slice(0, newline).trim();
  if (!/^\d+$/.test(versionText)) fail(`invalid config version '${versionText}'`, payload);
  const version = Number(versionText);
  const rest = payload.slice(newline + 1);
  if (!rest.endsWith('\n')) fail('node list does not end with a newline', payload);
  const tokens = rest.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0) fail('node list is empty', payload);
  const nodes = tokens.map((token) => parseNode(token, payload));
  return { version, nodes };
}

function parseNode(token: string, payload: string): ClusterNode {
  const parts = token.split('|');
  if (parts.length !== 3) fail(`invalid node '${token}' (expected host|ip|port)`, payload);
  const [host, ip, portText] = parts as [string, string, string];
  const port = Number(portText);
  if (!host || !/^\d+$/.test(portText) || port < 1 || port > 65_535) fail(`invalid node '${token}'`, payload);
  return { host, ip, port };
}

function fail(message: string, answer: string): never {
  throw new DiscoveryParseError(`Invalid ElastiCache discovery answer: ${message}`, answer);
}
