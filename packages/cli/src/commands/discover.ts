import { parseArgs } from 'node:util';
import { parseHostPort } from '@larder/core/driver';
import { DiscoveryPoller, type TopologyEvent } from '@larder/memcached';
import { type CliIo, describeError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, parseCommandArgs, printer } from '../options';

export const DISCOVER_HELP = `Usage: larder discover <host:port> [--timeout <ms>] [--json]

Asks an ElastiCache (memcached) configuration endpoint for its node list
('config get cluster', or 'get AmazonElastiCache:cluster' on engines before 1.4.14)
and prints the config version and the nodes.

Options:
  --timeout <ms>  give up after this long (default 3000)
  --json          print JSON
  -h, --help      show this help`;

/** Discovers the nodes behind one configuration endpoint, once. */
export async function discover(endpoint: { host: string; port: number }, timeoutMs: number): Promise<TopologyEvent> {
  const poller = new DiscoveryPoller(endpoint, {
    intervalMs: 3_600_000,
    retries: 2,
    timeoutMs,
    ignoreClusterErrors: false,
  });
  let topology: TopologyEvent | undefined;
  poller.on('topology', (event: TopologyEvent) => {
    topology = event;
  });
  try {
    await poller.start();
  } finally {
    poller.stop();
  }
  if (!topology) throw new Error(`no node list from ${endpoint.host}:${endpoint.port}`);
  return topology;
}

/** `larder discover <host:port>`. */
export async function discoverCommand(argv: string[], io: CliIo): Promise<number> {
  const { out, err } = printer(io);
  const parsed = parseCommandArgs(argv, parse, DISCOVER_HELP, io);
  if (typeof parsed === 'number') return parsed;
  const target = parsed.positionals[0] ?? io.env.MEMCACHED_CONFIG_ENDPOINT;
  const endpoint = target ? parseHostPort(target) : undefined;
  if (!endpoint) {
    err(
      target ? `Not a host:port endpoint: '${target}'` : 'Give the configuration endpoint: larder discover <host:port>',
    );
    return EXIT_USAGE;
  }
  const timeoutMs = Number(parsed.values.timeout ?? 3000);
  try {
    const topology = await discover(endpoint, timeoutMs);
    if (parsed.values.json) {
      out(JSON.stringify({ endpoint: `${endpoint.host}:${endpoint.port}`, ...topology }, null, 2));
    } else {
      out(
        `endpoint ${endpoint.host}:${endpoint.port} (${topology.source === 'legacy' ? 'engine < 1.4.14' : 'config get cluster'})`,
      );
      out(`config version ${topology.version}, ${topology.nodes.length} node(s)`);
      for (const node of topology.nodes) out(`  ${node.host} ${node.ip || '-'} ${node.port}`);
    }
    return EXIT_OK;
  } catch (error) {
    err(`discover failed: ${describeError(error)}`);
    return EXIT_FAILURE;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { timeout: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
}
