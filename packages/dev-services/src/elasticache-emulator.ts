import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { findFreePort } from './ports';
import { waitFor } from './wait';

/** One cache node as ElastiCache lists it. */
export interface EmulatedNode {
  /** DNS name (printed first). */
  host: string;
  /** IP address; empty or omitted prints as `host||port`. */
  ip?: string;
  /** Port. */
  port: number;
}

/**
 * How the emulator answers:
 * - `elasticache`: engine >= 1.4.14, answers `config get cluster` (and the legacy key too);
 * - `legacy`: engine < 1.4.14, `config get cluster` -> `ERROR`, `get AmazonElastiCache:cluster` -> the list;
 * - `plain`: a plain memcached (not a configuration endpoint): `ERROR` / `END` (for IGNORE_CLUSTER_ERRORS tests);
 * - `silent`: accepts connections and reads, never answers (for discovery timeout tests).
 */
export type EmulatorMode = 'elasticache' | 'legacy' | 'plain' | 'silent';

/** Options of startElastiCacheEmulator. */
export interface ElastiCacheEmulatorOptions {
  /** The node list to announce. */
  nodes: readonly EmulatedNode[];
  /** Config version (default 1). */
  version?: number;
  /** Shorthand for mode 'legacy' (engine < 1.4.14). */
  legacy?: boolean;
  /** Answering mode (default 'elasticache', or 'legacy' when legacy is true). */
  mode?: EmulatorMode;
  /** Port (default: a free one in [20000, 30000)). */
  port?: number;
  /** Address to bind (default 127.0.0.1; docker-compose uses 0.0.0.0). */
  host?: string;
  /** What `version` answers (default 1.6.22, or 1.4.5 in legacy mode). */
  engineVersion?: string;
}

/** A running configuration-endpoint emulator. */
export interface ElastiCacheEmulator {
  /** Host clients connect to (127.0.0.1 unless bound elsewhere). */
  host: string;
  /** Listening port. */
  port: number;
  /** `host:port`, the MEMCACHED_CONFIG_ENDPOINT value. */
  endpoint: string;
  /** Current config version. */
  readonly version: number;
  /** Current node list. */
  readonly nodes: readonly EmulatedNode[];
  /** Current mode. */
  readonly mode: EmulatorMode;
  /** How many discovery requests (`config get cluster` or `get AmazonElastiCache:cluster`) were received. */
  readonly requests: number;
  /** Replaces the node list; the version is `version` if given, else the current one + 1. */
  setNodes(nodes: readonly EmulatedNode[], version?: number): void;
  /** Switches the answering mode at run time. */
  setMode(mode: EmulatorMode): void;
  /** Resolves once `requests` reaches `count` (default: one more than now). */
  waitForRequests(count?: number, timeoutMs?: number): Promise<number>;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
  /** Listens again on the same port after stop() (node list, version and request count are kept). */
  restart(): Promise<void>;
}

/** The discovery payload: `<version>\n<host|ip|port> <host|ip|port>...\n`. */
export function clusterConfigPayload(version: number, nodes: readonly EmulatedNode[]): string {
  return `${version}\n${nodes.map((n) => `${n.host}|${n.ip ?? ''}|${n.port}`).join(' ')}\n`;
}

/** The full `config get cluster` answer, with the byte count of the payload. */
export function configGetClusterResponse(version: number, nodes: readonly EmulatedNode[]): string {
  const payload = clusterConfigPayload(version, nodes);
  return `CONFIG cluster 0 ${Buffer.byteLength(payload)}\r\n${payload}\r\nEND\r\n`;
}

/** The full legacy `get AmazonElastiCache:cluster` answer. */
export function legacyGetClusterResponse(version: number, nodes: readonly EmulatedNode[]): string {
  const payload = clusterConfigPayload(version, nodes);
  return `VALUE AmazonElastiCache:cluster 0 ${Buffer.byteLength(payload)}\r\n${payload}\r\nEND\r\n`;
}

const LEGACY_KEY = 'AmazonElastiCache:cluster';

/** Starts a TCP server that answers ElastiCache auto-discovery like a memcached configuration endpoint. */
export async function startElastiCacheEmulator(options: ElastiCacheEmulatorOptions): Promise<ElastiCacheEmulator> {
  let nodes = [...options.nodes];
  let version = options.version ?? 1;
  let mode: EmulatorMode = options.mode ?? (options.legacy ? 'legacy' : 'elasticache');
  let requests = 0;
  const engineVersion = options.engineVersion ?? (mode === 'legacy' ? '1.4.5' : '1.6.22');
  const sockets = new Set<Socket>();

  const answer = (line: string): string | null => {
    const words = line.trim().split(/\s+/);
    const cmd = words[0]?.toLowerCase() ?? '';
    if (cmd === 'quit') return null;
    if (cmd === 'version') return `VERSION ${engineVersion}\r\n`;
    if (cmd === 'config' && words[1]?.toLowerCase() === 'get' && words[2] === 'cluster') {
      requests++;
      return mode === 'elasticache' ? configGetClusterResponse(version, nodes) : 'ERROR\r\n';
    }
    if (cmd === 'get' || cmd === 'gets') {
      if (words.length < 2) return 'ERROR\r\n';
      if (words.includes(LEGACY_KEY)) requests++;
      if (mode !== 'plain' && words[1] === LEGACY_KEY) return legacyGetClusterResponse(version, nodes);
      return 'END\r\n';
    }
    return 'ERROR\r\n';
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      if (mode === 'silent') return;
      pending += chunk.toString('latin1');
      let idx = pending.indexOf('\n');
      while (idx >= 0) {
        const line = pending.slice(0, idx).replace(/\r$/, '');
        pending = pending.slice(idx + 1);
        if (line.length > 0) {
          const reply = answer(line);
          if (reply === null) {
            socket.end();
            return;
          }
          socket.write(reply);
        }
        idx = pending.indexOf('\n');
      }
      if (pending.length > 2048) {
        socket.end('CLIENT_ERROR line too long\r\n');
      }
    });
  });

  const host = options.host ?? '127.0.0.1';
  const listen = async (port: number) => {
    server.listen({ port, host, exclusive: true });
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => {
        throw error;
      }),
    ]);
  };
  if (options.port !== undefined) {
    await listen(options.port);
  } else {
    for (let attempt = 1; ; attempt++) {
      try {
        await listen(await findFreePort());
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error;
      }
    }
  }
  server.unref();
  const port = (server.address() as { port: number }).port;
  const clientHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

  return {
    host: clientHost,
    port,
    endpoint: `${clientHost}:${port}`,
    get version() {
      return version;
    },
    get nodes() {
      return nodes;
    },
    get mode() {
      return mode;
    },
    get requests() {
      return requests;
    },
    setNodes(next, nextVersion) {
      nodes = [...next];
      version = nextVersion ?? version + 1;
    },
    setMode(next) {
      mode = next;
    },
    waitForRequests(count = requests + 1, timeoutMs = 15_000) {
      return waitFor(() => (requests >= count ? requests : false), {
        timeoutMs,
        intervalMs: 10,
        description: `${count} discovery requests on the ElastiCache emulator (got ${requests})`,
      });
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async restart() {
      if (server.listening) return;
      await listen(port);
      server.unref();
    },
  };
}
